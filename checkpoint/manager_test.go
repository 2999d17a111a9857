package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

const bucket = core.BucketID(7)

func testConfig() Config {
	c := DefaultConfig()
	c.ProviderTimeout = 2 * time.Second
	c.RetryDelay = 5 * time.Millisecond
	c.GraceWindow = 20 * time.Millisecond
	c.BlockPoll = time.Millisecond
	return c
}

// cluster makes n providers that all hold the same `writes` leaves.
func cluster(n, writes int) []*fakeProvider {
	ps := make([]*fakeProvider, n)
	for i := range ps {
		ps[i] = newFakeProvider(byte(i + 1))
		for w := 0; w < writes; w++ {
			ps[i].write([]byte(fmt.Sprintf("blob %d", w)))
		}
	}
	return ps
}

func newManager(t *testing.T, ch *fakeChain, cfg Config, opts ...Option) *Manager {
	t.Helper()
	alice, _ := core.DevKey("alice")
	m, err := New(ch, ch.dialer(), alice, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAllAgree(t *testing.T) {
	ps := cluster(3, 10)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, ch, cfg)
	ctx := context.Background()

	r := m.SubmitCheckpoint(ctx, bucket)
	if r.Kind != Submitted || len(r.Signers) != 3 || r.LeafCount != 10 || r.Conflict != nil {
		t.Fatalf("result %+v", r)
	}
	// More writes: the next checkpoint carries a consistency proof the chain checks.
	for _, p := range ps {
		p.write([]byte("more"))
	}
	r = m.SubmitCheckpoint(ctx, bucket)
	if r.Kind != Submitted || r.LeafCount != 11 {
		t.Fatalf("second: %+v (%v)", r, r.Err())
	}
	subs := ch.submitted()
	if len(subs) != 2 || subs[1].Consistency == nil {
		t.Fatalf("want 2 submissions, the second with a consistency proof: %d", len(subs))
	}
	// Nothing new: no transaction.
	r = m.SubmitCheckpoint(ctx, bucket)
	if r.Kind != Submitted || !r.AlreadyOnChain || len(ch.submitted()) != 2 {
		t.Fatalf("third: %+v, %d submissions", r, len(ch.submitted()))
	}
}

func TestThresholdTable(t *testing.T) {
	// required = ceil(n x 51 / 100) of ALL providers, the unreachable included.
	for _, tt := range []struct {
		total, down int
		want        ResultKind
	}{
		{1, 0, Submitted}, {2, 1, InsufficientConsensus}, {3, 1, Submitted}, {4, 1, Submitted},
		{4, 2, InsufficientConsensus}, {5, 2, Submitted}, {5, 3, InsufficientConsensus}, {3, 3, ProvidersUnreachable},
	} {
		t.Run(fmt.Sprintf("%d_of_%d_down", tt.down, tt.total), func(t *testing.T) {
			ps := cluster(tt.total, 3)
			for _, p := range ps[:tt.down] {
				p.down.Store(true)
			}
			cfg := testConfig()
			cfg.MaxRetries = 0
			r := newManager(t, newFakeChain(ps...), cfg).SubmitCheckpoint(context.Background(), bucket)
			if r.Kind != tt.want {
				t.Fatalf("kind %v, want %v (%+v)", r.Kind, tt.want, r)
			}
			if r.Kind == InsufficientConsensus && (r.Required != providers.Required(tt.total, 51) || !errors.Is(r.Err(), core.NoQuorum)) {
				t.Fatalf("required %d, err %v", r.Required, r.Err())
			}
		})
	}
}

func TestNoProviders(t *testing.T) {
	r := newManager(t, newFakeChain(), testConfig()).SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != NoProviders || !errors.Is(r.Err(), core.NotFound) {
		t.Fatalf("%+v", r)
	}
}

func TestEarlyQuorumCancelsHungProvider(t *testing.T) {
	ps := cluster(5, 4)
	ps[4].hang.Store(true)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.ProviderTimeout = time.Hour // a hung provider would stall collection for an hour
	m := newManager(t, ch, cfg)

	coll, err := m.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	if !coll.Reached || len(coll.Agreeing) != 4 {
		t.Fatalf("agreeing %d reached %v", len(coll.Agreeing), coll.Reached)
	}
	hung := ps[4].key.Account()
	if len(coll.Cancelled) != 1 || coll.Cancelled[0] != hung {
		t.Fatalf("cancelled %v, want the hung provider", coll.Cancelled)
	}
	if h, ok := m.HealthHistory(hung); ok && h.ConsecutiveFailures > 0 {
		t.Fatalf("a provider cut short by early quorum was marked failing: %+v", h)
	}
	if n := ps[4].calls.Load(); n != 1 {
		t.Fatalf("hung provider asked %d times, want 1 (no retries after quorum)", n)
	}
}

func TestWaitForAllWaitsForTimeouts(t *testing.T) {
	ps := cluster(3, 2)
	ps[2].hang.Store(true)
	cfg := testConfig()
	cfg.WaitForAll = true
	cfg.ProviderTimeout = 20 * time.Millisecond
	cfg.MaxRetries = 2
	m := newManager(t, newFakeChain(ps...), cfg)
	coll, err := m.CollectCommitments(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	hung := ps[2].key.Account()
	if len(coll.Unreachable) != 1 || coll.Unreachable[0] != hung || len(coll.Cancelled) != 0 {
		t.Fatalf("unreachable %v cancelled %v", coll.Unreachable, coll.Cancelled)
	}
	if n := ps[2].calls.Load(); n != 3 {
		t.Fatalf("hung provider asked %d times, want 1 + 2 retries", n)
	}
	if h, _ := m.HealthHistory(hung); h.ConsecutiveFailures != 3 {
		t.Fatalf("health %+v", h)
	}
}

func TestForgedSignatureNeverCounts(t *testing.T) {
	ps := cluster(3, 5)
	ps[0].forge.Store(true)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, ch, cfg)
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != Submitted || len(r.Signers) != 2 {
		t.Fatalf("%+v", r)
	}
	forger := ps[0].key.Account()
	for _, s := range r.Signers {
		if s == forger {
			t.Fatal("forged signature counted")
		}
	}
	if n := ps[0].calls.Load(); n != 1 {
		t.Fatalf("forger asked %d times: a bad signature is permanent, not retried", n)
	}
	if h, _ := m.HealthHistory(forger); h.Successes != 0 || h.ConsecutiveFailures != 1 {
		t.Fatalf("forger health %+v", h)
	}
	// Two forgers of three: below threshold.
	ps[1].forge.Store(true)
	if r := m.SubmitCheckpoint(context.Background(), bucket); r.Kind != InsufficientConsensus {
		t.Fatalf("two forgers: %v", r.Kind)
	}
}

func TestSlowThenRecovered(t *testing.T) {
	ps := cluster(3, 3)
	ps[1].failFor.Store(2)
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, newFakeChain(ps...), cfg)
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != Submitted || len(r.Signers) != 3 {
		t.Fatalf("%+v", r)
	}
	h, _ := m.HealthHistory(ps[1].key.Account())
	if h.TotalRequests != 3 || h.Successes != 1 || h.ConsecutiveFailures != 0 {
		t.Fatalf("health %+v, want 2 failures then a success", h)
	}
}

