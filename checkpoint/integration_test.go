package checkpoint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
)

// TestMain checks that no goroutine outlives the tests: not the manager's
// collectors, loops or retries, not a provider's, not a client's. The unit
// tests (package checkpoint) and these share the one test binary, so this
// is the package's only TestMain.
func TestMain(m *testing.M) { devnettest.Main(m) }

// TestIntegrationAllAgree: three healthy providers sign; the checkpoint
// lands with the drive root; the next one after more writes extends it
// (the chain checks the consistency proof); with nothing new, no
// transaction is sent.
func TestIntegrationAllAgree(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	mgr := tn.manager(fastConfig())
	all := tn.accountsOf(0, 1, 2)

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, all, tn.pending.RootCID)
	if sc := tn.commitment(0); r.MMRRoot != sc.MMRRoot || r.LeafCount != sc.LeafCount || r.Conflict != nil || len(r.Unreachable) != 0 {
		t.Fatalf("result %+v, provider commits to %+v", r, sc.Commitment)
	}
	if bh, err := tn.chain.BlockHash(tn.ctx, r.Height); err != nil || r.BlockHash != bh.String() {
		t.Fatalf("block hash %q, the chain's block %d is %s (%v)", r.BlockHash, r.Height, bh, err)
	}
	if mgr.IsDirty(tn.bucket()) {
		t.Fatal("still dirty after the checkpoint")
	}
	if _, ok := mgr.PendingRootOf(tn.bucket()); ok {
		t.Fatal("the pending root outlived its checkpoint")
	}

	up, err := tn.fsFor(mgr).UploadFile(tn.ctx, "docs", "/second.txt", bytes.NewReader([]byte("more")), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r2 := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r2, all, up.RootCID)
	if r2.LeafCount != r.LeafCount+up.Writes || r2.AlreadyOnChain {
		t.Fatalf("second checkpoint %d leaves (already on chain: %v), want %d", r2.LeafCount, r2.AlreadyOnChain, r.LeafCount+up.Writes)
	}

	r3 := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	if r3.Kind != checkpoint.Submitted || !r3.AlreadyOnChain || r3.Height != r2.Height {
		t.Fatalf("nothing new: %+v, want already on chain at height %d", r3, r2.Height)
	}
}

// TestIntegrationOneHungEarlyQuorum: one of five providers accepts the
// connection and never answers, with the seed's 30 s timeout and 3
// retries. Early quorum still lands the checkpoint (a build that waited
// would run into the 20 s context), the hung provider is cancelled, asked
// once per round and never retried, and its health is not held against it.
func TestIntegrationOneHungEarlyQuorum(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{providers: 5})
	cfg := fastConfig()
	cfg.ProviderTimeout = 30 * time.Second
	cfg.MaxRetries = 3
	cfg.GraceWindow = time.Second // for the four healthy ones, on a loaded machine
	cfg.GraceFloor = cfg.GraceWindow
	mgr := tn.manager(cfg)
	const hung = 3
	tn.faults.set(tn.hosts[hung], fault{hang: true})
	ctx, cancel := context.WithTimeout(tn.ctx, 20*time.Second)
	defer cancel()

	coll, err := mgr.CollectCommitments(ctx, tn.bucket())
	if err != nil {
		t.Fatal(err)
	}
	if !coll.Reached || !slices.Equal(coll.Cancelled, tn.accountsOf(hung)) || slices.Contains(coll.Agreeing, tn.accounts[hung]) ||
		len(coll.Unreachable)+len(coll.Invalid) != 0 || len(coll.Agreeing) < coll.Required {
		t.Fatalf("collection: reached %v, agreeing %d of %d required, cancelled %v, unreachable %v, invalid %v",
			coll.Reached, len(coll.Agreeing), coll.Required, coll.Cancelled, coll.Unreachable, coll.Invalid)
	}

	r := mgr.SubmitCheckpoint(ctx, tn.bucket())
	if r.Kind != checkpoint.Submitted {
		t.Fatalf("result %s: %v", r.Kind, r.Err())
	}
	if slices.Contains(r.Signers, tn.accounts[hung]) || slices.Contains(r.Unreachable, tn.accounts[hung]) || len(r.Signers) < 3 {
		t.Fatalf("signers %v, unreachable %v (hung: %s)", r.Signers, r.Unreachable, tn.accounts[hung].Short())
	}
	tn.checkSubmitted(r, r.Signers, tn.pending.RootCID)
	if n := len(tn.faults.commitmentRequests(tn.hosts[hung])); n != 2 {
		t.Fatalf("the hung provider was asked %d times in two rounds, want once per round", n)
	}
	if h, ok := mgr.HealthHistory(tn.accounts[hung]); ok && (h.TotalRequests != 0 || h.ConsecutiveFailures != 0) {
		t.Fatalf("the hung provider's health was penalised for being cancelled: %+v", h)
	}
	for i, a := range tn.accounts {
		if h, _ := mgr.HealthHistory(a); i != hung && slices.Contains(r.Signers, a) && !h.IsHealthy() {
			t.Fatalf("provider %d signed but is %s: %+v", i, h.Status(), h)
		}
	}
}

