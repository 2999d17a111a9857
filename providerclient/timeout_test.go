package providerclient_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/faultnet"
	"github.com/cairn-storage/cairn/providerclient"
)

// A request ends at the earlier of the caller's deadline and
// Options.Timeout (core.RequestContext); 0 is the default, core.NoTimeout
// none.
func TestRequestTimeoutRule(t *testing.T) {
	const hour = time.Hour
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		caller  time.Duration // 0: no deadline
		want    time.Duration // 0: no deadline
	}{
		{"zero is the default", 0, 0, providerclient.DefaultTimeout},
		{"timeout", 2 * hour, 0, 2 * hour},
		{"caller earlier", 2 * hour, hour, hour},
		{"timeout earlier", 2 * hour, 3 * hour, 2 * hour},
		{"no timeout", core.NoTimeout, 0, 0},
		{"no timeout, caller's deadline", core.NoTimeout, 3 * hour, 3 * hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &faultnet.DeadlineProbe{}
			c, err := providerclient.New("http://127.0.0.1:1", providerclient.Options{HTTPClient: &http.Client{Transport: p}, Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			start := time.Now()
			if tc.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.caller))
				defer cancel()
			}
			if err := c.Health(ctx); core.KindOf(err) != core.Unavailable {
				t.Fatalf("Health through the probe: %v, want kind unavailable", err)
			}
			if err := p.Check(start, tc.want); err != nil {
				t.Error(err)
			}
		})
	}
}