func TestAllUnreachableThenBack(t *testing.T) {
	ps := cluster(3, 3)
	for _, p := range ps {
		p.down.Store(true)
	}
	cfg := testConfig()
	cfg.MaxRetries = 1
	m := newManager(t, newFakeChain(ps...), cfg)
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != ProvidersUnreachable || len(r.Unreachable) != 3 || !errors.Is(r.Err(), core.Unavailable) {
		t.Fatalf("%+v", r)
	}
	for _, p := range ps {
		p.down.Store(false)
	}
	if r := m.SubmitCheckpoint(context.Background(), bucket); r.Kind != Submitted {
		t.Fatalf("after recovery: %+v", r)
	}
}

func TestConflictClasses(t *testing.T) {
	ctx := context.Background()
	t.Run("behind is sync delay", func(t *testing.T) {
		ps := cluster(3, 10)
		ps[2] = newFakeProvider(3)
		for w := 0; w < 7; w++ {
			ps[2].write([]byte(fmt.Sprintf("blob %d", w)))
		}
		cfg := testConfig()
		cfg.WaitForAll = true
		r := newManager(t, newFakeChain(ps...), cfg).SubmitCheckpoint(ctx, bucket)
		c := r.Conflict
		if r.Kind != Submitted || c == nil || len(c.Conflicts) != 1 || c.Conflicts[0].Kind != quorum.SyncDelay || c.Conflicts[0].BehindBy != 3 {
			t.Fatalf("%+v %+v", r, c)
		}
		if c.Resolution.Kind != quorum.ProceedWithMajority {
			t.Fatalf("resolution %v", c.Resolution.Kind)
		}
	})
	t.Run("ahead", func(t *testing.T) {
		ps := cluster(3, 10)
		ps[0].write([]byte("extra"))
		ps[0].write([]byte("extra 2"))
		cfg := testConfig()
		cfg.WaitForAll = true
		r := newManager(t, newFakeChain(ps...), cfg).SubmitCheckpoint(ctx, bucket)
		if r.Kind != Submitted || r.LeafCount != 10 || r.Conflict.Conflicts[0].Kind != quorum.Ahead || r.Conflict.Conflicts[0].AheadBy != 2 {
			t.Fatalf("%+v %+v", r, r.Conflict)
		}
	})
	t.Run("behind by count but different history is divergence", func(t *testing.T) {
		ps := cluster(3, 10)
		ps[2] = newFakeProvider(3)
		for w := 0; w < 7; w++ {
			ps[2].write([]byte(fmt.Sprintf("other %d", w)))
		}
		cfg := testConfig()
		cfg.WaitForAll = true
		r := newManager(t, newFakeChain(ps...), cfg).SubmitCheckpoint(ctx, bucket)
		c := r.Conflict.Conflicts[0]
		if c.Kind != quorum.DataDivergence || !c.Proven || r.Conflict.Resolution.Kind != quorum.ConsiderChallenge {
			t.Fatalf("%+v %+v", c, r.Conflict.Resolution)
		}
	})
}