// TestIntegrationOneDead: a stopped provider is unreachable, retried with
// back-off, recorded against its health, and the two others land the
// checkpoint.
func TestIntegrationOneDead(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	mgr := tn.manager(cfg)
	const dead = 2
	if err := tn.net.StopProvider(dead); err != nil {
		t.Fatal(err)
	}

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1), tn.pending.RootCID)
	if !slices.Equal(r.Unreachable, tn.accountsOf(dead)) {
		t.Fatalf("unreachable %v, want the dead provider %s", r.Unreachable, tn.accounts[dead].Short())
	}
	h, _ := mgr.HealthHistory(tn.accounts[dead])
	if want := uint64(cfg.MaxRetries + 1); h.TotalRequests != want || h.Successes != 0 || h.ConsecutiveFailures != int(want) || h.LastError == "" || h.IsHealthy() {
		t.Fatalf("dead provider's health %+v, want %d failed requests", h, want)
	}
	byHealth, err := mgr.ProvidersByHealth(tn.ctx, tn.bucket())
	if err != nil {
		t.Fatal(err)
	}
	if last := byHealth[len(byHealth)-1]; last.Account != tn.accounts[dead] {
		t.Fatalf("the dead provider is not last by health: %v", last)
	}
}

// TestIntegrationSlowThenRecovered: a provider's first two commitment
// requests fail; retries with doubling back-off reach it, it signs, and
// its health shows the two failures and the recovery.
func TestIntegrationSlowThenRecovered(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.MaxRetries = 3
	mgr := tn.manager(cfg)
	const slow = 1
	tn.faults.set(tn.hosts[slow], fault{failFirst: 2})

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), tn.pending.RootCID)
	at := tn.faults.commitmentRequests(tn.hosts[slow])
	if len(at) != 3 {
		t.Fatalf("the slow provider was asked %d times, want 3 (two failures, then success)", len(at))
	}
	if g1, g2 := at[1].Sub(at[0]), at[2].Sub(at[1]); g1 < cfg.RetryDelay || g2 < 2*cfg.RetryDelay {
		t.Fatalf("retried after %s then %s, want back-off of at least %s then %s", g1, g2, cfg.RetryDelay, 2*cfg.RetryDelay)
	}
	h, _ := mgr.HealthHistory(tn.accounts[slow])
	if h.TotalRequests != 3 || h.Successes != 1 || h.ConsecutiveFailures != 0 || h.LastError != "" || h.Status() != checkpoint.StatusDegraded {
		t.Fatalf("slow provider's health %+v (%s), want 1 success in 3 requests, recovered, degraded", h, h.Status())
	}
}

