// Package chaintest starts real in-process chain nodes for other packages'
// tests: a single CometBFT validator with the chain application, RPC on a
// free loopback port, state in t.TempDir(), stopped in t.Cleanup.
package chaintest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
)

// Options adjust a test node. The zero value is a dev chain (chain id
// cairn-dev, dev accounts funded, default parameters) with 50 ms blocks.
type Options struct {
	ChainID       string
	Genesis       *chain.Genesis
	TimeoutCommit time.Duration // default 50 ms
	// Home reuses a home directory (to restart a node in a test); ""
	// makes a fresh one under t.TempDir().
	Home string
	// RPCListen overrides the RPC address (to restart a node on the port
	// its clients know); default 127.0.0.1:0.
	RPCListen string
	// Verbose sends CometBFT's info logs to stderr.
	Verbose bool
}

// Start starts a node, waits for its first block and stops it when the
// test ends.
func Start(t testing.TB, opts ...Options) *chainnode.Node {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.TimeoutCommit == 0 {
		o.TimeoutCommit = 50 * time.Millisecond
	}
	home := o.Home
	if home == "" {
		home = t.TempDir()
	}
	if !chainnode.IsHome(home) {
		io := chainnode.InitOptions{ChainID: o.ChainID, Node: chainnode.DefaultNodeConfig()}
		if o.Genesis != nil {
			io.Genesis = *o.Genesis
		}
		io.Node.RPCListen = "127.0.0.1:0"
		io.Node.P2PListen = "127.0.0.1:0"
		io.Node.TimeoutCommit = chainnode.Duration(o.TimeoutCommit)
		if err := chainnode.Init(home, io); err != nil {
			t.Fatalf("chaintest: init: %v", err)
		}
	}
	cfg := chainnode.Config{Home: home, TimeoutCommit: o.TimeoutCommit, RPCListen: o.RPCListen}
	if o.Verbose {
		cfg.CometLog, cfg.CometLogLevel = os.Stderr, "info"
	}
	n, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatalf("chaintest: start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("chaintest: stop: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.WaitForHeight(ctx, n.Height()+1); err != nil {
		t.Fatalf("chaintest: no block: %v", err)
	}
	return n
}

// Client returns a client of n, closed when the test ends.
func Client(t testing.TB, n *chainnode.Node, opts ...chainclient.Option) *chainclient.Client {
	t.Helper()
	c, err := chainclient.New(n.RPCURL(), opts...)
	if err != nil {
		t.Fatalf("chaintest: client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
