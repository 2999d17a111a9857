package checkpoint

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// LoopHandle controls a running checkpoint loop (the reference's
// CheckpointLoopHandle).
type LoopHandle struct {
	m       *Manager
	cmds    chan loopCmd
	done    chan struct{}
	cancel  context.CancelFunc
	running atomic.Bool
	paused  atomic.Bool
}

type loopCmdKind int

const (
	cmdMarkDirty loopCmdKind = iota
	cmdSubmitNow
	cmdPause
	cmdResume
)

type loopCmd struct {
	kind   loopCmdKind
	bucket core.BucketID
	reply  chan map[core.BucketID]*Result
}

// ErrLoopStopped is returned by a handle whose loop has ended.
var ErrLoopStopped = core.Errorf("checkpoint.Loop", core.Unavailable, "checkpoint loop stopped")

// StartLoop starts the background loop over the given buckets (more join
// with MarkDirty). Started with no bucket, it serves every bucket the
// manager has marked dirty, including those the state file lists, so a
// restarted client finishes what it owed. The loop ticks on
// blocks from src: every IntervalBlocks blocks (or IntervalDuration) it
// checkpoints the dirty buckets, pausing itself after
// MaxConsecutiveFailures failed attempts in a row. It also resolves expired
// challenges and, when configured, audits. Stop (or ctx) ends it.
func (m *Manager) StartLoop(ctx context.Context, cfg LoopConfig, src BlockSource, buckets ...core.BucketID) (*LoopHandle, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	blocks, err := src.SubscribeBlocks(lctx)
	if err != nil {
		cancel()
		return nil, core.E("checkpoint.StartLoop", core.KindOf(err), err)
	}
	h := &LoopHandle{m: m, cmds: make(chan loopCmd), done: make(chan struct{}), cancel: cancel}
	h.running.Store(true)
	l := &loop{m: m, cfg: cfg, h: h, src: src, blocks: blocks, managed: map[core.BucketID]bool{}, nextTry: map[core.BucketID]time.Time{},
		all: len(buckets) == 0}
	for _, b := range buckets {
		l.managed[b] = true
	}
	go func() {
		defer close(h.done)
		defer h.running.Store(false)
		l.run(lctx)
	}()
	return h, nil
}

// send hands c to the loop. The loop takes commands between its steps, so
// while a round is running (collecting from providers, submitting on
// chain) a send waits; ctx bounds that wait, so no caller is held for a
// whole round it did not ask for.
func (h *LoopHandle) send(ctx context.Context, c loopCmd) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.cmds <- c:
		return nil
	case <-h.done:
		return ErrLoopStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MarkDirty records changes in bucket and adds it to the loop. The mark is
// persisted at once, so even when ctx ends before the loop takes the
// bucket (it is busy with a round) the change is not forgotten: a loop
// serving every dirty bucket, or the next start, checkpoints it.
func (h *LoopHandle) MarkDirty(ctx context.Context, bucket core.BucketID) error {
	select {
	case <-h.done:
		return ErrLoopStopped
	default:
	}
	if err := h.m.MarkDirty(bucket); err != nil {
		return err
	}
	return h.send(ctx, loopCmd{kind: cmdMarkDirty, bucket: bucket})
}

// SubmitNow checkpoints every dirty bucket now, even when paused or
// backing off, and returns the results.
func (h *LoopHandle) SubmitNow(ctx context.Context) (map[core.BucketID]*Result, error) {
	reply := make(chan map[core.BucketID]*Result, 1)
	if err := h.send(ctx, loopCmd{kind: cmdSubmitNow, reply: reply}); err != nil {
		return nil, err
	}
	select {
	case r := <-reply:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
		return nil, ErrLoopStopped
	}
}

// Pause stops automatic checkpoints until Resume (a round already running
// finishes).
func (h *LoopHandle) Pause(ctx context.Context) error {
	return h.send(ctx, loopCmd{kind: cmdPause})
}

// Resume restarts automatic checkpoints and resets the failure count (the
// reference undid a Resume at once after an auto-pause; this does not).
func (h *LoopHandle) Resume(ctx context.Context) error {
	return h.send(ctx, loopCmd{kind: cmdResume})
}

// Stop ends the loop and waits for it.
func (h *LoopHandle) Stop() error {
	h.cancel()
	<-h.done
	return nil
}

// IsRunning reports whether the loop goroutine is alive.
func (h *LoopHandle) IsRunning() bool { return h.running.Load() }

// IsPaused reports whether the loop is paused (by Pause or auto-pause).
func (h *LoopHandle) IsPaused() bool { return h.paused.Load() }

// Done is closed when the loop has ended.
func (h *LoopHandle) Done() <-chan struct{} { return h.done }