// TestIntegrationBehindWaitsForSync: a provider misses writes the others
// took, and every provider must sign (threshold 100 %), so the threshold
// is missed until it catches up. The manager proves it is only behind (a
// consistency proof from the majority), resolves WaitForSync, waits blocks
// and collects again until the provider has synced from its peers, then
// submits with all three.
func TestIntegrationBehindWaitsForSync(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.ThresholdPercent = 100
	cfg.SyncWaits = 50
	cfg.SyncLeavesPerBlock = 1
	cfg.MaxSyncWaitBlocks = 3
	mgr := tn.manager(cfg)
	events := subscribe(t, mgr)
	const lag = 2

	// Providers sync from their peers once a second. Write one leaf to
	// the others and wait for the laggard to pull it: it just synced, so
	// the next write stays missing from it for most of a second (if the
	// machine is too slow for that, the attempt is made again).
	for attempt := 1; ; attempt++ {
		seq := tn.nextSeq(0)
		tn.mustWrite(seq, []byte(fmt.Sprintf("lead %d", seq)), 0, 1)
		tn.eventually(30*time.Second, "the lagging provider never synced", func() bool { return tn.nextSeq(lag) == seq+1 })
		tn.mustWrite(seq+1, []byte(fmt.Sprintf("missed %d", seq+1)), 0, 1)

		r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
		tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), "")
		if r.StartSeq+r.LeafCount != seq+2 {
			t.Fatalf("checkpoint covers %d leaves from %d, want up to seq %d", r.LeafCount, r.StartSeq, seq+2)
		}
		var waited *checkpoint.ProviderConflict
		for _, e := range drain(events) {
			if e.Kind == checkpoint.EventConflict && e.Conflict.Resolution.Kind == quorum.WaitForSync {
				waited = e.Conflict
				break
			}
		}
		if waited == nil {
			if attempt < 5 {
				t.Logf("attempt %d: the laggard synced before the first collection; again", attempt)
				continue
			}
			t.Fatal("no WaitForSync conflict: the provider was never seen behind")
		}
		want := quorum.Conflict{Provider: tn.accounts[lag], Kind: quorum.SyncDelay, BehindBy: 1}
		if len(waited.Conflicts) != 1 || waited.Conflicts[0].Provider != want.Provider || waited.Conflicts[0].Kind != want.Kind ||
			waited.Conflicts[0].BehindBy != want.BehindBy || waited.Conflicts[0].Proven || waited.Resolution.EstimatedBlocks != 2 {
			t.Fatalf("conflict %+v, want %+v resolved by waiting 2 blocks (1 + 1 leaf at 1 leaf a block)", waited, want)
		}
		return
	}
}

// TestIntegrationAhead: a provider holds a leaf the others do not have
// yet. The majority checkpoints without it, and the provider is proved
// Ahead (its consistency proof extends the majority's root), not diverged.
func TestIntegrationAhead(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	mgr := tn.manager(fastConfig())
	const ahead = 0
	// The others pull the extra leaf within a second; if one did before
	// the collection, converge and try again.
	for attempt := 1; ; attempt++ {
		seq := tn.nextSeq(ahead)
		tn.mustWrite(seq, []byte(fmt.Sprintf("ahead %d", seq)), ahead)
		coll, pc, err := mgr.CollectCommitmentsWithConflicts(tn.ctx, tn.bucket())
		if err != nil {
			t.Fatal(err)
		}
		if coll.StartSeq+coll.LeafCount != seq {
			if attempt < 5 {
				t.Logf("attempt %d: the others synced before the collection; again", attempt)
				tn.converged(0, 1, 2)
				continue
			}
			t.Fatalf("the majority holds %d leaves, want %d", coll.LeafCount, seq)
		}
		if !coll.Reached || !slices.Equal(coll.Agreeing, tn.accountsOf(1, 2)) || len(coll.Disagreeing) != 1 {
			t.Fatalf("collection %+v", coll)
		}
		if pc == nil || len(pc.Conflicts) != 1 {
			t.Fatalf("conflict %+v, want one", pc)
		}
		c := pc.Conflicts[0]
		if c.Provider != tn.accounts[ahead] || c.Kind != quorum.Ahead || c.AheadBy != 1 || c.Proven || pc.Resolution.Kind != quorum.ProceedWithMajority {
			t.Fatalf("conflict %+v resolved %+v, want provider %s ahead by 1, proceed", c, pc.Resolution, tn.accounts[ahead].Short())
		}
		return
	}
}

