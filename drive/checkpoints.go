package drive

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// CommitChanges checkpoints the drive now (the Manual strategy's commit;
// any strategy may call it). The result's Err() is nil only if submitted.
func (c *Client) CommitChanges(ctx context.Context, ref string) (*checkpoint.Result, error) {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	return c.mgr.SubmitCheckpoint(ctx, d.Bucket), nil
}

// CheckpointStatus is the drive's checkpoint state: last checkpoint,
// pending changes, provider health.
type CheckpointStatus struct {
	checkpoint.BucketCheckpointStatus
	Drive    core.DriveID        `json:"drive"`
	Strategy wire.CommitStrategy `json:"strategy"`
	RootCID  string              `json:"root_cid"` // on chain
	Auto     bool                `json:"auto_checkpoints"`
}

// CheckpointStatus reports the drive's checkpoint state.
func (c *Client) CheckpointStatus(ctx context.Context, ref string) (*CheckpointStatus, error) {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	st := &CheckpointStatus{Drive: d.ID, Strategy: d.Strategy, RootCID: d.RootCID}
	st.Bucket = d.Bucket
	if cp, err := c.chain.LatestCheckpoint(ctx, d.Bucket); err == nil {
		st.LastCheckpoint = &cp
		st.LastCheckpointHeight = cp.Height
	} else if core.KindOf(err) != core.NotFound {
		return nil, err
	}
	st.HasPendingChanges = c.mgr.IsDirty(d.Bucket)
	if pr, ok := c.mgr.PendingRootOf(d.Bucket); ok {
		st.PendingRoot = &pr
	}
	st.LastResult, _ = c.mgr.LastResult(d.Bucket)
	st.ProviderHealth, _ = c.mgr.ProvidersByHealth(ctx, d.Bucket)
	c.mu.Lock()
	_, st.Auto = c.auto[d.ID]
	c.mu.Unlock()
	return st, nil
}

// EnableAutoCheckpoints starts the background loop for the drive, ticking
// on blocks from src: every `interval` blocks (0: the drive's Batched
// interval, else 1) it checkpoints the drive if it has changes.
func (c *Client) EnableAutoCheckpoints(ctx context.Context, ref string, src checkpoint.BlockSource, interval uint64) error {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return err
	}
	if interval == 0 {
		interval = max(d.Strategy.Interval, 1)
	}
	c.mu.Lock()
	_, running := c.auto[d.ID]
	c.mu.Unlock()
	if running {
		return nil
	}
	cfg := checkpoint.DefaultLoopConfig()
	cfg.IntervalBlocks = interval
	h, err := c.mgr.StartLoop(context.WithoutCancel(ctx), cfg, src, d.Bucket)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.auto[d.ID] = h
	c.mu.Unlock()
	return nil
}

// DisableAutoCheckpoints stops the drive's loop, if running.
func (c *Client) DisableAutoCheckpoints(id core.DriveID) {
	c.mu.Lock()
	h := c.auto[id]
	delete(c.auto, id)
	c.mu.Unlock()
	if h != nil {
		h.Stop()
	}
}

// IsAutoCheckpointsEnabled reports whether the drive's loop runs.
func (c *Client) IsAutoCheckpointsEnabled(id core.DriveID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.auto[id]
	return ok
}

// RequestImmediateCheckpoint asks every running loop to checkpoint its
// dirty drives now and returns the results.
func (c *Client) RequestImmediateCheckpoint(ctx context.Context) (map[core.BucketID]*checkpoint.Result, error) {
	c.mu.Lock()
	hs := make([]*checkpoint.LoopHandle, 0, len(c.auto))
	for _, h := range c.auto {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	out := map[core.BucketID]*checkpoint.Result{}
	for _, h := range hs {
		r, err := h.SubmitNow(ctx)
		if err != nil {
			return out, err
		}
		for b, res := range r {
			out[b] = res
		}
	}
	return out, nil
}

// Subscribe streams checkpoint events (submitted, failed, conflict, ...).
func (c *Client) Subscribe(buffer int) (<-chan checkpoint.Event, func()) {
	return c.mgr.Subscribe(buffer)
}

// Close stops every auto-checkpoint loop.
func (c *Client) Close() error {
	c.mu.Lock()
	ids := make([]core.DriveID, 0, len(c.auto))
	for id := range c.auto {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.DisableAutoCheckpoints(id)
	}
	return nil
}
