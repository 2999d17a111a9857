package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
)

func TestRequestContext(t *testing.T) {
	const hour = time.Hour
	for _, tc := range []struct {
		name     string
		caller   time.Duration // the caller's deadline from now; 0: none
		timeout  time.Duration
		deadline time.Duration // expected deadline from now; 0: none
	}{
		{"timeout only", 0, 2 * hour, 2 * hour},
		{"caller's deadline earlier", 1 * hour, 2 * hour, 1 * hour},
		{"timeout earlier", 3 * hour, 2 * hour, 2 * hour},
		{"no timeout, no caller deadline", 0, core.NoTimeout, 0},
		{"no timeout keeps the caller's deadline", 3 * hour, core.NoTimeout, 3 * hour},
		{"any negative is no timeout", 3 * hour, -5 * time.Second, 3 * hour},
		{"zero is no timeout", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			parent := context.Background()
			if tc.caller > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithDeadline(parent, start.Add(tc.caller))
				defer cancel()
			}
			ctx, cancel := core.RequestContext(parent, tc.timeout)
			d, ok := ctx.Deadline()
			if tc.deadline == 0 {
				if ok {
					t.Fatalf("deadline %v, want none", d.Sub(start))
				}
			} else if !ok || d.Sub(start) < tc.deadline-time.Minute || d.Sub(start) > tc.deadline+time.Minute {
				t.Fatalf("deadline in %v (%v), want %v", d.Sub(start), ok, tc.deadline)
			}
			if ctx.Err() != nil {
				t.Fatal("request context ended at once")
			}
			cancel()
			if ctx.Err() == nil {
				t.Fatal("cancel did not end the request context")
			}
			if parent.Err() != nil {
				t.Fatal("cancelling the request ended the caller's context")
			}
		})
	}
}

// A caller's cancellation ends the request whatever the timeout.
func TestRequestContextFollowsCaller(t *testing.T) {
	for _, timeout := range []time.Duration{core.NoTimeout, time.Hour} {
		parent, cancelParent := context.WithCancel(context.Background())
		ctx, cancel := core.RequestContext(parent, timeout)
		cancelParent()
		<-ctx.Done() // hangs (test timeout) if the caller's cancel is lost
		cancel()
	}
}
