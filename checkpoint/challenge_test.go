package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

func testKey(t *testing.T, seed byte) core.PrivateKey {
	t.Helper()
	k, err := core.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A divergent provider (its leaf 5 differs from the majority's) is acted
// on according to the two leaves at seq 5: both signed by accounts that are
// or were writers of the bucket is the writer's equivocation, reported and
// not challenged; a leaf of theirs no writer signed, or no leaf at all, is
// challenged on the provider's own signed commitment.
func TestDivergenceDecision(t *testing.T) {
	alice, _ := core.DevKey("alice") // the bucket's owner (admin): a writer
	bob := testKey(t, 0xb0)          // a writer of the bucket
	former := testKey(t, 0xf0)       // lost the writer role
	mallory := testKey(t, 0x66)      // never a member
	none := core.PrivateKey{}        // unsigned
	const diverged = 5

	for _, tt := range []struct {
		name          string
		ours, theirs  core.PrivateKey // who signs the leaves at seq 5
		forgeTheirs   bool            // their signature is over another leaf
		theirsSilent  bool            // they answer commitments but no leaf lists or proofs
		wantChallenge bool
		wantLeaf      uint64 // challenged leaf index (of their own commitment)
		wantReport    bool
	}{
		{name: "both writer-signed: equivocation", ours: alice, theirs: alice, wantReport: true},
		{name: "two writers at one seq: equivocation", ours: alice, theirs: bob, wantReport: true},
		{name: "theirs by a former writer: equivocation", ours: alice, theirs: former, wantReport: true},
		{name: "theirs unsigned: challenge", ours: alice, theirs: none, wantChallenge: true, wantLeaf: diverged},
		{name: "both unsigned: challenge", ours: none, theirs: none, wantChallenge: true, wantLeaf: diverged},
		{name: "theirs by a non-member: challenge", ours: alice, theirs: mallory, wantChallenge: true, wantLeaf: diverged},
		{name: "theirs with a forged signature: challenge", ours: alice, theirs: alice, forgeTheirs: true, wantChallenge: true, wantLeaf: diverged},
		{name: "theirs silent: challenge", ours: alice, theirs: alice, theirsSilent: true, wantChallenge: true, wantLeaf: 0},
		{name: "ours unsigned, theirs writer-signed: nothing", ours: none, theirs: alice},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := []*fakeProvider{newFakeProvider(1), newFakeProvider(2), newFakeProvider(3)}
			for w := 0; w < 8; w++ {
				for i, p := range ps {
					switch {
					case w != diverged:
						p.writeSigned(alice, []byte(fmt.Sprintf("blob %d", w)))
					case i < 2:
						p.writeSigned(tt.ours, []byte("ours"))
					default:
						p.writeSigned(tt.theirs, []byte("theirs"))
					}
				}
			}
			bad := ps[2]
			if tt.forgeTheirs {
				bad.signed[diverged].Signature[0] ^= 0xff
			}
			bad.noLeaves.Store(tt.theirsSilent)
			ch := newFakeChain(ps...)
			ch.writers = []core.AccountID{bob.Account()}
			ch.former = []core.AccountID{former.Account()}
			cfg := testConfig()
			cfg.WaitForAll = true
			cfg.AutoChallenge.Enabled = true
			cfg.AutoChallenge.MinConflicts = 1
			m := newManager(t, ch, cfg)
			events, unsub := m.Subscribe(32)
			defer unsub()
			ctx := context.Background()

			r := m.SubmitCheckpoint(ctx, bucket)
			if r.Kind != Submitted || r.Conflict == nil || len(r.Conflict.Conflicts) != 1 || !r.Conflict.Conflicts[0].Proven {
				t.Fatalf("want a submitted checkpoint with one proven divergence: %+v", r)
			}
			var opens []*wire.OpenChallenge
			var reports []*wire.ReportEquivocation
			ch.mu.Lock()
			for _, c := range ch.calls {
				switch x := c.(type) {
				case *wire.OpenChallenge:
					opens = append(opens, x)
				case *wire.ReportEquivocation:
					reports = append(reports, x)
				}
			}
			ch.mu.Unlock()

			if got := len(opens) == 1; got != tt.wantChallenge || len(opens) > 1 {
				t.Fatalf("%d challenges opened, want challenge=%v", len(opens), tt.wantChallenge)
			}
			if tt.wantChallenge {
				o := opens[0]
				theirs, _ := bad.Commitment(ctx, bucket)
				ev := o.Evidence
				if o.Provider != bad.key.Account() || ev.FromCheckpoint || ev.Commitment == nil ||
					ev.Commitment.Provider != bad.key.Account() || ev.Commitment.MMRRoot != theirs.MMRRoot || ev.Commitment.LeafCount != theirs.LeafCount {
					t.Fatalf("challenge %+v (evidence %+v), want the provider's own signed commitment", o, ev.Commitment)
				}
				if o.LeafIndex != tt.wantLeaf {
					t.Fatalf("challenged leaf %d, want %d", o.LeafIndex, tt.wantLeaf)
				}
				if len(m.OpenChallenges()) != 1 {
					t.Fatalf("challenge not tracked: %v", m.OpenChallenges())
				}
			}

			if got := len(reports) == 1; got != tt.wantReport || len(reports) > 1 {
				t.Fatalf("%d equivocation reports, want report=%v", len(reports), tt.wantReport)
			}
			eqs := m.Equivocations()
			if tt.wantReport {
				rep := reports[0]
				if rep.Bucket != bucket || rep.A.Seq != diverged || rep.B.Seq != diverged || rep.B.Writer != tt.theirs.Account() {
					t.Fatalf("report %+v", rep)
				}
				if len(eqs) != 1 || eqs[0].Seq != diverged || eqs[0].Provider != bad.key.Account() || eqs[0].TxHash == "" {
					t.Fatalf("recorded equivocations %+v", eqs)
				}
				e := waitFor(t, events, func(e Event) bool { return e.Kind == EventEquivocation })
				if e.Provider != bad.key.Account() || e.Leaf != diverged {
					t.Fatalf("event %+v", e)
				}
				var n int
				m.state.read(func(p *persisted) { n = p.Conflicts[bad.key.Account()] })
				if n != 0 {
					t.Fatalf("divergences still recorded against the provider after the equivocation: %d", n)
				}
				// The next attempt sends no second report.
				m.SubmitCheckpoint(ctx, bucket)
				if len(m.Equivocations()) != 1 {
					t.Fatalf("equivocation recorded twice: %+v", m.Equivocations())
				}
			} else if len(eqs) != 0 {
				t.Fatalf("equivocations recorded: %+v", eqs)
			}
		})
	}
}

