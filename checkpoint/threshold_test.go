package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// The client's threshold is the larger of its 51 % rule and the bucket's
// on-chain quorum: with a bucket that needs all three signers, two agreeing
// providers are not a checkpoint, and no transaction the chain would refuse
// is sent.
func TestThresholdRespectsOnChainQuorum(t *testing.T) {
	for _, tt := range []struct {
		name         string
		providers    int
		onChain      int
		divergent    int // providers whose log differs from the others'
		want         ResultKind
		wantRequired int
	}{
		{"51 % rule, chain quorum lower", 3, 1, 1, Submitted, 2},
		{"51 % rule, chain quorum equal", 3, 2, 1, Submitted, 2},
		{"chain quorum 3 of 3 with one divergent", 3, 3, 1, InsufficientConsensus, 3},
		{"chain quorum 3 of 3, all agree", 3, 3, 0, Submitted, 3},
		{"chain quorum 4 of 5 with two divergent", 5, 4, 2, InsufficientConsensus, 4},
		{"chain quorum 4 of 5 with one divergent", 5, 4, 1, Submitted, 4},
		{"chain quorum above the primaries", 2, 3, 0, InsufficientConsensus, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := cluster(tt.providers, 4)
			for i := 0; i < tt.divergent; i++ {
				ps[i].write([]byte(fmt.Sprintf("only on %d", i)))
			}
			ch := newFakeChain(ps...)
			ch.quorum = tt.onChain
			cfg := testConfig()
			cfg.WaitForAll = true
			cfg.MaxRetries = 0
			cfg.SyncWaits = 0
			m := newManager(t, ch, cfg)
			ctx := context.Background()

			_, required, err := m.Threshold(ctx, bucket)
			if err != nil || required != tt.wantRequired {
				t.Fatalf("Threshold = %d, %v; want %d", required, err, tt.wantRequired)
			}
			r := m.SubmitCheckpoint(ctx, bucket)
			if r.Kind != tt.want {
				t.Fatalf("kind %v, want %v: %+v (%v)", r.Kind, tt.want, r, r.Err())
			}
			if r.Required != tt.wantRequired {
				t.Fatalf("result requires %d, want %d", r.Required, tt.wantRequired)
			}
			if r.Kind == InsufficientConsensus {
				if !errors.Is(r.Err(), core.NoQuorum) {
					t.Fatalf("err %v, want no_quorum", r.Err())
				}
				if n := len(ch.submitted()); n != 0 {
					t.Fatalf("%d checkpoint transactions sent below the bucket's quorum", n)
				}
			}
			ok, err := m.HasEnoughHealthyProviders(ctx, bucket)
			if err != nil || ok != (tt.providers >= tt.wantRequired) {
				t.Fatalf("HasEnoughHealthyProviders = %v, %v", ok, err)
			}
		})
	}
}