func TestSyncDelayWaitsThenProceeds(t *testing.T) {
	ps := cluster(3, 10)
	ps[1] = newFakeProvider(2)
	for w := 0; w < 8; w++ {
		ps[1].write([]byte(fmt.Sprintf("blob %d", w)))
	}
	ps[2].down.Store(true)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	cfg.MaxRetries = 0
	var events []Event
	m := newManager(t, ch, cfg, WithCallbacks(Callbacks{OnConflict: func(e Event) {
		events = append(events, e)
		if len(events) == 1 { // the lagging provider catches up while we wait
			ps[1].write([]byte("blob 8"))
			ps[1].write([]byte("blob 9"))
		}
	}}))
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != Submitted || len(r.Signers) != 2 || r.LeafCount != 10 {
		t.Fatalf("%+v", r)
	}
	if len(events) != 1 || events[0].Conflict.Resolution.Kind != quorum.WaitForSync {
		t.Fatalf("want one WaitForSync conflict event, got %+v", events)
	}
}

func TestSyncDelayEscalates(t *testing.T) {
	ps := cluster(2, 10)
	ps[1] = newFakeProvider(2)
	ps[1].write([]byte("blob 0"))
	cfg := testConfig()
	cfg.WaitForAll = true
	cfg.SyncWaits = 2
	ch := newFakeChain(ps...)
	m := newManager(t, ch, cfg)
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != InsufficientConsensus || r.Conflict == nil || r.Conflict.Resolution.Kind != quorum.WaitForSync {
		t.Fatalf("%+v", r)
	}
	if n := ps[0].calls.Load(); n < 3 {
		t.Fatalf("collected %d times, want 1 + 2 sync waits", n)
	}
}