// The pure rule on its own, for the leaf shapes the wire can carry.
func TestJudgeDifference(t *testing.T) {
	alice, _ := core.DevKey("alice")
	mallory := testKey(t, 0x66)
	b := wire.Bucket{ID: bucket, Owner: alice.Account(), Members: []wire.Member{{Account: alice.Account(), Role: wire.Admin}}}
	leaf := func(data string) core.Leaf {
		return core.Leaf{Seq: 4, ContentHash: core.Sum256([]byte(data)), Size: uint64(len(data))}
	}
	sign := func(k core.PrivateKey, l core.Leaf) *core.SignedLeaf {
		s, err := core.SignLeaf(k, testChainID, bucket, l)
		if err != nil {
			t.Fatal(err)
		}
		return &s
	}
	otherBucket := func() *core.SignedLeaf {
		s, _ := core.SignLeaf(alice, testChainID, bucket+1, leaf("b"))
		return &s
	}
	for _, tt := range []struct {
		name         string
		ours, theirs *core.SignedLeaf
		want         verdictKind
	}{
		{"no leaf of theirs", sign(alice, leaf("a")), nil, verdictChallenge},
		{"theirs unsigned (zero writer)", sign(alice, leaf("a")), &core.SignedLeaf{Leaf: leaf("b")}, verdictChallenge},
		{"theirs by a non-member", sign(alice, leaf("a")), sign(mallory, leaf("b")), verdictChallenge},
		{"theirs signed for another bucket", sign(alice, leaf("a")), otherBucket(), verdictChallenge},
		{"both by the writer", sign(alice, leaf("a")), sign(alice, leaf("b")), verdictEquivocation},
		{"ours unsigned", &core.SignedLeaf{Leaf: leaf("a")}, sign(alice, leaf("b")), verdictNone},
		{"ours missing", nil, sign(alice, leaf("b")), verdictNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := judgeDifference(testChainID, b, bucket, tt.ours, tt.theirs); got.kind != tt.want {
				t.Fatalf("verdict %v (%s), want %v", got.kind, got.reason, tt.want)
			}
		})
	}
}

