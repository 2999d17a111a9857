package providers

import (
	"errors"
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
