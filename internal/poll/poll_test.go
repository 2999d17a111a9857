package poll_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/internal/poll"
)

// fakeT records a failure instead of failing the real test. Its Fatalf
// ends the goroutine, as testing.T's does.
type fakeT struct {
	testing.TB // only the methods below are called
	ctx        context.Context
	failure    string
}

func (f *fakeT) Helper()                  {}
func (f *fakeT) Context() context.Context { return f.ctx }
func (f *fakeT) Fatalf(format string, a ...any) {
	f.failure = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// run calls wait with a fakeT in its own goroutine (Fatalf exits it) and
// returns the failure message, "" if none.
func run(ctx context.Context, wait func(t testing.TB)) string {
	ft := &fakeT{ctx: ctx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait(ft)
	}()
	<-done
	return ft.failure
}

func TestUntil(t *testing.T) {
	errNotYet := errors.New("replica at 3 of 5 leaves")
	for _, tc := range []struct {
		name      string
		okAfter   int // f succeeds from this call on; 0: never
		within    time.Duration
		cancelled bool // the test's context has ended
		calls     int  // how many calls f gets (0: any number)
		failure   string
	}{
		{"at once", 1, time.Minute, false, 1, ""},
		{"on the third call", 3, time.Minute, false, 3, ""},
		{"never", 0, 50 * time.Millisecond, false, 0, "the replica: not within 50ms: replica at 3 of 5 leaves"},
		{"test ended", 0, time.Minute, true, 1, "the replica: test ended while waiting: replica at 3 of 5 leaves"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			calls := 0
			start := time.Now()
			got := run(ctx, func(ft testing.TB) {
				poll.Until(ft, tc.within, "the replica", func() error {
					calls++
					if tc.okAfter > 0 && calls >= tc.okAfter {
						return nil
					}
					return errNotYet
				})
			})
			if got != tc.failure {
				t.Errorf("failure %q, want %q", got, tc.failure)
			}
			if tc.calls > 0 && calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
			if tc.okAfter == 0 && !tc.cancelled && time.Since(start) < tc.within {
				t.Errorf("gave up after %v, before the deadline %v", time.Since(start), tc.within)
			}
		})
	}
}

func TestTrue(t *testing.T) {
	calls := 0
	if got := run(context.Background(), func(ft testing.TB) {
		poll.True(ft, time.Minute, "two calls", func() bool { calls++; return calls == 2 })
	}); got != "" || calls != 2 {
		t.Errorf("failure %q after %d calls, want none after 2", got, calls)
	}
	got := run(context.Background(), func(ft testing.TB) {
		poll.True(ft, 20*time.Millisecond, "a block", func() bool { return false })
	})
	if !strings.HasPrefix(got, "a block: not within 20ms") {
		t.Errorf("failure %q", got)
	}
}