// A failed audit holds a provider to the checkpoint only if it signed it;
// a primary that did not sign is held to its own signed commitment, and
// only where that commitment reaches and it fails the audit against its
// own root too (lagging is not losing data).
func TestAuditEscalationEvidence(t *testing.T) {
	for _, tt := range []struct {
		name          string
		lagging       bool // the non-signer holds only 3 of the 5 leaves (and proves none against 5)
		wantChallenge bool
	}{
		{"non-signer lost a blob: its own commitment", false, true},
		{"non-signer lagging: nothing", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := cluster(2, 5)
			late := newFakeProvider(3)
			n := 5
			if tt.lagging {
				n = 3
			}
			for w := 0; w < n; w++ {
				late.write([]byte(fmt.Sprintf("blob %d", w)))
			}
			late.down.Store(true) // misses the checkpoint: not a signer
			ch := newFakeChain(append(ps, late)...)
			cfg := testConfig()
			cfg.MaxRetries = 0
			cfg.AutoChallenge.Enabled = true
			cfg.Audit.Samples = 1
			m := newManager(t, ch, cfg)
			ctx := context.Background()
			if r := m.SubmitCheckpoint(ctx, bucket); r.Kind != Submitted || len(r.Signers) != 2 {
				t.Fatalf("%+v", r)
			}
			late.down.Store(false)
			target := uint64(2)
			if tt.lagging {
				target = 4
			} else {
				late.mu.Lock()
				delete(late.blobs, late.leaves[target].ContentHash)
				late.mu.Unlock()
			}
			// Sample until the (late, target) pair comes up.
			var hit *AuditResult
			for i := 0; i < 500 && hit == nil; i++ {
				res, err := m.Audit(ctx, bucket)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range res {
					switch {
					case a.Provider == late.key.Account() && (a.Leaf == target || (tt.lagging && a.Leaf >= 3)):
						hit = &a
					case a.Provider == late.key.Account() && tt.lagging:
						// a lagging provider proves nothing against 5 leaves
					case !a.OK:
						t.Fatalf("a sound pair failed the audit: %+v", a)
					}
				}
			}
			if hit == nil || hit.OK {
				t.Fatalf("the audit never failed the late provider at leaf %d: %+v", target, hit)
			}
			if tt.lagging {
				target = hit.Leaf
			}
			var opens []*wire.OpenChallenge
			ch.mu.Lock()
			for _, c := range ch.calls {
				if x, ok := c.(*wire.OpenChallenge); ok {
					opens = append(opens, x)
				}
			}
			ch.mu.Unlock()
			if !tt.wantChallenge {
				if len(opens) != 0 || hit.Challenge != 0 {
					t.Fatalf("challenged a lagging non-signer: %+v", opens)
				}
				return
			}
			if len(opens) != 1 || hit.Challenge == 0 {
				t.Fatalf("challenges %+v, result %+v: want one", opens, hit)
			}
			ev := opens[0].Evidence
			if ev.FromCheckpoint || ev.Commitment == nil || ev.Commitment.Provider != late.key.Account() || opens[0].LeafIndex != target {
				t.Fatalf("challenge %+v with evidence %+v: want the provider's own commitment at leaf %d", opens[0], ev.Commitment, target)
			}
		})
	}
}

// firstDifference pages through long logs, copes with short pages, and
// when a provider's listing hides its divergence (it lists the majority's
// leaves but signed another root) falls back to its last leaf as its own
// root proves it.
func TestFirstDifference(t *testing.T) {
	for _, tt := range []struct {
		name       string
		leaves     int
		divergeAt  int  // the provider's own leaf differs from here on
		shortPages int  // every provider lists at most this many per request
		lying      bool // the provider lists the majority's leaves
		wantSeq    uint64
		wantTheirs bool // the leaf of theirs found there
	}{
		{"in the first page", 20, 7, 0, false, 7, true},
		{"past the first page", 2500, 1203, 0, false, 1203, true},
		{"short pages", 300, 250, 64, false, 250, true},
		{"lying listing: their last leaf, proved", 40, 39, 0, true, 39, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := []*fakeProvider{newFakeProvider(1), newFakeProvider(2), newFakeProvider(3)}
			for w := 0; w < tt.leaves; w++ {
				for i, p := range ps {
					d := fmt.Sprintf("blob %d", w)
					if i == 2 && w >= tt.divergeAt {
						d = "theirs " + d
					}
					p.write([]byte(d))
				}
			}
			for _, p := range ps {
				p.maxPage = tt.shortPages
			}
			if tt.lying {
				ps[2].listAs = ps[0]
			}
			ch := newFakeChain(ps...)
			cfg := testConfig()
			cfg.WaitForAll = true
			m := newManager(t, ch, cfg)
			ctx := context.Background()
			r := m.SubmitCheckpoint(ctx, bucket)
			theirs, ok := r.commitments[ps[2].key.Account()]
			if r.Kind != Submitted || !ok {
				t.Fatalf("%+v", r)
			}
			d, err := m.firstDifference(ctx, bucket, r, theirs)
			if err != nil {
				t.Fatal(err)
			}
			if d.seq != tt.wantSeq || (d.theirs != nil) != tt.wantTheirs {
				t.Fatalf("difference at %d (theirs %v), want %d (theirs %v)", d.seq, d.theirs, tt.wantSeq, tt.wantTheirs)
			}
			if d.theirs != nil && d.theirs.Leaf != ps[2].leaves[d.seq] {
				t.Fatalf("their leaf %+v, want %+v", d.theirs.Leaf, ps[2].leaves[d.seq])
			}
		})
	}
}
