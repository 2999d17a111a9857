package chainclient_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/faultnet"
)

// A request ends at the earlier of the caller's deadline and the client's
// timeout (core.RequestContext); 0 is the default, core.NoTimeout none.
func TestRequestTimeoutRule(t *testing.T) {
	const hour = time.Hour
	for _, tc := range []struct {
		name    string
		set     bool // call WithRequestTimeout
		timeout time.Duration
		caller  time.Duration // 0: no deadline
		want    time.Duration // 0: no deadline
	}{
		{"default", false, 0, 0, chainclient.DefaultRequestTimeout},
		{"zero is the default", true, 0, 0, chainclient.DefaultRequestTimeout},
		{"timeout", true, 2 * hour, 0, 2 * hour},
		{"caller earlier", true, 2 * hour, hour, hour},
		{"timeout earlier", true, 2 * hour, 3 * hour, 2 * hour},
		{"no timeout", true, core.NoTimeout, 0, 0},
		{"no timeout, caller's deadline", true, core.NoTimeout, 3 * hour, 3 * hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &faultnet.DeadlineProbe{}
			opts := []chainclient.Option{chainclient.WithHTTPClient(&http.Client{Transport: p})}
			if tc.set {
				opts = append(opts, chainclient.WithRequestTimeout(tc.timeout))
			}
			c, err := chainclient.New("127.0.0.1:1", opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			start := time.Now()
			if tc.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.caller))
				defer cancel()
			}
			if _, err := c.ChainID(ctx); core.KindOf(err) != core.Unavailable {
				t.Fatalf("ChainID through the probe: %v, want kind unavailable", err)
			}
			if err := p.Check(start, tc.want); err != nil {
				t.Error(err)
			}
		})
	}
}
