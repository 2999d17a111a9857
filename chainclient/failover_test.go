package chainclient_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

func TestParseEndpoints(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		kind core.Kind
	}{
		{"http://a:1", []string{"http://a:1"}, core.Other},
		{"a:1, tcp://b:2 ,https://c:3/", []string{"http://a:1", "http://b:2", "https://c:3"}, core.Other},
		{"a:1,a:1,http://a:1", []string{"http://a:1"}, core.Other},
		{"a:1,,b:2,", []string{"http://a:1", "http://b:2"}, core.Other},
		{"", nil, core.Invalid},
		{" , ", nil, core.Invalid},
		{"a:1,ftp://b:2", nil, core.Invalid},
		{"a:1,http://", nil, core.Invalid},
	} {
		got, err := chainclient.ParseEndpoints(c.in)
		if c.kind != core.Other {
			if core.KindOf(err) != c.kind {
				t.Errorf("%q: %v, want %v", c.in, err, c.kind)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
		}
	}
}

// deadURL is an RPC address nothing listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// A client whose first endpoint is down answers through the second and
// stays there; a node's own refusal (an RPC error: no such block) is an
// answer, not a reason to move.
func TestFailoverFromDeadEndpoint(t *testing.T) {
	n := chaintest.Start(t)
	dead := deadURL(t)
	c, err := chainclient.New(dead+","+n.RPCURL(), chainclient.WithRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := timeout(t, 30*time.Second)
	if got := c.Endpoints(); len(got) != 2 || got[0] != dead {
		t.Fatalf("endpoints %q", got)
	}
	acc, err := c.Account(ctx, dev("alice").Account())
	if err != nil || acc.Balance != chain.DevBalance {
		t.Fatalf("account through the second endpoint: %+v %v", acc, err)
	}
	if c.URL() != n.RPCURL() {
		t.Fatalf("talks to %s, want %s", c.URL(), n.RPCURL())
	}
	if _, err := c.BlockHash(ctx, 1<<40); err == nil {
		t.Fatal("a block far ahead has a hash")
	}
	if c.URL() != n.RPCURL() {
		t.Fatalf("a node's refusal moved the client to %s", c.URL())
	}
	all, err := chainclient.New(dead + "," + deadURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if _, err := all.Height(ctx); core.KindOf(err) != core.Unavailable {
		t.Fatalf("no endpoint up: %v, want unavailable", err)
	}
}

// TestFailoverWhenNodeStops: a validator and a full node that joined it;
// a client of both talks to the full node, which stops. Queries,
// submissions and the block stream carry on through the validator.
func TestFailoverWhenNodeStops(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the two-node network")
	}
	ctx := timeout(t, 90*time.Second)
	port, err := chainnode.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	vhome := filepath.Join(t.TempDir(), "validator")
	nc := chainnode.DefaultNodeConfig()
	nc.RPCListen, nc.P2PListen = "127.0.0.1:0", fmt.Sprintf("127.0.0.1:%d", port)
	// A full node follows a validator's blocks by gossip, a few a second
	// on a busy machine: blocks of 50 ms would leave it behind.
	const blockTime = 300 * time.Millisecond
	nc.TimeoutCommit = chainnode.Duration(blockTime)
	if err := chainnode.Init(vhome, chainnode.InitOptions{Node: nc}); err != nil {
		t.Fatal(err)
	}
	val := chaintest.Start(t, chaintest.Options{Home: vhome, TimeoutCommit: blockTime})
	genesis, err := chainnode.ReadGenesis(vhome)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := chainnode.PeerAddress(vhome)
	if err != nil {
		t.Fatal(err)
	}
	fhome := filepath.Join(t.TempDir(), "full")
	fc := nc
	fc.P2PListen = "127.0.0.1:0"
	// A node that proposes nothing need not pause after a commit.
	fc.TimeoutCommit = chainnode.Duration(10 * time.Millisecond)
	if err := chainnode.InitJoin(fhome, chainnode.JoinOptions{Genesis: genesis, Peers: peer, Node: fc}); err != nil {
		t.Fatal(err)
	}
	full := chaintest.Start(t, chaintest.Options{Home: fhome, TimeoutCommit: time.Duration(fc.TimeoutCommit)})
	if err := full.WaitForHeight(ctx, val.Height()+1); err != nil {
		t.Fatalf("the full node does not follow the validator: %v", err)
	}

	c, err := chainclient.New(full.RPCURL()+","+val.RPCURL(), chainclient.WithRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	blocks, err := c.SubscribeBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bob := dev("bob").Account()
	if _, err := c.Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 1}); err != nil {
		t.Fatal(err)
	}
	if c.URL() != full.RPCURL() {
		t.Fatalf("talks to %s before the stop, want the full node %s", c.URL(), full.RPCURL())
	}
	if err := full.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := full.Height()
	if _, err := c.Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 2}); err != nil {
		t.Fatalf("submit after the stop: %v", err)
	}
	acc, err := c.Account(ctx, bob)
	if err != nil || acc.Balance != chain.DevBalance+3 {
		t.Fatalf("bob after the stop: %+v %v", acc, err)
	}
	if c.URL() != val.RPCURL() {
		t.Fatalf("talks to %s after the stop, want the validator %s", c.URL(), val.RPCURL())
	}
	for h := range blocks {
		if h > stopped+3 {
			return // the stream went on past the stopped node's height
		}
	}
	t.Fatalf("block stream ended: %v", context.Cause(ctx))
}
