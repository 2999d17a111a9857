package ui

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// DriveLister lists the drives an account owns (chainclient.Client).
type DriveLister interface {
	DrivesByOwner(ctx context.Context, owner core.AccountID) ([]wire.Drive, error)
}

// BucketReader reads a bucket's chain state (chainclient.Client): the
// bucket (NotFound if none), its agreements, and its checkpoints oldest
// first.
type BucketReader interface {
	Bucket(ctx context.Context, b core.BucketID) (wire.Bucket, error)
	BucketAgreements(ctx context.Context, b core.BucketID) ([]wire.Agreement, error)
	CheckpointHistory(ctx context.Context, b core.BucketID) ([]wire.Checkpoint, error)
}

// Registry reads the registered providers and the challenges
// (chainclient.Client).
type Registry interface {
	Providers(ctx context.Context) ([]wire.Provider, error)
	Challenges(ctx context.Context, f wire.ChallengeFilter) ([]wire.Challenge, error)
}

// BlockSource gives the chain's height and a stream of new heights
// (chainclient.Client; checkpoint.BlockSource plus Height).
type BlockSource interface {
	Height(ctx context.Context) (int64, error)
	SubscribeBlocks(ctx context.Context) (<-chan int64, error)
}

// Prober asks a bucket's primaries for their health and their signed
// commitments, recording the outcomes in the pool's health records, and
// classifies the disagreeing ones without recording the conflicts
// (checkpoint.Manager: watching must not change what the manager does).
// Collection stops at quorum; the stragglers are reported unreachable or
// cancelled.
type Prober interface {
	CheckHealth(ctx context.Context, bucket core.BucketID) ([]providers.Ranked, error)
	ObserveConflicts(ctx context.Context, bucket core.BucketID) (*checkpoint.CommitmentCollection, *checkpoint.ProviderConflict, error)
}

// CheckpointStatus is what the Checkpoint Manager knows of a bucket
// (checkpoint.Manager): whether it has changes not yet checkpointed, and
// its last attempt's result.
type CheckpointStatus interface {
	IsDirty(bucket core.BucketID) bool
	LastResult(bucket core.BucketID) (*checkpoint.Result, bool)
}

// EventSource is the Checkpoint Manager's event stream
// (checkpoint.Manager.Subscribe): a slow reader loses events, never stalls
// the manager.
type EventSource interface {
	Subscribe(buffer int) (<-chan checkpoint.Event, func())
}

// Sources are what the dashboard reads. Owner's drives are shown.
type Sources struct {
	Owner   core.AccountID
	Drives  DriveLister
	Buckets BucketReader
	Chain   Registry
	Blocks  BlockSource
	Probe   Prober
	Status  CheckpointStatus
	Events  EventSource
}

func (s Sources) validate() error {
	if s.Drives == nil || s.Buckets == nil || s.Chain == nil || s.Blocks == nil || s.Probe == nil || s.Status == nil || s.Events == nil {
		return core.Errorf("ui.New", core.Invalid, "every source must be set")
	}
	return nil
}
