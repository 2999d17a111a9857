package chain_test

import (
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// The attacks of issue 14 on the chain, mounted through a real CometBFT
// validator and chainclient (docs/security.md lists them).

// TestAttackUnfairSlash: an attacker tries to take an honest provider's
// stake by binding it to a bucket without consent and challenging it on a
// made-up root only the attacker's own provider signed.
func TestAttackUnfairSlash(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping a CometBFT run")
	}
	node := newViaNode(t)
	e := env{t, node}
	honest := e.newProviderTerms(wire.ProviderTerms{}) // published no terms
	attacker := e.newAccount(1_000_000)
	own := e.newProvider() // the attacker's own provider
	before := e.account(honest.Account())

	bucket := e.createBucket(attacker, wire.CreateBucket{Quorum: 1})
	// No consent: the honest provider published no terms.
	e.fail(attacker, wire.CreateAgreement{Bucket: bucket, Provider: honest.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000}, core.Unauthorized, 0)
	e.fail(attacker, wire.CreateDrive{Name: "trap", Providers: []core.AccountID{honest.Account()}, Quorum: 1, Duration: 10_000,
		Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}, core.Unauthorized, 0)
	// The honest provider publishes terms; the attacker meets them.
	e.ok(honest, wire.UpdateProvider{Endpoint: "/ip4/127.0.0.1/tcp/4001/http", Capacity: 1 << 40, Terms: openTerms})
	e.ok(attacker, wire.CreateAgreement{Bucket: bucket, Provider: honest.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000})
	e.ok(attacker, wire.CreateAgreement{Bucket: bucket, Provider: own.Account(), Role: wire.Primary, MaxBytes: 1 << 20, Duration: 10_000})

	// The attacker's provider signs a made-up root over 2^40 leaves; with
	// quorum 1 the checkpoint is accepted.
	fake := core.Commitment{ChainID: e.b.chainID(), Bucket: bucket, MMRRoot: core.Sum256([]byte("made up")), LeafCount: 1 << 40}
	e.ok(attacker, wire.SubmitCheckpoint{Bucket: bucket, MMRRoot: fake.MMRRoot, LeafCount: fake.LeafCount, Signatures: sign(t, fake, own)})

	// Challenging the honest provider on it is refused: it did not sign.
	e.fail(attacker, wire.OpenChallenge{Provider: honest.Account(), Bucket: bucket, LeafIndex: 1 << 39,
		Evidence: wire.ChallengeEvidence{FromCheckpoint: true}, Deposit: 1_000}, core.Unauthorized, 0)
	// So is a commitment it did not sign: the attacker's provider's
	// signature presented as the honest one's...
	byOwn, err := fake.Sign(own)
	if err != nil {
		t.Fatal(err)
	}
	posing := byOwn
	posing.Provider = honest.Account()
	e.fail(attacker, wire.OpenChallenge{Provider: honest.Account(), Bucket: bucket, LeafIndex: 1,
		Evidence: wire.ChallengeEvidence{Commitment: &posing}, Deposit: 1_000}, core.Corrupt, 0)
	// ...or as itself.
	e.fail(attacker, wire.OpenChallenge{Provider: honest.Account(), Bucket: bucket, LeafIndex: 1,
		Evidence: wire.ChallengeEvidence{Commitment: &byOwn}, Deposit: 1_000}, core.Invalid, 0)

	open, err := node.c.Challenges(ctx(t), wire.ChallengeFilter{Provider: ptr(honest.Account())})
	if err != nil || len(open) != 0 {
		t.Fatalf("challenges against the honest provider: %v %+v", err, open)
	}
	if after := e.account(honest.Account()); after.Stake != before.Stake || after.Stake != providerStake {
		t.Fatalf("honest stake %d, was %d", after.Stake, before.Stake)
	}
}

// TestAttackHistoryRewrite: a quorum of a bucket's primaries signs a
// checkpoint that moves start_seq forward over different leaves; the
// chain refuses it and the bucket's history stays as it was.
func TestAttackHistoryRewrite(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping a CometBFT run")
	}
	e := env{t, newViaNode(t)}
	f := newCPFixture(e, 2)
	id := e.b.chainID()
	l := newLog(t, 0)
	n := l.write([]byte("a"), []byte("b"), []byte("c"), []byte("d"))
	e.ok(f.writer, l.checkpoint(id, f.bucket, n, f.p1, f.p2))
	var before wire.Checkpoint
	e.q(wire.PathCheckpoint(f.bucket), &before)

	rewritten := newLog(t, 2)
	m := rewritten.write([]byte("C"), []byte("D"), []byte("E"))
	e.fail(f.writer, rewritten.checkpoint(id, f.bucket, m, f.p1, f.p2, f.p3), core.Conflict, 0)
	e.fail(f.owner, rewritten.checkpoint(id, f.bucket, m, f.p1, f.p2, f.p3), core.Conflict, 0)

	var after wire.Checkpoint
	e.q(wire.PathCheckpoint(f.bucket), &after)
	if after.StartSeq != 0 || after.LeafCount != n || after.MMRRoot != before.MMRRoot || after.Height != before.Height {
		t.Fatalf("latest checkpoint %+v, was %+v", after, before)
	}
	var hist []wire.Checkpoint
	e.q(wire.PathCheckpoints(f.bucket), &hist)
	if len(hist) != 1 {
		t.Fatalf("history %+v", hist)
	}
}
