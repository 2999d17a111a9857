package drive_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// A drive whose bucket needs all three providers on chain (quorum 3, above
// the client's 51 % rule of 2): with one provider down an upload is not
// acknowledged on the two that remain, and a commit reports no quorum
// (3 required) instead of sending a checkpoint the chain must refuse.
func TestBucketQuorumAboveMajority(t *testing.T) {
	n := startNet(t)
	c := newClient(t, n, clientOpts{})
	ctx := context.Background()
	info, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "q", Quorum: 3, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Quorum != 3 || len(info.Providers) != 3 {
		t.Fatalf("drive %+v, want quorum 3 of 3 providers", info)
	}
	if _, err := c.UploadFile(ctx, "q", "/all.txt", strings.NewReader("all three up"), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.CommitChanges(ctx, "q"); r.Kind != checkpoint.Submitted || len(r.Signers) != 3 || r.Required != 3 {
		t.Fatalf("commit with all up: %s, %d signers, %d required (%v)", r.Kind, len(r.Signers), r.Required, r.Err())
	}

	if err := n.StopProvider(2); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadFile(ctx, "q", "/two.txt", strings.NewReader("two of three up"), drive.UploadOptions{})
	if !errors.Is(err, core.NoQuorum) {
		t.Fatalf("upload with 2 of 3 providers on a quorum-3 bucket: %v, want no_quorum", err)
	}
	r, err := c.CommitChanges(ctx, "q")
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != checkpoint.InsufficientConsensus || r.Required != 3 || !errors.Is(r.Err(), core.NoQuorum) {
		t.Fatalf("commit with 2 of 3: %s required %d (%v), want insufficient_consensus with 3 required", r.Kind, r.Required, r.Err())
	}
}