// TestIntegrationDivergedChallengedAndSlashed: at equal leaf count one
// provider holds a different blob under a common last leaf. The majority
// checkpoints; the manager proves the divergence and compares the two
// leaves at the first difference. Both signed by the writer: the writer's
// equivocation is reported and nobody is challenged. Otherwise the
// provider is challenged at that leaf of its own signed commitment (never
// the checkpoint it did not sign); unanswered past the deadline, the
// manager resolves it and the chain slashes exactly its share.
func TestIntegrationDivergedChallengedAndSlashed(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.AutoChallenge = checkpoint.AutoChallengeConfig{Enabled: true, MinConflicts: 1, Cooldown: time.Minute, MaxPerPeriod: 10, Period: time.Hour, Deposit: 1_000}
	mgr := tn.manager(cfg)
	events := subscribe(t, mgr)

	// Write different blobs at the same seq: one to provider 0, another to
	// 1 and 2, at once. Equal leaf counts never sync, but a provider can
	// pull the other blob before its own write lands; then the odd one
	// out is whichever ended alone.
	var seq uint64
	bad := -1
	for attempt := 1; bad < 0; attempt++ {
		seq = tn.nextSeq(0)
		errs := append(tn.write(seq, []byte(fmt.Sprintf("theirs %d", seq)), 0), tn.write(seq, []byte(fmt.Sprintf("ours %d", seq)), 1, 2)...)
		tn.eventually(30*time.Second, "the writes never settled", func() bool {
			return tn.nextSeq(0) > seq && tn.nextSeq(1) > seq && tn.nextSeq(2) > seq
		})
		roots := []core.H256{tn.commitment(0).MMRRoot, tn.commitment(1).MMRRoot, tn.commitment(2).MMRRoot}
		for i := range roots {
			if roots[i] != roots[(i+1)%3] && roots[i] != roots[(i+2)%3] {
				bad = i
			}
		}
		if bad < 0 && attempt == 3 {
			t.Fatalf("no divergence after 3 attempts (write errors %v)", errs)
		}
	}
	good := []int{(bad + 1) % 3, (bad + 2) % 3}
	// A common leaf on top: the first difference is not the last leaf.
	tn.mustWrite(seq+1, []byte(fmt.Sprintf("common %d", seq+1)), 0, 1, 2)
	stakeBefore := tn.stake(tn.accounts[bad])
	params, err := tn.chain.Params(tn.ctx)
	if err != nil {
		t.Fatal(err)
	}

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(good...), tn.pending.RootCID)
	if r.Conflict == nil || len(r.Conflict.Conflicts) != 1 {
		t.Fatalf("conflict %+v, want one", r.Conflict)
	}
	c := r.Conflict.Conflicts[0]
	if c.Provider != tn.accounts[bad] || c.Kind != quorum.DataDivergence || !c.Proven || c.LeafCount != r.LeafCount ||
		r.Conflict.Resolution.Kind != quorum.ConsiderChallenge || r.Conflict.Resolution.Provider != tn.accounts[bad] {
		t.Fatalf("conflict %+v resolved %+v, want provider %s proven diverged", c, r.Conflict.Resolution, tn.accounts[bad].Short())
	}

	// Two leaves at one seq that the writer signed both are the writer's
	// equivocation, reported instead of challenged; providers that do not
	// keep the writer's signature show a leaf no writer signed, and are
	// challenged on their own signed commitment.
	theirLeaves, err := tn.raw[bad].Leaves(tn.ctx, tn.bucket(), seq, 1)
	if err != nil || len(theirLeaves) != 1 {
		t.Fatalf("their leaf at %d: %v %v", seq, theirLeaves, err)
	}
	// (A zero writer is an unsigned leaf: ZIP-215 accepts the all-zero key
	// with an all-zero signature, so Verify alone does not say "signed".)
	if !theirLeaves[0].Writer.IsZero() && theirLeaves[0].Verify(tn.chainID, tn.bucket()) == nil {
		e := waitEvent(t, events, 30*time.Second, "equivocation.reported", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventEquivocation })
		if e.Provider != tn.accounts[bad] || e.Leaf != seq || len(mgr.OpenChallenges()) != 0 {
			t.Fatalf("equivocation %+v (open challenges %v), want provider %s at seq %d and no challenge", e, mgr.OpenChallenges(), tn.accounts[bad].Short(), seq)
		}
		if got := tn.stake(tn.accounts[bad]); got != stakeBefore {
			t.Fatalf("a provider holding a writer-signed leaf lost stake: %d -> %d", stakeBefore, got)
		}
		return
	}
	opened := waitEvent(t, events, 30*time.Second, "challenge.opened", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventChallengeOpened })
	if opened.Provider != tn.accounts[bad] || opened.Leaf != seq-r.StartSeq || opened.Challenge == 0 {
		t.Fatalf("challenge opened %+v, want provider %s at leaf %d", opened, tn.accounts[bad].Short(), seq-r.StartSeq)
	}
	ch, err := tn.chain.Challenge(tn.ctx, opened.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	// Held to its own signed commitment, not to the checkpoint it did not sign.
	if ch.Provider != tn.accounts[bad] || ch.LeafIndex != seq-r.StartSeq || ch.MMRRoot != c.Root || ch.MMRRoot == r.MMRRoot || ch.LeafCount != c.LeafCount || ch.Challenger != tn.alice.Account() {
		t.Fatalf("challenge on chain %+v, want provider %s, leaf %d of its own commitment (root %s)", ch, tn.accounts[bad].Short(), seq-r.StartSeq, c.Root)
	}

	ch = tn.resolveWhenExpired(mgr, ch.ID)
	for _, i := range good {
		if got := tn.stake(tn.accounts[i]); got != stakeBefore {
			t.Fatalf("honest provider %d's stake moved: %d", i, got)
		}
	}
	if ch.State == wire.ChallengeAnswered {
		// The provider proved its leaf under its own root; only a chain
		// that checks the answer's writer signature slashes a leaf no
		// writer signed. Either way nothing was taken on others' roots.
		if got := tn.stake(tn.accounts[bad]); got != stakeBefore {
			t.Fatalf("answered challenge, stake %d -> %d", stakeBefore, got)
		}
		t.Logf("challenge answered: this chain does not check the answer's writer signature")
		return
	}
	wantSlash := stakeBefore * params.SlashFractionBps / 10_000
	if ch.State != wire.ChallengeSlashed || ch.Slashed != wantSlash || wantSlash == 0 {
		t.Fatalf("challenge %s, slashed %d, want slashed %d (%d bps of %d)", ch.State, ch.Slashed, wantSlash, params.SlashFractionBps, stakeBefore)
	}
	if got := tn.stake(tn.accounts[bad]); got != stakeBefore-wantSlash {
		t.Fatalf("stake %d after the slash, want %d - %d", got, stakeBefore, wantSlash)
	}
	for _, i := range good {
		if got := tn.stake(tn.accounts[i]); got != stakeBefore {
			t.Fatalf("honest provider %d's stake moved: %d", i, got)
		}
	}
	waitEvent(t, events, 30*time.Second, "challenge.resolved", func(e checkpoint.Event) bool {
		return e.Kind == checkpoint.EventChallengeResolved && e.Challenge == ch.ID
	})
	if open := mgr.OpenChallenges(); len(open) != 0 {
		t.Fatalf("still tracking %v", open)
	}
}

