package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestHealthStatus(t *testing.T) {
	fail := errors.New("down")
	now := time.Unix(1000, 0)
	tests := []struct {
		name     string
		outcomes string // s = success, f = failure
		want     Status
	}{
		{"no history", "", StatusUnknown},
		{"all good", "sssss", StatusHealthy},
		{"one failure in ten still above 80 %", "sssssssssf", StatusHealthy},
		{"81 % but 3 consecutive failures", "ssssssssssssssfff", StatusDegraded},
		{"exactly 80 % is not above", "ssssssssff", StatusDegraded},
		{"five consecutive failures", "sssssssssssssssssssfffff", StatusUnreachable},
		{"recovers after one success", "fffffs", StatusDegraded},
		{"only failures", "ff", StatusDegraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Health
			for _, c := range tt.outcomes {
				var err error
				if c == 'f' {
					err = fail
				}
				h.Record(now, time.Millisecond, err)
			}
			if got := h.Status(); got != tt.want {
				t.Errorf("status %v, want %v (rate %.2f, consecutive %d)", got, tt.want, h.SuccessRate(), h.ConsecutiveFailures)
			}
			if len(h.Recent) > historyLen {
				t.Errorf("kept %d statuses, want at most %d", len(h.Recent), historyLen)
			}
		})
	}
}

func TestHealthUnreachableSince(t *testing.T) {
	var h Health
	t0 := time.Unix(1000, 0)
	for i := 0; i < 7; i++ {
		h.Record(t0.Add(time.Duration(i)*time.Second), 0, errors.New("x"))
	}
	if want := t0.Add(4 * time.Second); !h.UnreachableSince.Equal(want) {
		t.Errorf("unreachable since %v, want %v (the 5th failure)", h.UnreachableSince, want)
	}
	h.Record(t0.Add(time.Minute), 0, nil)
	if !h.UnreachableSince.IsZero() || h.ConsecutiveFailures != 0 || h.LastError != "" {
		t.Errorf("success did not reset: %+v", h)
	}
}

func TestHealthUnresponsive(t *testing.T) {
	now := time.Unix(1000, 0)
	refused := errors.New("connection refused")
	timeout := fmt.Errorf("no answer: %w", context.DeadlineExceeded)
	tests := []struct {
		name     string
		outcomes string // s = success, f = failure that answered, t = timeout, m = missed a straggler wait
		want     bool
	}{
		{"two misses", "ssmm", false},
		{"three misses in a row", "ssmmm", true},
		{"an answer resets the misses", "mmms", false},
		{"misses never seen answering", "mmm", true},
		{"no history", "", false},
		{"healthy", "ssss", false},
		{"one timeout of a healthy provider", "sssssssssst", false},
		{"degraded by timeouts", "sssssssssssssssttt", true},
		{"degraded by refusals", "sssssssssssssssfff", false},
		{"degraded, last failure a timeout", "ffft", true},
		{"degraded, a timeout then a refusal", "fftf", false},
		{"unreachable by refusals", "fffff", true},
		{"unreachable by timeouts", "ttttt", true},
		{"one answer puts it back", "tttttts", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Health
			for _, c := range tt.outcomes {
				var err error
				switch c {
				case 'm':
					h.ConsecutiveMisses++
					continue
				case 'f':
					err = refused
				case 't':
					err = timeout
				}
				h.Record(now, time.Millisecond, err)
			}
			if got := h.Unresponsive(); got != tt.want {
				t.Errorf("unresponsive %v, want %v (%s, %d consecutive timeouts)", got, tt.want, h.Status(), h.ConsecutiveTimeouts)
			}
		})
	}
}

func TestIsTimeout(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("refused"), false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
		{context.Canceled, false},
		{&net.DNSError{IsTimeout: true}, true},
		{&net.DNSError{}, false},
	} {
		if got := IsTimeout(tt.err); got != tt.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// A miss is not a failure: the status stays, only Unresponsive changes,
// and the pool's file keeps the misses for the next run.
func TestPoolMissPersists(t *testing.T) {
	file := filepath.Join(t.TempDir(), "alice.health.json")
	p, err := New(newChain(1), DefaultConfig(), WithHealthFile(file))
	if err != nil {
		t.Fatal(err)
	}
	a := acct(1)
	for i := 0; i < 10; i++ {
		p.Record(a, time.Millisecond, nil)
	}
	for i := 0; i < MissesUnresponsive; i++ {
		p.Miss(a)
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	next, err := New(newChain(1), DefaultConfig(), WithHealthFile(file))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := next.Health(a)
	if !next.Unresponsive(a) || h.Status() != StatusHealthy || h.TotalRequests != 10 {
		t.Fatalf("after %d misses, reloaded: unresponsive %v, %s, %+v", MissesUnresponsive, next.Unresponsive(a), h.Status(), h)
	}
	next.Record(a, time.Millisecond, nil)
	if next.Unresponsive(a) {
		t.Fatal("an answer did not put it back")
	}
}
