package chainnode_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/internal/poll"
)

// cometValidators is the size of the validator set CometBFT uses at the
// node's latest height.
func cometValidators(t *testing.T, rpcURL string) int {
	t.Helper()
	c, err := cmthttp.New(rpcURL, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Validators(context.Background(), nil, nil, nil)
	if err != nil {
		return -1 // a node that is stopping: the caller polls again
	}
	return res.Total
}

// TestValidatorJoinsAndNetworkSurvives runs four validators on distinct
// loopback addresses (127.0.0.1-4, standing in for hosts), lets a fifth
// node (127.0.0.5) join from the genesis file and the peers list and sync
// to the network's height, makes it a validator by a join_validator
// transaction, then stops one of the original four. With the fifth
// counted, the three left hold 30 of 40 live power out of 50: blocks keep
// committing only if the fifth really signs.
func TestValidatorJoinsAndNetworkSurvives(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the 5-node network")
	}
	ctx := timeout(t, 150*time.Second)
	began := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(began).Seconds(), what) }
	nc := chainnode.DefaultNodeConfig()
	nc.TimeoutCommit = chainnode.Duration(100 * time.Millisecond)
	nc.TimeoutPropose = chainnode.Duration(400 * time.Millisecond)
	dir := t.TempDir()
	homes, nodes, peers := startTestnet(t, ctx, dir, nc, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"})
	step("four validators at height 2")

	// The fifth: a home made from the genesis file and the peers alone.
	genesis, err := chainnode.ReadGenesis(homes[0])
	if err != nil {
		t.Fatal(err)
	}
	jc := nc
	jc.Moniker = "joiner"
	jc.P2PListen = fmt.Sprintf("127.0.0.5:%d", freePort(t, "127.0.0.5"))
	jc.RPCListen = "127.0.0.5:0"
	home5 := filepath.Join(dir, "joiner")
	if err := chainnode.InitJoin(home5, chainnode.JoinOptions{Genesis: genesis, Peers: peers, Node: jc}); err != nil {
		t.Fatal(err)
	}
	n5 := startNode(t, home5)
	target := nodes[0].Height() + 3
	if err := n5.WaitForHeight(ctx, target); err != nil {
		t.Fatalf("joining node did not sync to %d: %v", target, err)
	}
	step(fmt.Sprintf("joining node synced to %d", target))

	c := client(t, nodes[1].RPCURL())
	eve := dev("eve")
	call, err := chainnode.JoinValidatorCall(home5, "cairn-testnet", eve.Account(), 10*wire.ValidatorPowerUnit)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Submit(ctx, eve, call)
	if err != nil {
		t.Fatalf("join_validator: %v", err)
	}
	vals, err := c.Validators(ctx)
	if err != nil || len(vals) != 5 {
		t.Fatalf("validators after the join: %+v %v", vals, err)
	}
	poll.True(t, 60*time.Second, "CometBFT's set counts the fifth", func() bool { return cometValidators(t, n5.RPCURL()) == 5 })
	step(fmt.Sprintf("fifth validator joined at %d", res.Height))

	if err := nodes[0].Stop(); err != nil {
		t.Fatal(err)
	}
	step("node0 stopped")
	h := nodes[1].Height()
	if err := nodes[1].WaitForHeight(ctx, h+5); err != nil {
		t.Fatalf("3 of the first 4 and the fifth stopped committing: %v", err)
	}
	// Submit returns once its node's state answers queries: read there.
	c5 := client(t, n5.RPCURL())
	res, err = c5.Submit(ctx, dev("alice"), wire.Transfer{To: dev("bob").Account(), Amount: 3})
	if err != nil {
		t.Fatalf("a tx with node0 down: %v", err)
	}
	acc, err := c5.Account(ctx, dev("bob").Account())
	if err != nil || acc.Balance != chain.DevBalance+3 {
		t.Fatalf("bob %+v %v", acc, err)
	}
	step(fmt.Sprintf("five blocks and a tx (height %d) without node0", res.Height))
}

// startTestnet lays out and starts validators on hosts, and returns their
// homes, nodes and peer list once each has committed height 2.
func startTestnet(t *testing.T, ctx context.Context, dir string, nc chainnode.NodeConfig, hosts []string) ([]string, []*chainnode.Node, string) {
	homes, err := chainnode.Testnet(len(hosts), filepath.Join(dir, "net"), chainnode.TestnetOptions{
		InitOptions: chainnode.InitOptions{ChainID: "cairn-testnet", Node: nc}, FreePorts: true, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*chainnode.Node
	var peers []string
	for _, h := range homes {
		nodes = append(nodes, startNode(t, h))
		p, err := chainnode.PeerAddress(h)
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, p)
	}
	for i, n := range nodes {
		if err := n.WaitForHeight(ctx, 2); err != nil {
			t.Fatalf("node%d: %v", i, err)
		}
	}
	return homes, nodes, strings.Join(peers, ",")
}

func startNode(t *testing.T, home string) *chainnode.Node {
	n, err := chainnode.Start(chainnode.Config{Home: home})
	if err != nil {
		t.Fatalf("start %s: %v", home, err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

func client(t *testing.T, url string) *chainclient.Client {
	c, err := chainclient.New(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func freePort(t *testing.T, host string) int {
	p, err := chainnode.FreePort(host)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
