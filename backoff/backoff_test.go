package backoff

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		n    int
		want time.Duration
	}{
		{"first retry waits Initial", Policy{Initial: time.Second}, 1, time.Second},
		{"doubles", Policy{Initial: time.Second}, 3, 4 * time.Second},
		{"capped", Policy{Initial: 50 * time.Millisecond, Max: time.Second}, 10, time.Second},
		{"below the cap", Policy{Initial: 50 * time.Millisecond, Max: time.Second}, 2, 100 * time.Millisecond},
		{"no overflow", Policy{Initial: 1}, 200, 1 << 62},
		{"zero stays zero", Policy{}, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Delay(tc.n)
			if got != tc.want || got < 0 {
				t.Errorf("Delay(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

// fired is an After that fires at once and records the delays asked for.
type fired struct{ delays []time.Duration }

func (f *fired) after(d time.Duration) <-chan time.Time {
	f.delays = append(f.delays, d)
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func TestRetry(t *testing.T) {
	unavailable := core.Errorf("test", core.Unavailable, "down")
	for _, tc := range []struct {
		name     string
		errs     []error // what each attempt returns; past the end, nil
		retries  int
		wantN    int
		wantKind core.Kind
		wantOK   bool
		delays   []time.Duration
	}{
		{"success at once", nil, 3, 1, 0, true, nil},
		{"unavailable then success", []error{unavailable, unavailable}, 3, 3, 0, true, []time.Duration{time.Second, 2 * time.Second}},
		{"retries spent", []error{unavailable, unavailable, unavailable}, 2, 3, core.Unavailable, false, []time.Duration{time.Second, 2 * time.Second}},
		{"invalid is permanent", []error{core.Errorf("test", core.Invalid, "bad")}, 3, 1, core.Invalid, false, nil},
		{"corrupt is permanent", []error{unavailable, core.Errorf("test", core.Corrupt, "forged")}, 3, 2, core.Corrupt, false, []time.Duration{time.Second}},
		{"unclassified is permanent", []error{errors.New("?")}, 3, 1, core.Other, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fired{}
			n := 0
			err := Retry(context.Background(), Policy{Retries: tc.retries, Initial: time.Second}, clk.after, func(attempt int) error {
				if attempt != n {
					t.Fatalf("attempt %d, want %d", attempt, n)
				}
				n++
				if attempt < len(tc.errs) {
					return tc.errs[attempt]
				}
				return nil
			})
			if n != tc.wantN {
				t.Errorf("%d attempts, want %d", n, tc.wantN)
			}
			if (err == nil) != tc.wantOK || (err != nil && core.KindOf(err) != tc.wantKind) {
				t.Errorf("err = %v, want ok=%v kind %v", err, tc.wantOK, tc.wantKind)
			}
			if len(clk.delays) != len(tc.delays) {
				t.Fatalf("delays %v, want %v", clk.delays, tc.delays)
			}
			for i := range tc.delays {
				if clk.delays[i] != tc.delays[i] {
					t.Errorf("delays %v, want %v", clk.delays, tc.delays)
				}
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	never := func(time.Duration) <-chan time.Time { return nil }
	n := 0
	err := Retry(ctx, Policy{Retries: 5, Initial: time.Hour}, never, func(int) error {
		n++
		cancel()
		return core.Errorf("test", core.Unavailable, "down")
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("err = %v after %d attempts, want context.Canceled after 1", err, n)
	}
}
