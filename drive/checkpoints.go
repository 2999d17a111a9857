package drive

import (
	"context"

	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// Checkpointer is the checkpoint side as the drive uses it, and all of it:
// *checkpoint.Manager fits. Discovery, health and the threshold come from
// the providers.Pool; status, loops and events belong to whoever wires the
// manager (the CLI).
type Checkpointer interface {
	// SetPendingRoot records the drive root that the next checkpoint of the
	// bucket must carry on chain (and marks the bucket dirty).
	SetPendingRoot(bucket core.BucketID, pr checkpoint.PendingRoot) error
	// PendingRootOf returns the drive root waiting for a checkpoint, if any.
	PendingRootOf(bucket core.BucketID) (checkpoint.PendingRoot, bool)
	// SubmitCheckpoint checkpoints the bucket now; the Result is never nil.
	SubmitCheckpoint(ctx context.Context, bucket core.BucketID) *checkpoint.Result
}

// CommitChanges checkpoints the drive now (the Manual strategy's commit;
// any strategy may call it). The result's Err() is nil only if submitted.
func (c *Client) CommitChanges(ctx context.Context, ref string) (*checkpoint.Result, error) {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	return c.cp.SubmitCheckpoint(ctx, d.Bucket), nil
}
