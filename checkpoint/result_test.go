package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// A failed attempt keeps its error with its kind: a chain refusal is not
// turned into "unavailable" (retry), and the kind survives JSON and the
// state file.
func TestResultKeepsErrorKind(t *testing.T) {
	for _, tt := range []struct {
		name     string
		setup    func(ch *fakeChain, ps []*fakeProvider)
		wantKind ResultKind
		want     core.Kind
		wantMsg  string
	}{
		{"fewer leaves than already checkpointed", func(ch *fakeChain, ps []*fakeProvider) {
			ch.checkpoints = append(ch.checkpoints, wire.Checkpoint{Bucket: bucket, LeafCount: 9, Height: 3})
		}, TransactionFailed, core.Conflict, "fewer than the 9 already checkpointed"},
		{"chain refuses: conflict", func(ch *fakeChain, _ []*fakeProvider) {
			ch.refuseCheckpoints = core.Errorf("chain", core.Conflict, "leaf count goes backwards")
		}, TransactionFailed, core.Conflict, "leaf count goes backwards"},
		{"chain refuses: bad proof", func(ch *fakeChain, _ []*fakeProvider) {
			ch.refuseCheckpoints = core.Errorf("chain", core.Corrupt, "consistency proof does not verify")
		}, TransactionFailed, core.Corrupt, "does not verify"},
		{"chain refuses: unauthorized", func(ch *fakeChain, _ []*fakeProvider) {
			ch.refuseCheckpoints = core.Errorf("chain", core.Unauthorized, "not a member")
		}, TransactionFailed, core.Unauthorized, "not a member"},
		{"chain unreachable", func(ch *fakeChain, _ []*fakeProvider) {
			ch.failSubmits.Store(100)
		}, TransactionFailed, core.Unavailable, "broadcast failed"},
		{"unclassified failure counts as unavailable", func(ch *fakeChain, _ []*fakeProvider) {
			ch.refuseCheckpoints = errors.New("connection reset")
		}, TransactionFailed, core.Unavailable, "connection reset"},
		{"too few agree", func(_ *fakeChain, ps []*fakeProvider) {
			ps[0].down.Store(true)
			ps[1].down.Store(true)
		}, InsufficientConsensus, core.NoQuorum, "only 1 of 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := cluster(3, 4)
			ch := newFakeChain(ps...)
			tt.setup(ch, ps)
			cfg := testConfig()
			cfg.MaxRetries = 0
			cfg.SyncWaits = 0
			path := filepath.Join(t.TempDir(), "state.json")
			m := newManager(t, ch, cfg, WithStateFile(path))
			r := m.SubmitCheckpoint(context.Background(), bucket)
			if r.Kind != tt.wantKind {
				t.Fatalf("kind %v, want %v (%v)", r.Kind, tt.wantKind, r.Err())
			}
			check := func(where string, r *Result) {
				t.Helper()
				err := r.Err()
				if !errors.Is(err, tt.want) || core.KindOf(err) != tt.want || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("%s: err %v (kind %v), want kind %v containing %q", where, err, core.KindOf(err), tt.want, tt.wantMsg)
				}
			}
			check("result", r)

			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]any
			json.Unmarshal(b, &fields)
			if fields["error_kind"] != tt.want.String() || !strings.Contains(fields["error"].(string), tt.wantMsg) {
				t.Fatalf("JSON error %q kind %q", fields["error"], fields["error_kind"])
			}
			var back Result
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			check("from JSON", &back)
			if back.Cause.Error() != r.Cause.Error() {
				t.Fatalf("message changed through JSON: %q -> %q", r.Cause, back.Cause)
			}
			last, ok := newManager(t, ch, cfg, WithStateFile(path)).LastResult(bucket)
			if !ok {
				t.Fatal("no persisted result")
			}
			check("from the state file", last)
		})
	}
}

// A result persisted before results carried their error's kind loads
// with the kinds it was reported with then.
func TestResultLoadsOldJSON(t *testing.T) {
	var r Result
	if err := json.Unmarshal([]byte(`{"kind":"transaction_failed","bucket":7,"mmr_root":"`+core.H256{}.String()+`","start_seq":0,"leaf_count":0,"error":"broadcast failed","duration_ns":0,"attempt":"2026-01-01T00:00:00Z"}`), &r); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.Err(), core.Unavailable) || r.Err().Error() != "broadcast failed" {
		t.Fatalf("old result: %v (kind %v)", r.Err(), core.KindOf(r.Err()))
	}
	var ok Result
	json.Unmarshal([]byte(`{"kind":"submitted","bucket":7}`), &ok)
	if ok.Err() != nil || ok.Cause != nil {
		t.Fatalf("submitted result has an error: %v", ok.Err())
	}
}
