package faultnet

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestDeadlineProbe(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		want     time.Duration
		ok       bool
	}{
		{"none, none wanted", 0, 0, true},
		{"none, one wanted", 0, time.Hour, false},
		{"one, none wanted", time.Hour, 0, false},
		{"as wanted", time.Hour, time.Hour, true},
		{"earlier than wanted", time.Minute, time.Hour, false},
		{"much later than wanted", 2 * time.Hour, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			ctx := context.Background()
			if tc.deadline != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.deadline))
				defer cancel()
			}
			p := &DeadlineProbe{}
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://probe.invalid/", nil)
			if _, err := p.RoundTrip(req); !errors.Is(err, ErrProbe) {
				t.Fatalf("RoundTrip: %v, want ErrProbe", err)
			}
			if err := p.Check(start, tc.want); (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