func TestChainDownDuringSubmit(t *testing.T) {
	ps := cluster(3, 4)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, ch, cfg)
	if err := m.MarkDirty(bucket); err != nil {
		t.Fatal(err)
	}
	ch.failSubmits.Store(2) // transient: retried inside the attempt
	if r := m.SubmitCheckpoint(context.Background(), bucket); r.Kind != Submitted {
		t.Fatalf("with 2 failed broadcasts: %+v", r)
	}
	for _, p := range ps {
		p.write([]byte("x"))
	}
	m.MarkDirty(bucket)
	ch.failSubmits.Store(100)
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != TransactionFailed || !m.IsDirty(bucket) {
		t.Fatalf("chain down: %+v dirty=%v", r, m.IsDirty(bucket))
	}
	ch.failSubmits.Store(0)
	if r := m.SubmitCheckpoint(context.Background(), bucket); r.Kind != Submitted || m.IsDirty(bucket) {
		t.Fatalf("after recovery: %+v dirty=%v", r, m.IsDirty(bucket))
	}
}

func TestPendingDriveRootCarried(t *testing.T) {
	ps := cluster(3, 6)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, ch, cfg)
	leaf := ps[0].leaves[4]
	if err := m.SetPendingRoot(bucket, PendingRoot{Drive: 3, RootCID: "bafyroot", Leaf: leaf}); err != nil {
		t.Fatal(err)
	}
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Kind != Submitted || r.DriveRoot != "bafyroot" {
		t.Fatalf("%+v", r)
	}
	s := ch.submitted()[0]
	if s.DriveRoot == nil || s.DriveRoot.LeafIndex != 4 || s.DriveRoot.Drive != 3 {
		t.Fatalf("drive root %+v", s.DriveRoot)
	}
	if _, ok := m.PendingRootOf(bucket); ok {
		t.Fatal("pending root not cleared")
	}
	// A root for a leaf beyond what the providers agree on waits.
	m.SetPendingRoot(bucket, PendingRoot{Drive: 3, RootCID: "later", Leaf: core.Leaf{Seq: 99}})
	if r := m.SubmitCheckpoint(context.Background(), bucket); r.DriveRoot != "" {
		t.Fatalf("carried a root not yet covered: %+v", r)
	}
	if _, ok := m.PendingRootOf(bucket); !ok {
		t.Fatal("uncovered pending root dropped")
	}
}

func TestDivergenceAutoChallengeAndSlash(t *testing.T) {
	ps := cluster(3, 8)
	ps[2] = newFakeProvider(3)
	for w := 0; w < 8; w++ {
		d := fmt.Sprintf("blob %d", w)
		if w == 5 {
			d = "tampered"
		}
		ps[2].write([]byte(d))
	}
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.WaitForAll = true
	cfg.AutoChallenge.Enabled = true
	cfg.AutoChallenge.MinConflicts = 2
	m := newManager(t, ch, cfg)
	ctx := context.Background()

	r := m.SubmitCheckpoint(ctx, bucket)
	if r.Kind != Submitted || r.Conflict.Resolution.Kind != quorum.ConsiderChallenge || r.Conflict.Resolution.Provider != ps[2].key.Account() {
		t.Fatalf("%+v", r.Conflict)
	}
	if len(m.OpenChallenges()) != 0 {
		t.Fatal("challenged after one conflict; MinConflicts is 2")
	}
	m.SubmitCheckpoint(ctx, bucket)
	open := m.OpenChallenges()
	if len(open) != 1 {
		t.Fatalf("open challenges %v", open)
	}
	var id core.ChallengeID
	for k := range open {
		id = k
	}
	chal, _ := ch.Challenge(ctx, id)
	if chal.Provider != ps[2].key.Account() || chal.LeafIndex != 5 {
		t.Fatalf("challenge %+v, want the diverged provider at leaf 5", chal)
	}
	// Cooldown: no second challenge of the same provider at once.
	if _, err := m.ChallengeProvider(ctx, bucket, ps[2].key.Account(), wire.ChallengeEvidence{FromCheckpoint: true}, 1, "again"); !errors.Is(err, core.Conflict) {
		t.Fatalf("cooldown not applied: %v", err)
	}
	// The deadline passes unanswered: the manager resolves it (slash).
	ch.height.Add(10)
	if err := m.ResolveExpiredChallenges(ctx); err != nil {
		t.Fatal(err)
	}
	if chal, _ := ch.Challenge(ctx, id); chal.State != wire.ChallengeSlashed {
		t.Fatalf("state %s", chal.State)
	}
	if len(m.OpenChallenges()) != 0 {
		t.Fatal("resolved challenge still tracked")
	}
}

