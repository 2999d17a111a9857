package checkpoint

import (
	"context"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Only evidence that shows divergence marks a provider divergent: a
// majority signer that sends a corrupt consistency proof is the one at
// fault, so another signer is asked, and with no usable proof the minority
// provider is not proven divergent (and never recorded towards a
// challenge).
func TestCorruptProofDoesNotFrameMinority(t *testing.T) {
	for _, tt := range []struct {
		name string
		// the minority provider's log: the majority's first `prefix`
		// leaves, then `own` leaves of its own
		prefix, own int
		corrupt     func(majority []*fakeProvider, minority *fakeProvider)
		wantKind    quorum.ConflictKind
		wantProven  bool
	}{
		{"behind, one signer corrupt, the other proves the prefix", 7, 0,
			func(maj []*fakeProvider, _ *fakeProvider) { maj[0].corruptProofs.Store(true) },
			quorum.SyncDelay, false},
		{"behind, every signer corrupt: not proven", 7, 0,
			func(maj []*fakeProvider, _ *fakeProvider) {
				for _, p := range maj {
					p.corruptProofs.Store(true)
				}
			},
			quorum.DataDivergence, false},
		{"behind with other history, one signer corrupt: still proven", 4, 3,
			func(maj []*fakeProvider, _ *fakeProvider) { maj[0].corruptProofs.Store(true) },
			quorum.DataDivergence, true},
		{"behind with other history, honest signers: proven", 4, 3,
			func([]*fakeProvider, *fakeProvider) {},
			quorum.DataDivergence, true},
		{"ahead, its own proof corrupt: not proven", 10, 2,
			func(_ []*fakeProvider, min *fakeProvider) { min.corruptProofs.Store(true) },
			quorum.DataDivergence, false},
		{"ahead, honest: ahead", 10, 2,
			func([]*fakeProvider, *fakeProvider) {},
			quorum.Ahead, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := cluster(3, 10)
			minority := newFakeProvider(9)
			for w := 0; w < tt.prefix; w++ {
				minority.write([]byte(fmt.Sprintf("blob %d", w)))
			}
			for w := 0; w < tt.own; w++ {
				minority.write([]byte(fmt.Sprintf("own %d", w)))
			}
			tt.corrupt(ps, minority)
			ch := newFakeChain(append(ps, minority)...)
			cfg := testConfig()
			cfg.WaitForAll = true
			m := newManager(t, ch, cfg)
			r := m.SubmitCheckpoint(context.Background(), bucket)
			if r.Kind != Submitted || r.Conflict == nil || len(r.Conflict.Conflicts) != 1 {
				t.Fatalf("want a submitted checkpoint with one conflict: %+v", r)
			}
			c := r.Conflict.Conflicts[0]
			if c.Provider != minority.key.Account() || c.Kind != tt.wantKind || c.Proven != tt.wantProven {
				t.Fatalf("conflict %+v, want %v proven=%v", c, tt.wantKind, tt.wantProven)
			}
			var recorded int
			m.state.read(func(p *persisted) { recorded = p.Conflicts[minority.key.Account()] })
			if want := map[bool]int{true: 1, false: 0}[tt.wantProven]; recorded != want {
				t.Fatalf("recorded divergences %d, want %d", recorded, want)
			}
			if !tt.wantProven && r.Conflict.Resolution.Kind == quorum.ConsiderChallenge {
				t.Fatalf("resolution %v on no evidence", r.Conflict.Resolution)
			}
		})
	}
}

// ObserveConflicts classifies as CollectCommitmentsWithConflicts does but
// records nothing: an observer (the dashboard) probing a divergent provider
// every few blocks must not bring an auto-challenge closer.
func TestObserveConflictsRecordsNothing(t *testing.T) {
	ps := cluster(3, 10)
	minority := newFakeProvider(9)
	for w := 0; w < 10; w++ {
		minority.write([]byte(fmt.Sprintf("own %d", w))) // same count, other leaves: proven divergence
	}
	m := newManager(t, newFakeChain(append(ps, minority)...), func() Config { c := testConfig(); c.WaitForAll = true; return c }())
	recorded := func() (n int) {
		m.state.read(func(p *persisted) { n = p.Conflicts[minority.key.Account()] })
		return n
	}
	for range 3 {
		_, pc, err := m.ObserveConflicts(context.Background(), bucket)
		if err != nil {
			t.Fatal(err)
		}
		if pc == nil || len(pc.Conflicts) != 1 || pc.Conflicts[0].Kind != quorum.DataDivergence || !pc.Conflicts[0].Proven {
			t.Fatalf("observed %+v, want one proven divergence", pc)
		}
	}
	if n := recorded(); n != 0 {
		t.Fatalf("observing recorded %d divergences, want 0", n)
	}
	if _, _, err := m.CollectCommitmentsWithConflicts(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	if n := recorded(); n != 1 {
		t.Fatalf("collecting with conflicts recorded %d divergences, want 1", n)
	}
}

// judgeConsistency on its own: which proofs are evidence.
func TestJudgeConsistency(t *testing.T) {
	a := cluster(1, 10)[0]
	b := newFakeProvider(2)
	for w := 0; w < 10; w++ {
		b.write([]byte(fmt.Sprintf("other %d", w)))
	}
	root := func(p *fakeProvider, n uint64) core.H256 {
		r, err := p.tree.RootAt(n)
		if err != nil {
			t.Fatal(err)
		}
		return core.H256(r)
	}
	proof, _ := a.tree.ConsistencyProof(4, 10)
	bad, _ := a.tree.ConsistencyProof(4, 10)
	bad.RightPeaks[0][0] ^= 1
	for _, tt := range []struct {
		name    string
		oldRoot core.H256
		proof   *mmr.ConsistencyProof
		want    quorum.ProofResult
		wantErr bool
	}{
		{"prefix", root(a, 4), proof, quorum.ProofValid, false},
		{"another prefix, sound proof", root(b, 4), proof, quorum.ProofInvalid, false},
		{"corrupt proof", root(a, 4), bad, quorum.NoProof, true},
		{"corrupt proof, another prefix", root(b, 4), bad, quorum.NoProof, true},
		{"no proof", root(b, 4), nil, quorum.NoProof, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := judgeConsistency(tt.oldRoot, 4, root(a, 10), 10, tt.proof)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
