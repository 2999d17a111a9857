package cli

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// checkpointStatus is a drive's checkpoint state: last checkpoint, pending
// changes, provider health (`cairn checkpoint status`).
type checkpointStatus struct {
	checkpoint.BucketCheckpointStatus
	Drive    core.DriveID        `json:"drive"`
	Strategy wire.CommitStrategy `json:"strategy"`
	RootCID  string              `json:"root_cid"` // on chain
	Auto     bool                `json:"auto_checkpoints"`
}

// checkpointStatus reports the drive's checkpoint state from the chain, the
// manager and the pool.
func (s *clientStack) checkpointStatus(ctx context.Context, ref string) (*checkpointStatus, error) {
	d, err := s.FS.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	st := &checkpointStatus{Drive: d.ID, Strategy: d.Strategy, RootCID: d.RootCID}
	st.Bucket = d.Bucket
	if cp, err := s.Chain.LatestCheckpoint(ctx, d.Bucket); err == nil {
		st.LastCheckpoint = &cp
		st.LastCheckpointHeight = cp.Height
	} else if core.KindOf(err) != core.NotFound {
		return nil, err
	}
	st.HasPendingChanges = s.Mgr.IsDirty(d.Bucket)
	if pr, ok := s.Mgr.PendingRootOf(d.Bucket); ok {
		st.PendingRoot = &pr
	}
	st.LastResult, _ = s.Mgr.LastResult(d.Bucket)
	st.ProviderHealth, _ = s.Pool.ByHealth(ctx, d.Bucket)
	s.mu.Lock()
	_, st.Auto = s.auto[d.Bucket]
	s.mu.Unlock()
	return st, nil
}

// enableAutoCheckpoints starts the manager's loop for the drive's bucket,
// ticking on blocks from src: every `interval` blocks (0: the drive's
// Batched interval, else 1) it checkpoints the bucket if it has changes.
// Close stops it.
func (s *clientStack) enableAutoCheckpoints(ctx context.Context, ref string, src checkpoint.BlockSource, interval uint64) error {
	d, err := s.FS.ResolveDrive(ctx, ref)
	if err != nil {
		return err
	}
	if interval == 0 {
		interval = max(d.Strategy.Interval, 1)
	}
	s.mu.Lock()
	_, running := s.auto[d.Bucket]
	s.mu.Unlock()
	if running {
		return nil
	}
	cfg := checkpoint.DefaultLoopConfig()
	cfg.IntervalBlocks = interval
	h, err := s.Mgr.StartLoop(context.WithoutCancel(ctx), cfg, src, d.Bucket)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auto == nil {
		s.auto = map[core.BucketID]*checkpoint.LoopHandle{}
	}
	s.auto[d.Bucket] = h
	return nil
}