// TestIntegrationForgedSignature: one provider's commitments arrive with a
// corrupted signature. They are never counted, not retried (the error is
// permanent), the provider is marked Invalid and in its health, and the
// other two land the checkpoint.
func TestIntegrationForgedSignature(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	mgr := tn.manager(fastConfig())
	const forger = 1
	tn.faults.set(tn.hosts[forger], fault{corruptSig: true})

	coll, err := mgr.CollectCommitments(tn.ctx, tn.bucket())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(coll.Invalid, tn.accountsOf(forger)) || !slices.Equal(coll.Agreeing, tn.accountsOf(0, 2)) || !coll.Reached {
		t.Fatalf("invalid %v, agreeing %v, reached %v", coll.Invalid, coll.Agreeing, coll.Reached)
	}
	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 2), tn.pending.RootCID)
	if n := len(tn.faults.commitmentRequests(tn.hosts[forger])); n != 2 {
		t.Fatalf("the forger was asked %d times in two rounds, want once each (a bad signature is not retried)", n)
	}
	h, _ := mgr.HealthHistory(tn.accounts[forger])
	if h.TotalRequests != 2 || h.Successes != 0 || h.LastError == "" {
		t.Fatalf("forger's health %+v, want 2 failed requests", h)
	}
}

// TestIntegrationAllUnreachableThenBack: with every provider stopped the
// result is ProvidersUnreachable and the pending root stays owed; once
// they are back the same manager lands it.
func TestIntegrationAllUnreachableThenBack(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.MaxRetries = 1
	mgr := tn.manager(cfg)
	for i := range tn.accounts {
		if err := tn.net.StopProvider(i); err != nil {
			t.Fatal(err)
		}
	}

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	if r.Kind != checkpoint.ProvidersUnreachable || !slices.Equal(r.Unreachable, tn.accountsOf(0, 1, 2)) || !errors.Is(r.Err(), core.Unavailable) {
		t.Fatalf("result %s, unreachable %v (%v), want all three unreachable", r.Kind, r.Unreachable, r.Err())
	}
	if pr, ok := mgr.PendingRootOf(tn.bucket()); !ok || pr != tn.pending || !mgr.IsDirty(tn.bucket()) {
		t.Fatal("the failed checkpoint lost the pending change")
	}
	if _, err := tn.chain.LatestCheckpoint(tn.ctx, tn.bucket()); core.KindOf(err) != core.NotFound {
		t.Fatalf("a checkpoint without providers: %v", err)
	}

	for i := range tn.accounts {
		if err := tn.net.StartProvider(tn.ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	r = mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), tn.pending.RootCID)
}