func TestAuditCatchesMissingBlob(t *testing.T) {
	ps := cluster(1, 5)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.AutoChallenge.Enabled = true
	cfg.Audit.Samples = 20
	m := newManager(t, ch, cfg)
	ctx := context.Background()
	if r := m.SubmitCheckpoint(ctx, bucket); r.Kind != Submitted {
		t.Fatal(r.Err())
	}
	res, err := m.Audit(ctx, bucket)
	if err != nil || len(res) != 20 {
		t.Fatalf("%v %v", res, err)
	}
	for _, a := range res {
		if !a.OK {
			t.Fatalf("healthy provider failed audit: %+v", a)
		}
	}
	// Delete the blob of leaf 2 from the provider's "disk".
	ps[0].mu.Lock()
	delete(ps[0].blobs, ps[0].leaves[2].ContentHash)
	ps[0].mu.Unlock()
	var failed *AuditResult
	for i := 0; i < 10 && failed == nil; i++ {
		res, _ := m.Audit(ctx, bucket)
		for _, a := range res {
			if !a.OK {
				failed = &a
				break
			}
		}
	}
	if failed == nil || failed.Leaf != 2 || failed.Challenge == 0 {
		t.Fatalf("audit did not catch and challenge the missing blob: %+v", failed)
	}
}

