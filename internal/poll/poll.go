// Package poll is for tests that wait for something that happens on its
// own time (a replica converging, a child process exiting, a block being
// made): it checks a condition until it holds or a deadline passes, the
// house alternative to sleeping. Polls start 10 ms apart and back off to
// 250 ms, so a fast condition is seen at once and a slow one (a CLI process
// per check) costs little.
//
// It imports nothing of Cairn's own; only tests use it.
package poll

import (
	"errors"
	"testing"
	"time"
)

const (
	firstInterval = 10 * time.Millisecond
	maxInterval   = 250 * time.Millisecond
)

// Until calls f until it returns nil. If that has not happened within the
// given time, or the test's context ends first, it fails t (Fatalf) naming
// what it waited for and f's last error.
func Until(t testing.TB, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	interval := firstInterval
	for {
		err := f()
		if err == nil {
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		timer := time.NewTimer(min(interval, time.Until(deadline)))
		select {
		case <-t.Context().Done():
			timer.Stop()
			t.Fatalf("%s: test ended while waiting: %v", what, err)
		case <-timer.C:
		}
		interval = min(2*interval, maxInterval)
	}
}

// errFalse is True's last error: the condition did not hold.
var errFalse = errors.New("condition still false")

// True is Until for a condition with no error to report.
func True(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	Until(t, within, what, func() error {
		if cond() {
			return nil
		}
		return errFalse
	})
}