// TestIntegrationChainDownDuringSubmit: the chain stops after discovery is
// cached; the providers still sign, the checkpoint fails with
// TransactionFailed, and the change stays owed, on disk too. With the
// chain back, the next attempt lands it.
func TestIntegrationChainDownDuringSubmit(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.MaxRetries = 1
	state := filepath.Join(t.TempDir(), "state.json")
	mgr := tn.manager(cfg, checkpoint.WithStateFile(state))
	if _, err := mgr.CollectCommitments(tn.ctx, tn.bucket()); err != nil { // caches discovery and the chain id
		t.Fatal(err)
	}
	if err := tn.net.StopChain(); err != nil {
		t.Fatal(err)
	}

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	if r.Kind != checkpoint.TransactionFailed || r.Cause == nil || !errors.Is(r.Err(), core.Unavailable) {
		t.Fatalf("result %s (%v), want transaction_failed", r.Kind, r.Err())
	}
	reopened := tn.newManager(cfg, checkpoint.WithStateFile(state))
	for name, m := range map[string]*checkpoint.Manager{"manager": mgr, "state file": reopened} {
		if pr, ok := m.PendingRootOf(tn.bucket()); !ok || pr != tn.pending || !m.IsDirty(tn.bucket()) {
			t.Fatalf("%s: the failed checkpoint lost the pending change", name)
		}
		if last, ok := m.LastResult(tn.bucket()); !ok || last.Kind != checkpoint.TransactionFailed {
			t.Fatalf("%s: last result %+v", name, last)
		}
	}

	if err := tn.net.StartChain(tn.ctx); err != nil {
		t.Fatal(err)
	}
	r = mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), tn.pending.RootCID)
	if mgr.IsDirty(tn.bucket()) {
		t.Fatal("still dirty after the checkpoint landed")
	}
}

// TestIntegrationDriveRootOwedUntilProved: the checkpoint lands but the
// drive root cannot go with it (no provider answers the proof that the
// root's blob is under the checkpointed root). The root stays owed and the
// bucket dirty, so the loop carries it as soon as the proof can be had.
func TestIntegrationDriveRootOwedUntilProved(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	mgr := tn.manager(fastConfig())
	for _, h := range tn.hosts {
		tn.faults.set(h, fault{failProofs: true})
	}

	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), "")
	if r.DriveRoot != "" || tn.onChainDrive().RootCID != "" {
		t.Fatalf("a drive root went on chain without its proof: %q", r.DriveRoot)
	}
	if pr, ok := mgr.PendingRootOf(tn.bucket()); !ok || pr != tn.pending || !mgr.IsDirty(tn.bucket()) {
		t.Fatalf("the root that did not go on chain is no longer owed: pending %v, dirty %v", ok, mgr.IsDirty(tn.bucket()))
	}

	for _, h := range tn.hosts {
		tn.faults.set(h, fault{})
	}
	events := subscribe(t, mgr)
	h, err := mgr.StartLoop(tn.ctx, checkpoint.LoopConfig{IntervalBlocks: 1, MaxConsecutiveFailures: 3}, tn.chain)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	e := waitEvent(t, events, 30*time.Second, "checkpoint.submitted", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventSubmitted })
	tn.checkSubmitted(e.Result, tn.accountsOf(0, 1, 2), tn.pending.RootCID)
	if mgr.IsDirty(tn.bucket()) {
		t.Fatal("still dirty once the root is on chain")
	}
}