type loop struct {
	m        *Manager
	cfg      LoopConfig
	h        *LoopHandle
	src      BlockSource
	blocks   <-chan int64
	managed  map[core.BucketID]bool
	nextTry  map[core.BucketID]time.Time
	all      bool // serve every dirty bucket of the manager
	failures int
	lastRun  int64
	audited  int64
}

func (l *loop) run(ctx context.Context) {
	var tick <-chan time.Time
	if l.cfg.IntervalBlocks == 0 {
		tick = l.m.clock.After(l.cfg.IntervalDuration)
	}
	if len(l.buckets(false)) > 0 && l.m.cfg.AutoSubmit {
		l.round(ctx, false) // finish what a previous run owed
	}
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-l.h.cmds:
			l.command(ctx, c)
		case <-tick:
			tick = l.m.clock.After(l.cfg.IntervalDuration)
			if !l.h.paused.Load() && l.m.cfg.AutoSubmit {
				l.round(ctx, false)
			}
		case h, ok := <-l.blocks:
			if !ok {
				if !l.resubscribe(ctx) {
					return
				}
				continue
			}
			l.block(ctx, h)
		}
	}
}

func (l *loop) resubscribe(ctx context.Context) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-l.m.clock.After(time.Second):
		}
		b, err := l.src.SubscribeBlocks(ctx)
		if err == nil {
			l.blocks = b
			return true
		}
		l.m.log.Warn("block subscription lost; retrying", "err", err)
	}
}

func (l *loop) block(ctx context.Context, h int64) {
	if err := l.m.ResolveExpiredChallenges(ctx); err != nil {
		l.m.log.Warn("resolving expired challenges", "height", h, "err", err)
	}
	if a := l.m.cfg.Audit.EveryBlocks; a > 0 && h-l.audited >= int64(a) {
		l.audited = h
		for _, b := range l.buckets(true) {
			if _, err := l.m.Audit(ctx, b); err != nil {
				l.m.log.Debug("audit", "bucket", b, "err", err)
			}
		}
	}
	if l.cfg.IntervalBlocks == 0 || l.h.paused.Load() || !l.m.cfg.AutoSubmit {
		return
	}
	if l.lastRun == 0 {
		l.lastRun = h
	}
	if h-l.lastRun >= int64(l.cfg.IntervalBlocks) {
		l.lastRun = h
		l.round(ctx, false)
	}
}

func (l *loop) command(ctx context.Context, c loopCmd) {
	switch c.kind {
	case cmdMarkDirty:
		l.managed[c.bucket] = true // the handle persisted the mark
	case cmdSubmitNow:
		c.reply <- l.round(ctx, true)
	case cmdPause:
		if !l.h.paused.Swap(true) {
			l.m.events.emit(Event{Kind: EventPaused, Time: l.m.clock.Now(), Reason: "paused by request"})
		}
	case cmdResume:
		l.failures = 0
		clear(l.nextTry)
		if l.h.paused.Swap(false) {
			l.m.events.emit(Event{Kind: EventResumed, Time: l.m.clock.Now()})
		}
	}
}

// buckets lists the buckets a round covers: the dirty ones it serves, or
// all it manages when SubmitOnEmpty (or all) is set.
func (l *loop) buckets(all bool) []core.BucketID {
	set := map[core.BucketID]bool{}
	for _, b := range l.m.DirtyBuckets() {
		if l.all || l.managed[b] {
			set[b] = true
			l.managed[b] = true
		}
	}
	if all || l.cfg.SubmitOnEmpty {
		for b := range l.managed {
			set[b] = true
		}
	}
	out := make([]core.BucketID, 0, len(set))
	for b := range set {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// round checkpoints the buckets due. forced ignores pause and back-off.
func (l *loop) round(ctx context.Context, forced bool) map[core.BucketID]*Result {
	out := map[core.BucketID]*Result{}
	now := l.m.clock.Now()
	for _, b := range l.buckets(false) {
		if !forced && now.Before(l.nextTry[b]) {
			continue
		}
		res := l.m.SubmitCheckpoint(ctx, b)
		out[b] = res
		if ctx.Err() != nil {
			return out
		}
		if res.Kind == Submitted {
			l.failures = 0
			delete(l.nextTry, b)
			continue
		}
		l.failures++
		l.nextTry[b] = l.m.clock.Now().Add(l.cfg.FailureRetryDelay)
		willRetry := l.failures < l.cfg.MaxConsecutiveFailures
		l.m.events.emit(Event{Kind: EventFailed, Bucket: b, Time: l.m.clock.Now(), Result: res, WillRetry: willRetry, Reason: fmt.Sprint(res.Err())})
		if !willRetry && !l.h.paused.Swap(true) {
			l.m.events.emit(Event{Kind: EventPaused, Bucket: b, Time: l.m.clock.Now(),
				Reason: fmt.Sprintf("auto-paused after %d consecutive failures", l.failures)})
		}
	}
	return out
}
