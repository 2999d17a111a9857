package providerclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/wire"
	"github.com/cairn-storage/cairn/providerclient"
)

// The chain id comes from Options.ChainID, else from the provider's
// /health, asked until the provider names a chain and never again after.
func TestChainIDLearnedOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		option    string   // Options.ChainID
		named     []string // what successive /health answers name
		want      []string // successive ChainID results ("" = unavailable)
		healthHit int
	}{
		{"from the option", "mine", []string{"theirs"}, []string{"mine", "mine"}, 0},
		{"from /health", "", []string{"theirs", "other"}, []string{"theirs", "theirs", "theirs"}, 1},
		{"until the provider names one", "", []string{"", "theirs"}, []string{"", "theirs", "theirs"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				json.NewEncoder(w).Encode(wire.Health{ChainID: tc.named[n-1]})
			}))
			defer srv.Close()
			c, err := providerclient.New(srv.URL, providerclient.Options{ChainID: tc.option})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				id, err := c.ChainID(context.Background())
				if want == "" {
					if core.KindOf(err) != core.Unavailable {
						t.Errorf("ChainID #%d = %q, %v; want kind unavailable", i, id, err)
					}
				} else if id != want || err != nil {
					t.Errorf("ChainID #%d = %q, %v; want %q", i, id, err, want)
				}
			}
			if n := int(hits.Load()); n != tc.healthHit {
				t.Errorf("/health asked %d times, want %d", n, tc.healthHit)
			}
		})
	}
}
