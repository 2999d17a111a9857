package chainnode_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/gorilla/websocket"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

func dev(name string) core.PrivateKey {
	k, _ := core.DevKey(name)
	return k
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// headerAppHash reads the app hash recorded in block h's header (the
// state after block h-1).
func headerAppHash(t *testing.T, rpcURL string, h int64) []byte {
	t.Helper()
	c, err := cmthttp.New(rpcURL, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Block(context.Background(), &h)
	if err != nil {
		t.Fatalf("block %d: %v", h, err)
	}
	return b.Block.AppHash
}

// TestRestartPersistence stops a validator and starts it again from its
// home: same state, and the app hash it had at the stop is the one
// CometBFT records for that height.
func TestRestartPersistence(t *testing.T) {
	home := t.TempDir()
	n := chaintest.Start(t, chaintest.Options{Home: home})
	c := chaintest.Client(t, n)
	ctx := timeout(t, 60*time.Second)
	bob := dev("bob").Account()
	if _, err := c.Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 42}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Submit(ctx, dev("charlie"), wire.CreateBucket{Quorum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	height, hash := n.App().Height(), n.App().AppHash()
	if height < res.Height {
		t.Fatalf("stopped at %d, before the tx's block %d", height, res.Height)
	}

	n2 := chaintest.Start(t, chaintest.Options{Home: home})
	if n2.ChainID() != chain.DevChainID {
		t.Fatalf("chain id %q", n2.ChainID())
	}
	c2 := chaintest.Client(t, n2)
	if err := n2.WaitForHeight(ctx, height+2); err != nil {
		t.Fatal(err)
	}
	if got := headerAppHash(t, n2.RPCURL(), height+1); !bytes.Equal(got, hash) {
		t.Fatalf("block %d records app hash %X, the app had %X at the stop", height+1, got, hash)
	}
	acc, err := c2.Account(ctx, bob)
	if err != nil || acc.Balance != chain.DevBalance+42 {
		t.Fatalf("bob after restart: %+v %v", acc, err)
	}
	b, err := c2.Bucket(ctx, 1)
	if err != nil || b.Owner != dev("charlie").Account() {
		t.Fatalf("bucket after restart: %+v %v", b, err)
	}
	// The nonce carries on: alice's next transaction is accepted.
	if _, err := c2.Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 1}); err != nil {
		t.Fatal(err)
	}
	if a, _ := c2.Account(ctx, dev("alice").Account()); a.Nonce != 2 {
		t.Fatalf("alice nonce %d, want 2", a.Nonce)
	}
}

// TestTestnetSurvivesStoppedValidator runs four validators on loopback:
// with one stopped the other three keep committing, and the stopped one
// catches up after a restart.
func TestTestnetSurvivesStoppedValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the 4-validator network")
	}
	ctx := timeout(t, 120*time.Second)
	began := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(began).Seconds(), what) }
	nc := chainnode.DefaultNodeConfig()
	nc.TimeoutCommit = chainnode.Duration(100 * time.Millisecond)
	nc.TimeoutPropose = chainnode.Duration(400 * time.Millisecond)
	homes, err := chainnode.Testnet(4, filepath.Join(t.TempDir(), "net"), chainnode.TestnetOptions{
		InitOptions: chainnode.InitOptions{ChainID: "cairn-testnet", Node: nc}, FreePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*chainnode.Node, 4)
	for i, h := range homes {
		n, err := chainnode.Start(chainnode.Config{Home: h})
		if err != nil {
			t.Fatalf("start node%d: %v", i, err)
		}
		nodes[i] = n
		t.Cleanup(func() { nodes[i].Stop() })
	}
	for i, n := range nodes {
		if err := n.WaitForHeight(ctx, 2); err != nil {
			t.Fatalf("node%d: %v", i, err)
		}
	}
	step("all four at height 2")
	client := func(n *chainnode.Node) *chainclient.Client {
		c, err := chainclient.New(n.RPCURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	bob := dev("bob").Account()
	if _, err := client(nodes[0]).Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 1}); err != nil {
		t.Fatal(err)
	}

	step("tx committed")
	if err := nodes[3].Stop(); err != nil {
		t.Fatal(err)
	}
	step("node3 stopped")
	stoppedAt := nodes[3].App().Height()
	h0 := nodes[0].Height()
	if err := nodes[0].WaitForHeight(ctx, h0+6); err != nil {
		t.Fatalf("three of four validators stopped committing: %v", err)
	}
	step("six more blocks without node3")
	res, err := client(nodes[1]).Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 2})
	if err != nil {
		t.Fatalf("submit with a validator down: %v", err)
	}

	n3, err := chainnode.Start(chainnode.Config{Home: homes[3]})
	if err != nil {
		t.Fatalf("restart node3: %v", err)
	}
	nodes[3] = n3
	target := nodes[0].Height() + 2
	if err := n3.WaitForHeight(ctx, target); err != nil {
		t.Fatalf("node3 (stopped at %d) did not catch up to %d: %v", stoppedAt, target, err)
	}
	step("node3 caught up")
	c3 := client(n3)
	acc, err := c3.Account(ctx, bob)
	if err != nil || acc.Balance != chain.DevBalance+3 {
		t.Fatalf("bob on node3: %+v %v", acc, err)
	}
	if a, b := headerAppHash(t, n3.RPCURL(), res.Height+1), headerAppHash(t, nodes[0].RPCURL(), res.Height+1); !bytes.Equal(a, b) {
		t.Fatalf("app hash at %d: node3 %X, node0 %X", res.Height, a, b)
	}
	t.Logf("node3 stopped at %d, caught up to %d; tx with it down committed at %d", stoppedAt, n3.Height(), res.Height)
}

func TestInitTwiceRefused(t *testing.T) {
	dir := t.TempDir()
	if err := chainnode.Init(dir, chainnode.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := chainnode.Init(dir, chainnode.InitOptions{}); core.KindOf(err) != core.Exists {
		t.Fatalf("second Init: %v", err)
	}
	if _, err := chainnode.ReadNodeConfig(t.TempDir()); core.KindOf(err) != core.NotFound {
		t.Fatalf("ReadNodeConfig of an empty dir: %v", err)
	}
	nc, err := chainnode.ReadNodeConfig(dir)
	if err != nil || nc != chainnode.DefaultNodeConfig() {
		t.Fatalf("config %+v %v", nc, err)
	}
}

// Stop closes the RPC server's websocket connections too (hijacked, so
// http.Server.Close leaves them), so subscribers notice a stopped node at
// once instead of at their next ping.
func TestStopClosesWebsockets(t *testing.T) {
	n := chaintest.Start(t)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(n.RPCURL(), "http://", "ws://", 1)+"/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue // a message sent before the stop
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("websocket still open 10 s after Stop")
		}
		return
	}
}