// TestIntegrationLoopPausesAndResumes: the background loop, ticking on the
// chain's blocks, fails against stopped providers, pauses after
// MaxConsecutiveFailures, stays paused when they return, and submits once
// resumed.
func TestIntegrationLoopPausesAndResumes(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.MaxRetries = 0
	mgr := tn.manager(cfg)
	events := subscribe(t, mgr)
	for i := range tn.accounts {
		if err := tn.net.StopProvider(i); err != nil {
			t.Fatal(err)
		}
	}
	h, err := mgr.StartLoop(tn.ctx, checkpoint.LoopConfig{IntervalBlocks: 1, MaxConsecutiveFailures: 2}, tn.chain, tn.bucket())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })

	isFailed := func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventFailed }
	if e := waitEvent(t, events, 30*time.Second, "first failure", isFailed); !e.WillRetry || e.Result.Kind != checkpoint.ProvidersUnreachable {
		t.Fatalf("first failure %+v, want providers unreachable, will retry", e)
	}
	if e := waitEvent(t, events, 30*time.Second, "second failure", isFailed); e.WillRetry {
		t.Fatalf("second failure %+v, want no retry", e)
	}
	if e := waitEvent(t, events, 30*time.Second, "loop.paused", func(checkpoint.Event) bool { return true }); e.Kind != checkpoint.EventPaused {
		t.Fatalf("after the last failure: %s, want %s", e.Kind, checkpoint.EventPaused)
	}
	if !h.IsPaused() || !h.IsRunning() {
		t.Fatalf("paused %v, running %v", h.IsPaused(), h.IsRunning())
	}

	for i := range tn.accounts {
		if err := tn.net.StartProvider(tn.ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	h0 := tn.height()
	tn.eventually(30*time.Second, "no blocks", func() bool { return tn.height() >= h0+5 })
	for _, e := range drain(events) {
		t.Fatalf("a paused loop acted: %s", e.Kind)
	}
	if !mgr.IsDirty(tn.bucket()) {
		t.Fatal("paused, yet no longer dirty")
	}

	if err := h.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 30*time.Second, "loop.resumed", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventResumed })
	e := waitEvent(t, events, 30*time.Second, "checkpoint.submitted", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventSubmitted })
	tn.checkSubmitted(e.Result, tn.accountsOf(0, 1, 2), tn.pending.RootCID)
	if err := h.Stop(); err != nil || h.IsRunning() {
		t.Fatalf("stop: %v, running %v", err, h.IsRunning())
	}
}

// TestIntegrationRestartWithDirtyState: a client uploads through fs with
// the Manual strategy and goes away owing the checkpoint. A new client on
// the same state file starts its loop, which submits the owed checkpoint
// with the pending drive root, and the chain's drive root is the upload's.
func TestIntegrationRestartWithDirtyState(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{noUpload: true})
	state := filepath.Join(t.TempDir(), "state.json")

	first := tn.newManager(fastConfig(), checkpoint.WithStateFile(state))
	fsc := tn.fsFor(first)
	up, err := fsc.UploadFile(tn.ctx, "docs", "/owed.txt", bytes.NewReader([]byte("owed to the chain")), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if up.Checkpoint != nil || !first.IsDirty(tn.bucket()) {
		t.Fatalf("a manual drive checkpointed on its own: %+v", up.Checkpoint)
	}

	second := tn.newManager(fastConfig(), checkpoint.WithStateFile(state))
	if pr, ok := second.PendingRootOf(tn.bucket()); !ok || pr.RootCID != up.RootCID {
		t.Fatalf("restarted: pending root %+v, want %s", pr, up.RootCID)
	}
	events := subscribe(t, second)
	h, err := second.StartLoop(tn.ctx, checkpoint.LoopConfig{IntervalBlocks: 1, MaxConsecutiveFailures: 3}, tn.chain)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	e := waitEvent(t, events, 30*time.Second, "checkpoint.submitted", func(e checkpoint.Event) bool { return e.Kind == checkpoint.EventSubmitted })
	if e.Bucket != tn.bucket() {
		t.Fatalf("submitted bucket %s, want %s", e.Bucket, tn.bucket())
	}
	tn.checkSubmitted(e.Result, tn.accountsOf(0, 1, 2), up.RootCID)
	h.Stop()

	third := tn.newManager(fastConfig(), checkpoint.WithStateFile(state))
	if _, ok := third.PendingRootOf(tn.bucket()); ok || third.IsDirty(tn.bucket()) {
		t.Fatal("the state file still owes the checkpoint")
	}
}

