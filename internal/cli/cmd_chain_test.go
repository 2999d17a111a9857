package cli

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// TestChainRunDev runs a dev validator as `cairn chain run --dev` does,
// asks its status, stops it as SIGINT would, and resumes it from its home.
func TestChainRunDev(t *testing.T) {
	home := filepath.Join(t.TempDir(), "chain")
	g := &Globals{Stdout: io.Discard, Stderr: io.Discard}
	run := func() ChainReady {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		readyc := make(chan ChainReady, 1)
		done := make(chan error, 1)
		go func() {
			done <- runChain(ctx, g, ChainRunOptions{Home: home, Dev: true, RPC: "127.0.0.1:0", BlockTime: 50 * time.Millisecond},
				func(r ChainReady) { readyc <- r })
		}()
		var r ChainReady
		select {
		case r = <-readyc:
		case err := <-done:
			t.Fatalf("chain run ended before ready: %v", err)
		}
		st, err := runChainStatus(ctx, r.RPC)
		if err != nil || st.ChainID != "cairn-dev" || st.Height < r.Height {
			t.Fatalf("status %+v %v (ready %+v)", st, err, r)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("chain run: %v", err)
		}
		return r
	}
	first := run()
	second := run()
	if second.Height <= first.Height {
		t.Fatalf("restart from %s began at height %d, first run was ready at %d", home, second.Height, first.Height)
	}
	if _, err := runChainTestnet(ChainTestnetOptions{Validators: 3, Out: home, BasePort: 30000, ChainID: "x", BlockTime: time.Second}); err != nil {
		t.Fatalf("testnet into a dir holding a home: %v", err) // node0.. are new subdirectories
	}
}

func TestChainRunNeedsHome(t *testing.T) {
	g := &Globals{Stdout: io.Discard, Stderr: io.Discard}
	err := runChain(context.Background(), g, ChainRunOptions{Home: t.TempDir()}, func(ChainReady) {})
	if ExitCode(err) != ExitNotFound {
		t.Fatalf("run without --dev on an empty dir: %v (exit %d)", err, ExitCode(err))
	}
}

func TestChainTestnetLayout(t *testing.T) {
	out, err := runChainTestnet(ChainTestnetOptions{Validators: 4, Out: t.TempDir(), BasePort: 31000, ChainID: "cairn-testnet", BlockTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Nodes) != 4 || out.Nodes[3].RPC != "http://127.0.0.1:31007" || out.Nodes[2].P2P != "127.0.0.1:31004" {
		t.Fatalf("layout %+v", out)
	}
	if _, err := runChainTestnet(ChainTestnetOptions{Validators: 0, Out: "x"}); ExitCode(err) != ExitUsage {
		t.Fatalf("0 validators: %v", err)
	}
}