func TestLoopPausesAfterFailuresAndResumes(t *testing.T) {
	ps := cluster(2, 3)
	for _, p := range ps {
		p.down.Store(true)
	}
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.MaxRetries = 0
	m := newManager(t, ch, cfg)
	events, unsub := m.Subscribe(64)
	defer unsub()
	feed := newBlockFeed()
	h, err := m.StartLoop(context.Background(), LoopConfig{IntervalBlocks: 1, MaxConsecutiveFailures: 3}, feed, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	if err := h.MarkDirty(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	feed.step(6)
	var fails []Event
	waitFor(t, events, func(e Event) bool {
		if e.Kind == EventFailed {
			fails = append(fails, e)
		}
		return e.Kind == EventPaused
	})
	if !h.IsPaused() {
		t.Fatal("not paused after 3 failures")
	}
	if len(fails) != 3 || !fails[0].WillRetry || !fails[1].WillRetry || fails[2].WillRetry {
		t.Fatalf("want 3 failures, the last without retry: %+v", fails)
	}
	feed.step(3) // paused: no attempts
	if n := ps[0].calls.Load(); n != 3 {
		t.Fatalf("provider asked %d times, want 3 (paused afterwards)", n)
	}
	for _, p := range ps {
		p.down.Store(false)
	}
	if err := h.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	feed.step(2)
	e := waitFor(t, events, func(e Event) bool { return e.Kind == EventSubmitted })
	if e.Result.LeafCount != 3 || h.IsPaused() {
		t.Fatalf("after resume: %+v paused=%v", e.Result, h.IsPaused())
	}
	if m.IsDirty(bucket) {
		t.Fatal("still dirty after the checkpoint")
	}
	h.Stop()
	if h.IsRunning() {
		t.Fatal("running after Stop")
	}
	if err := h.MarkDirty(context.Background(), bucket); !errors.Is(err, ErrLoopStopped) {
		t.Fatalf("MarkDirty after stop: %v", err)
	}
}

func TestRestartFinishesOwedCheckpoint(t *testing.T) {
	ps := cluster(3, 4)
	ch := newFakeChain(ps...)
	path := filepath.Join(t.TempDir(), "state.json")
	m1 := newManager(t, ch, testConfig(), WithStateFile(path))
	if err := m1.MarkDirty(bucket); err != nil {
		t.Fatal(err)
	}
	leaf := ps[0].leaves[3]
	m1.SetPendingRoot(bucket, PendingRoot{Drive: 1, RootCID: "bafyowed", Leaf: leaf})
	// m1 "crashes" here: nothing submitted.
	m2 := newManager(t, ch, testConfig(), WithStateFile(path))
	if got := m2.DirtyBuckets(); len(got) != 1 || got[0] != bucket {
		t.Fatalf("dirty after restart: %v", got)
	}
	events, unsub := m2.Subscribe(8)
	defer unsub()
	h, err := m2.StartLoop(context.Background(), DefaultLoopConfig(), newBlockFeed())
	if err != nil {
		t.Fatal(err)
	}
	e := waitFor(t, events, func(e Event) bool { return e.Kind == EventSubmitted })
	h.Stop()
	if e.Result.DriveRoot != "bafyowed" || len(ch.submitted()) != 1 {
		t.Fatalf("owed checkpoint: %+v", e.Result)
	}
	m3 := newManager(t, ch, testConfig(), WithStateFile(path))
	if len(m3.DirtyBuckets()) != 0 {
		t.Fatal("dirty flag survived a successful checkpoint")
	}
	if r, ok := m3.LastResult(bucket); !ok || r.Kind != Submitted {
		t.Fatalf("last result not persisted: %+v", r)
	}
	// A torn or foreign state file is refused, not silently reset.
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := New(ch, ch.dialer(), ps[0].key, testConfig(), WithStateFile(path)); !errors.Is(err, core.Corrupt) {
		t.Fatalf("corrupt state: %v", err)
	}
}

func TestSubmitNowAndPause(t *testing.T) {
	ps := cluster(1, 2)
	ch := newFakeChain(ps...)
	m := newManager(t, ch, testConfig())
	h, err := m.StartLoop(context.Background(), LoopConfig{IntervalBlocks: 1000, MaxConsecutiveFailures: 1}, newBlockFeed())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	h.Pause(context.Background())
	h.MarkDirty(context.Background(), bucket)
	res, err := h.SubmitNow(context.Background())
	if err != nil || res[bucket] == nil || res[bucket].Kind != Submitted {
		t.Fatalf("SubmitNow while paused: %v %v", res, err)
	}
}

func TestHealthOrdering(t *testing.T) {
	ps := cluster(3, 1)
	ps[0].down.Store(true)
	cfg := testConfig()
	cfg.MaxRetries = 0
	m := newManager(t, newFakeChain(ps...), cfg)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := m.CheckHealth(ctx, bucket); err != nil {
			t.Fatal(err)
		}
	}
	byHealth, _ := m.ProvidersByHealth(ctx, bucket)
	last := byHealth[len(byHealth)-1]
	if last.Account != ps[0].key.Account() || last.History.Status() != StatusUnreachable {
		t.Fatalf("last %+v", last)
	}
	if ok, _ := m.HasEnoughHealthyProviders(ctx, bucket); !ok {
		t.Fatal("2 of 3 healthy should be enough")
	}
	ps[1].down.Store(true)
	for i := 0; i < 5; i++ {
		m.CheckHealth(ctx, bucket)
	}
	if ok, _ := m.HasEnoughHealthyProviders(ctx, bucket); ok {
		t.Fatal("1 of 3 healthy is not enough")
	}
}

func waitFor(t *testing.T, ch <-chan Event, pred func(Event) bool) Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if pred(e) {
				return e
			}
		case <-deadline:
			t.Fatal("event not seen within 10 s")
		}
	}
}

// Every persisted result, conflicts included, must load again: a state
// file the manager wrote and then refused would lose the pending work.
func TestPersistedConflictRoundTrips(t *testing.T) {
	ps := cluster(3, 6)
	ps[2] = newFakeProvider(3)
	for w := 0; w < 4; w++ {
		ps[2].write([]byte(fmt.Sprintf("blob %d", w)))
	}
	ch := newFakeChain(ps...)
	path := filepath.Join(t.TempDir(), "state.json")
	cfg := testConfig()
	cfg.WaitForAll = true
	m := newManager(t, ch, cfg, WithStateFile(path))
	r := m.SubmitCheckpoint(context.Background(), bucket)
	if r.Conflict == nil || len(r.Conflict.Conflicts) != 1 {
		t.Fatalf("want a conflict to persist: %+v", r)
	}
	m2 := newManager(t, ch, cfg, WithStateFile(path))
	got, ok := m2.LastResult(bucket)
	if !ok || got.Conflict == nil || got.Conflict.Conflicts[0].Kind != quorum.SyncDelay ||
		got.Conflict.Resolution.Kind != quorum.ProceedWithMajority || got.Kind != Submitted {
		t.Fatalf("reloaded %+v", got)
	}
}

