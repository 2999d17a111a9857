package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/ui"
	"github.com/cairn-storage/cairn/internal/poll"
)

// TestRealNetwork wires the dashboard to a real chain client and
// Checkpoint Manager (the interfaces as the CLI fills them) on a network
// of three providers: a committed drive shows with its providers agreeing
// and its checkpoint timed; a stopped provider turns at risk.
func TestRealNetwork(t *testing.T) {
	n := devnettest.Start(t, 3)
	fs, mgr := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	ctx := t.Context()
	d, err := fs.CreateDrive(ctx, drive.CreateDriveOptions{Name: "docs", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.UploadFile(ctx, "docs", "/a.txt", strings.NewReader("hello"), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := fs.CommitChanges(ctx, "docs")
	if err != nil || res.Err() != nil {
		t.Fatalf("commit: %v %v", err, res.Err())
	}
	alice, _ := core.DevKey("alice")
	cc := n.Chain()
	s, err := ui.New(ui.Sources{Owner: alice.Account(), Drives: cc, Buckets: cc, Chain: cc, Blocks: cc, Probe: mgr, Status: mgr, Events: mgr}, ui.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	refresh := func() ui.DriveView {
		t.Helper()
		s.Probe(ctx)
		if err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		snap, _ := s.Snapshot()
		if len(snap.Drives) != 1 {
			t.Fatalf("%d drives, want 1", len(snap.Drives))
		}
		return snap.Drives[0]
	}
	if err := s.Refresh(ctx); err != nil { // the first refresh names the buckets to probe
		t.Fatal(err)
	}
	v := refresh()
	if v.Name != "docs" || v.Bucket != d.Bucket || v.Latest == nil || v.Latest.Height != res.Height || v.Latest.QuorumMS == nil || v.Pending {
		t.Fatalf("drive view %+v, want docs with the checkpoint at %d timed", v, res.Height)
	}
	if len(v.Providers) != 3 || v.AtRisk != 0 {
		t.Fatalf("providers %+v, want 3 none at risk", v.Providers)
	}
	// Collection stops at quorum: a provider still answering then is
	// "late", not held against it.
	agree := 0
	for _, p := range v.Providers {
		switch {
		case p.Status != "healthy" || p.Stake == 0 || p.AtRisk:
			t.Errorf("provider %+v, want healthy, staked, not at risk", p)
		case p.Class == "agrees" && p.Leaves != nil && *p.Leaves == v.Latest.LeafCount:
			agree++
		case p.Class != "late":
			t.Errorf("provider %+v, want agreeing at %d leaves or late", p, v.Latest.LeafCount)
		}
	}
	if agree < 2 {
		t.Errorf("%d providers agree, want at least the quorum of 2", agree)
	}

	if err := n.StopProvider(0); err != nil {
		t.Fatal(err)
	}
	stopped := n.Manifest().Providers[0].Account
	poll.True(t, time.Minute, "the stopped provider at risk", func() bool {
		for _, p := range refresh().Providers {
			if p.Account == stopped && p.AtRisk && p.Risks[0].Reason == ui.RiskFailing && p.Class == "no_answer" {
				return true
			}
		}
		return false
	})
}
