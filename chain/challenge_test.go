package chain_test

import (
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// scenarioLeafWriter: a challenge answer must carry a leaf a writer of the
// bucket signed, for this chain and bucket; a writer who lost the role
// still stands for the leaves it signed.
func scenarioLeafWriter(e env) {
	f := newChallengeFixture(e)
	id, _ := f.open(e, 1, 1_000)
	answer := func(sl core.SignedLeaf) wire.RespondChallenge {
		a := f.answer(1, id)
		a.Leaf = sl
		return a
	}
	stranger := e.newAccount(0)
	otherBucket := f.bucket + 1000
	for _, c := range []struct {
		name string
		leaf core.SignedLeaf
	}{
		{"no signature", core.SignedLeaf{Leaf: f.log.leaves[1]}},
		{"signed by a non-member", f.log.signed(1, f.chainID, f.bucket, stranger)},
		{"signed for another bucket", f.log.signed(1, f.chainID, otherBucket, f.owner)},
		{"signed for another chain", f.log.signed(1, "other-chain", f.bucket, f.owner)},
		{"signature of another leaf", func() core.SignedLeaf {
			sl := f.log.signed(0, f.chainID, f.bucket, f.owner)
			sl.Leaf = f.log.leaves[1]
			return sl
		}()},
	} {
		e.t.Run(c.name, func(t *testing.T) {
			env{t, e.b}.fail(f.provider, answer(c.leaf), core.Corrupt, 0)
		})
	}
	if c := e.challenge(id); c.State != wire.ChallengeOpen {
		e.t.Fatalf("a refused answer closed the challenge: %+v", c)
	}
	// A writer, then removed: its leaves stand.
	w := e.newAccount(0)
	e.ok(f.owner, wire.SetMember{Bucket: f.bucket, Member: wire.Member{Account: w.Account(), Role: wire.Writer}})
	e.ok(f.owner, wire.SetMember{Bucket: f.bucket, Member: wire.Member{Account: w.Account()}})
	e.ok(f.provider, answer(f.log.signed(1, f.chainID, f.bucket, w)))
	if c := e.challenge(id); c.State != wire.ChallengeAnswered {
		e.t.Fatalf("challenge %+v", c)
	}
	// A reader never could write: its signature does not stand.
	r := e.newAccount(0)
	e.ok(f.owner, wire.SetMember{Bucket: f.bucket, Member: wire.Member{Account: r.Account(), Role: wire.Reader}})
	id2, _ := f.open(e, 2, 1_000)
	a := f.answer(2, id2)
	a.Leaf = f.log.signed(2, f.chainID, f.bucket, r)
	e.fail(f.provider, a, core.Corrupt, 0)
}

// scenarioFormerWriters: removing an admin or writer, or making it a
// reader, lists it once in FormerWriters; promoting or removing a reader
// does not.
func scenarioFormerWriters(e env) {
	owner := e.newAccount(1_000)
	w, a, r := e.newAccount(0), e.newAccount(0), e.newAccount(0)
	id := e.createBucket(owner, wire.CreateBucket{Quorum: 1, Members: []wire.Member{
		{Account: w.Account(), Role: wire.Writer}, {Account: a.Account(), Role: wire.Admin}, {Account: r.Account(), Role: wire.Reader}}})
	set := func(k core.PrivateKey, role wire.MemberRole) {
		e.ok(owner, wire.SetMember{Bucket: id, Member: wire.Member{Account: k.Account(), Role: role}})
	}
	set(r, wire.Writer) // promotion: nothing lost
	set(r, "")          // a writer removed
	set(w, wire.Reader) // a writer downgraded
	set(w, wire.Writer) // back, and down again: listed once
	set(w, "")
	set(a, wire.Writer) // admin to writer: still writes
	set(a, wire.Reader) // now lost
	b := e.bucket(id)
	want := []core.AccountID{r.Account(), w.Account(), a.Account()}
	if len(b.FormerWriters) != len(want) {
		e.t.Fatalf("former writers %v, want %v", b.FormerWriters, want)
	}
	for i := range want {
		if b.FormerWriters[i] != want[i] {
			e.t.Fatalf("former writers %v, want %v", b.FormerWriters, want)
		}
	}
	if !b.LeafSigner(w.Account()) || b.Role(w.Account()).CanWrite() {
		e.t.Errorf("removed writer: LeafSigner %v, role %q", b.LeafSigner(w.Account()), b.Role(w.Account()))
	}
	// unshare_drive of a writer lists it too.
	d := e.createDrive(owner, wire.CreateDrive{Name: "d", Providers: []core.AccountID{e.newProvider().Account()}, Duration: 100,
		Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	dw := e.newAccount(0)
	e.ok(owner, wire.ShareDrive{Drive: d, Member: wire.Member{Account: dw.Account(), Role: wire.Writer}})
	e.ok(owner, wire.UnshareDrive{Drive: d, Account: dw.Account()})
	if b := e.bucket(e.drive(d).Bucket); len(b.FormerWriters) != 1 || b.FormerWriters[0] != dw.Account() {
		e.t.Errorf("after unshare: former writers %v", b.FormerWriters)
	}
}

// scenarioEndAgreementChallenged: the provider cannot end an agreement
// while a challenge against it on the bucket is open; the admin can, and
// that voids the challenge (deposit back, no slash).
func scenarioEndAgreementChallenged(e env) {
	f := newChallengeFixture(e)
	chalBal := e.account(f.challenger.Account()).Balance
	id, _ := f.open(e, 0, 3_000)
	id2, _ := f.open(e, 1, 2_000)
	e.fail(f.provider, wire.EndAgreement{Bucket: f.bucket, Provider: f.provider.Account()}, core.Conflict, 0)
	res := e.ok(f.owner, wire.EndAgreement{Bucket: f.bucket, Provider: f.provider.Account()})
	n := 0
	for _, ev := range res.Events {
		if ev.Type == wire.EventChallengeVoided {
			n++
		}
	}
	if n != 2 {
		e.t.Errorf("%d challenge.voided events, want 2: %+v", n, res.Events)
	}
	for _, id := range []core.ChallengeID{id, id2} {
		if c := e.challenge(id); c.State != wire.ChallengeVoid || c.ClosedHeight != res.Height || c.Slashed != 0 {
			e.t.Errorf("challenge %+v, want void", c)
		}
		e.fail(f.challenger, wire.ResolveChallenge{Challenge: id}, core.Conflict, 0)
	}
	if got := e.account(f.challenger.Account()).Balance; got != chalBal {
		e.t.Errorf("challenger balance %d, want %d (deposits back)", got, chalBal)
	}
	if got := e.account(f.provider.Account()); got.Stake != providerStake {
		e.t.Errorf("provider stake %d", got.Stake)
	}
	// No open challenge is left to lock the stake.
	e.ok(f.provider, wire.WithdrawStake{Amount: 1})
	if d, ok := e.b.(*direct); ok {
		var cs []wire.Challenge
		if err := d.query(e.t, wire.PathChallenges(wire.ChallengeFilter{Bucket: f.bucket, State: wire.ChallengeVoid}), &cs); err != nil || len(cs) != 2 {
			e.t.Errorf("void filter: %v %+v", err, cs)
		}
	}
}

// An answer with an unsigned leaf leaves the challenge open, and the
// deadline slashes it.
func TestUnsignedLeafSlashed(t *testing.T) {
	e := env{t, newDirect(t, "")}
	f := newChallengeFixture(e)
	id, res := f.open(e, 0, 1_000)
	a := f.answer(0, id)
	a.Leaf = core.SignedLeaf{Leaf: a.Leaf.Leaf}
	e.fail(f.provider, a, core.Corrupt, 0)
	for e.b.height(t) <= res.Height+testParams.ChallengeDeadline {
		e.b.waitBlocks(t, 1)
	}
	e.ok(e.newAccount(0), wire.ResolveChallenge{Challenge: id})
	if got := e.account(f.provider.Account()).Stake; got != providerStake-providerStake/10 {
		t.Errorf("stake %d, want slashed", got)
	}
}