// Two managers on one state file stand for two cairn processes of one
// account (a long-running loop and a put in another terminal): each sees
// the other's changes, and neither writes back a stale copy.
func TestStateSharedBetweenProcesses(t *testing.T) {
	ch := newFakeChain(cluster(1, 1)...)
	path := filepath.Join(t.TempDir(), "state.json")
	a := newManager(t, ch, testConfig(), WithStateFile(path))
	b := newManager(t, ch, testConfig(), WithStateFile(path))
	if err := b.MarkDirty(bucket); err != nil {
		t.Fatal(err)
	}
	if !a.IsDirty(bucket) {
		t.Fatal("a does not see b's dirty mark")
	}
	if err := a.SetPendingRoot(bucket+1, PendingRoot{Drive: 2, RootCID: "from-a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetPendingRoot(bucket+2, PendingRoot{Drive: 3, RootCID: "from-b"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Manager{a, b, newManager(t, ch, testConfig(), WithStateFile(path))} {
		if got := m.DirtyBuckets(); len(got) != 3 {
			t.Fatalf("dirty %v, want all three buckets (a write was lost)", got)
		}
		if pr, ok := m.PendingRootOf(bucket + 1); !ok || pr.RootCID != "from-a" {
			t.Fatalf("pending root from a lost: %+v", pr)
		}
	}
	// Concurrent updates from both "processes" lose nothing.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); a.MarkDirty(core.BucketID(100 + i)) }()
		go func() { defer wg.Done(); b.MarkDirty(core.BucketID(200 + i)) }()
	}
	wg.Wait()
	if got := newManager(t, ch, testConfig(), WithStateFile(path)).DirtyBuckets(); len(got) != 43 {
		t.Fatalf("%d dirty buckets after concurrent updates, want 43", len(got))
	}
}

// A challenge the chain refuses does not use up the provider's cooldown;
// one whose fate is unknown (chain unreachable) does.
func TestRefusedChallengeReleasesCooldown(t *testing.T) {
	ps := cluster(2, 3)
	ch := newFakeChain(ps...)
	cfg := testConfig()
	cfg.MaxRetries = 0
	cfg.AutoChallenge.Enabled = true
	m := newManager(t, ch, cfg)
	ctx := context.Background()
	target := ps[1].key.Account()
	own := func(p *fakeProvider) wire.ChallengeEvidence {
		sc, err := p.Commitment(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		return wire.ChallengeEvidence{Commitment: &sc}
	}
	ch.refuseChallenges.Store(true)
	if _, err := m.ChallengeProvider(ctx, bucket, target, own(ps[1]), 0, "test"); !errors.Is(err, core.Invalid) {
		t.Fatalf("refused challenge: %v", err)
	}
	ch.refuseChallenges.Store(false)
	if _, err := m.ChallengeProvider(ctx, bucket, target, own(ps[1]), 0, "test"); err != nil {
		t.Fatalf("after a refusal the provider should be challengeable at once: %v", err)
	}
	other := ps[0].key.Account()
	ch.down.Store(true)
	if _, err := m.ChallengeProvider(ctx, bucket, other, own(ps[0]), 0, "test"); !errors.Is(err, core.Unavailable) {
		t.Fatalf("chain down: %v", err)
	}
	ch.down.Store(false)
	if _, err := m.ChallengeProvider(ctx, bucket, other, own(ps[0]), 0, "test"); !errors.Is(err, core.Conflict) {
		t.Fatalf("an unknown outcome must keep the cooldown: %v", err)
	}
}
