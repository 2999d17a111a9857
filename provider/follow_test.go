package provider

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// followRig drives a follow loop step by step: it hands out the
// subscriptions the loop asks for, sends ticks, and reports each call on
// one channel, so the test waits on events and never sleeps.
type followRig struct {
	ticks  chan time.Time
	subs   chan chan int // the subscription each subscribe call returns (nil: fail)
	calls  chan string
	cancel context.CancelFunc
	done   chan struct{}
}

func startFollow(t *testing.T, tickFirst bool) *followRig {
	t.Helper()
	r := &followRig{ticks: make(chan time.Time), subs: make(chan chan int, 4), calls: make(chan string, 16), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	f := follow[int]{
		name:  "test",
		every: time.Hour,
		subscribe: func(context.Context) (<-chan int, error) {
			r.calls <- "subscribe"
			ch := <-r.subs
			if ch == nil {
				return nil, errors.New("no stream")
			}
			return ch, nil
		},
		hint:      func(_ context.Context, h int) { r.calls <- "hint" },
		tick:      func(context.Context) { r.calls <- "tick" },
		tickFirst: tickFirst,
		ticker: func(time.Duration) (<-chan time.Time, func()) {
			return r.ticks, func() {}
		},
	}
	go func() {
		defer close(r.done)
		f.run(ctx, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		r.cancel()
		<-r.done
	})
	return r
}

func (r *followRig) want(t *testing.T, calls ...string) {
	t.Helper()
	for _, w := range calls {
		select {
		case got := <-r.calls:
			if got != w {
				t.Fatalf("call %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no call, want %q", w)
		}
	}
}

func TestFollow(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("hints and ticks", func(t *testing.T) {
		r := startFollow(t, true)
		stream := make(chan int, 1)
		r.subs <- stream
		r.want(t, "subscribe", "tick")
		stream <- 1
		r.want(t, "hint")
		r.ticks <- time.Time{}
		r.want(t, "tick") // the stream is up: no resubscribe
	})
	t.Run("an ended stream resubscribes at the next tick", func(t *testing.T) {
		r := startFollow(t, false)
		stream := make(chan int)
		r.subs <- stream
		r.want(t, "subscribe")
		close(stream)
		again := make(chan int, 1)
		r.subs <- again
		r.ticks <- time.Time{}
		r.want(t, "subscribe", "tick")
		again <- 2
		r.want(t, "hint")
	})
	t.Run("a failed subscribe is retried at each tick", func(t *testing.T) {
		r := startFollow(t, false)
		r.subs <- nil
		r.want(t, "subscribe")
		r.subs <- nil
		r.ticks <- time.Time{}
		r.want(t, "subscribe", "tick")
		stream := make(chan int, 1)
		r.subs <- stream
		r.ticks <- time.Time{}
		r.want(t, "subscribe", "tick")
		stream <- 3
		r.want(t, "hint")
	})
}
