package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"
)

// While the loop is inside a round (here one held for an hour by a hung
// provider), a command with a cancelled or short context returns at once
// with the context's error instead of waiting for the round to end.
func TestLoopSendHonoursContextDuringRound(t *testing.T) {
	ps := cluster(3, 2)
	ps[2].hang.Store(true)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true // the round waits for the hung provider
	cfg.ProviderTimeout = time.Hour
	m := newManager(t, ch, cfg)
	if err := m.MarkDirty(bucket); err != nil {
		t.Fatal(err)
	}
	// A dirty bucket at start: the loop begins a round at once.
	h, err := m.StartLoop(context.Background(), LoopConfig{IntervalBlocks: 1, MaxConsecutiveFailures: 5}, newBlockFeed())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for ps[2].calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the round never reached the hung provider")
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not synchronising
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	other := bucket + 1
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) { return cancelled, func() {} }, context.Canceled},
		{"short deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		for _, op := range []struct {
			name string
			call func(context.Context) error
		}{
			{"MarkDirty", func(ctx context.Context) error { return h.MarkDirty(ctx, other) }},
			{"Pause", h.Pause},
			{"Resume", h.Resume},
			{"SubmitNow", func(ctx context.Context) error { _, err := h.SubmitNow(ctx); return err }},
		} {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				ctx, cancel := tt.ctx()
				defer cancel()
				start := time.Now()
				err := op.call(ctx)
				if !errors.Is(err, tt.want) {
					t.Fatalf("err %v, want %v", err, tt.want)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("returned after %s: it waited for the round", d)
				}
			})
		}
	}
	if !h.IsRunning() || ps[2].calls.Load() != 1 {
		t.Fatalf("the round should still be running on its first request (running=%v, calls=%d)", h.IsRunning(), ps[2].calls.Load())
	}
	// The mark itself is durable even though the loop did not take it yet.
	if !m.IsDirty(other) {
		t.Fatal("MarkDirty with an expired context lost the mark")
	}
}