// TestIntegrationAuditFindsDeletedChunk: a provider loses the blob of a
// file chunk (deleted from its Pebble store while it was stopped). Random
// audits of the checkpointed leaves catch it on exactly that (provider,
// leaf), pass everywhere else, and open one on-chain challenge, which the
// provider cannot answer: it is slashed after the deadline.
func TestIntegrationAuditFindsDeletedChunk(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netOptions{})
	cfg := fastConfig()
	cfg.AutoChallenge = checkpoint.AutoChallengeConfig{Enabled: true, MinConflicts: 1, Cooldown: time.Minute, MaxPerPeriod: 10, Period: time.Hour, Deposit: 1_000}
	cfg.Audit = checkpoint.AuditConfig{Samples: 3}
	mgr := tn.manager(cfg, checkpoint.WithRand(rand.New(rand.NewPCG(5, 1))))
	r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
	tn.checkSubmitted(r, tn.accountsOf(0, 1, 2), tn.pending.RootCID)

	chunk := core.Sum256(tn.data)
	leaves, err := tn.raw[0].Leaves(tn.ctx, tn.bucket(), r.StartSeq, int(r.LeafCount))
	if err != nil {
		t.Fatal(err)
	}
	idx := slices.IndexFunc(leaves, func(l core.SignedLeaf) bool { return l.ContentHash == chunk })
	if idx < 0 {
		t.Fatalf("no leaf holds the file's chunk in %+v", leaves)
	}
	const victim = 1
	if err := tn.net.DropBlob(tn.ctx, victim, chunk); err != nil {
		t.Fatal(err)
	}

	// Audit until a sample hits the lost blob: 9 (provider, leaf) pairs,
	// so a few rounds; 40 rounds miss it once in 10^6 (and the seed fixes
	// the draws for a given set of accounts).
	var challenge core.ChallengeID
	hits := 0
	for round := 0; challenge == 0 && round < 40; round++ {
		results, err := mgr.Audit(tn.ctx, tn.bucket())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range results {
			lost := a.Provider == tn.accounts[victim] && a.Leaf == uint64(idx)
			switch {
			case lost && a.OK:
				t.Fatalf("audit passed a provider without the blob: %+v", a)
			case lost:
				hits++
				if a.Challenge != 0 && challenge != 0 {
					t.Fatalf("a second challenge %s despite the cooldown", a.Challenge)
				} else if a.Challenge != 0 {
					challenge = a.Challenge
				}
			case !a.OK:
				t.Fatalf("audit failed a sound (provider, leaf): %+v", a)
			}
		}
	}
	if hits == 0 || challenge == 0 {
		t.Fatalf("%d audits hit the lost blob, challenge %s: want it hit and challenged", hits, challenge)
	}
	ch, err := tn.chain.Challenge(tn.ctx, challenge)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Provider != tn.accounts[victim] || ch.LeafIndex != uint64(idx) || ch.MMRRoot != r.MMRRoot {
		t.Fatalf("challenge %+v, want provider %s at leaf %d", ch, tn.accounts[victim].Short(), idx)
	}
	if ch = tn.resolveWhenExpired(mgr, challenge); ch.State != wire.ChallengeSlashed || ch.Slashed == 0 {
		t.Fatalf("challenge %s, slashed %d: the provider answered without its blob?", ch.State, ch.Slashed)
	}
}
