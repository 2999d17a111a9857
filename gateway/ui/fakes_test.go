package ui

import (
	"context"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// fake is every source at once: a chain with one drive on bucket 7 and
// three primaries, a prober and a manager's status, all set by the test.
type fake struct {
	mu          sync.Mutex
	height      int64
	drives      []wire.Drive
	bucket      wire.Bucket
	agreements  []wire.Agreement
	history     []wire.Checkpoint
	registry    []wire.Provider
	challenges  []wire.Challenge
	health      []providers.Ranked
	coll        *checkpoint.CommitmentCollection
	conflict    *checkpoint.ProviderConflict
	dirty       bool
	result      *checkpoint.Result
	err         error // returned by every chain query when set
	blocks      chan int64
	events      chan checkpoint.Event
	probes      int
	histories   int // CheckpointHistory calls
	heights     int // Height calls: one per refresh
	registries  int // Providers calls
	unsubscribe int
}

var (
	owner = core.AccountID{0xaa}
	p1    = core.AccountID{1}
	p2    = core.AccountID{2}
	p3    = core.AccountID{3}
	root1 = core.H256{0x11}
	root2 = core.H256{0x22}
)

// newFake is a healthy bucket: three agreeing primaries at 4 leaves,
// checkpoints at heights 10 and 20.
func newFake() *fake {
	cp := wire.Checkpoint{Bucket: 7, MMRRoot: root1, LeafCount: 4, Height: 20, Signers: []core.AccountID{p1, p2, p3}}
	f := &fake{
		height: 25,
		drives: []wire.Drive{{ID: 3, Owner: owner, Bucket: 7, Name: "photos", RootCID: "bafyroot", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}}},
		bucket: wire.Bucket{ID: 7, Owner: owner, Quorum: 2, Latest: &cp},
		history: []wire.Checkpoint{
			{Bucket: 7, MMRRoot: root2, LeafCount: 2, Height: 10, Signers: []core.AccountID{p1, p2}},
			cp,
		},
		blocks: make(chan int64, 8),
		events: make(chan checkpoint.Event, 8),
	}
	for i, p := range []core.AccountID{p1, p2, p3} {
		f.agreements = append(f.agreements, wire.Agreement{Bucket: 7, Provider: p, Role: wire.Primary, Active: true})
		f.registry = append(f.registry, wire.Provider{Account: p, Endpoint: "http://p" + string(rune('1'+i)), Stake: 1000})
		f.health = append(f.health, providers.Ranked{Info: providers.Info{Account: p}, History: healthy()})
	}
	f.coll = &checkpoint.CommitmentCollection{Bucket: 7, MMRRoot: root1, LeafCount: 4, Agreeing: []core.AccountID{p1, p2, p3}}
	return f
}

func healthy() providers.Health {
	return providers.Health{TotalRequests: 10, Successes: 10, AvgLatency: 3 * time.Millisecond}
}

func failing(n int) providers.Health {
	return providers.Health{TotalRequests: uint64(10 + n), Successes: 10, ConsecutiveFailures: n, LastError: "timeout"}
}

// set changes the fake under its lock.
func (f *fake) set(change func(f *fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// divergeP3 makes p3 a proven data divergence and p2 a sync delay.
func (f *fake) divergeP3() {
	f.coll = &checkpoint.CommitmentCollection{Bucket: 7, MMRRoot: root1, LeafCount: 4, Agreeing: []core.AccountID{p1},
		Disagreeing: []checkpoint.Disagreement{{Provider: p2, Root: root2, LeafCount: 2}, {Provider: p3, Root: root2, LeafCount: 4}}}
	f.conflict = &checkpoint.ProviderConflict{MajorityRoot: root1, MajorityCount: 1, LeafCount: 4, Conflicts: []quorum.Conflict{
		{Provider: p2, Kind: quorum.SyncDelay, Root: root2, LeafCount: 2, BehindBy: 2},
		{Provider: p3, Kind: quorum.DataDivergence, Root: root2, LeafCount: 4, Reason: "same leaf count, different root", Proven: true},
	}}
}

func (f *fake) Height(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heights++
	return f.height, f.err
}

func (f *fake) SubscribeBlocks(ctx context.Context) (<-chan int64, error) { return f.blocks, nil }

func (f *fake) DrivesByOwner(ctx context.Context, o core.AccountID) ([]wire.Drive, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.Drive
	for _, d := range f.drives {
		if d.Owner == o {
			out = append(out, d)
		}
	}
	return out, f.err
}

func (f *fake) Bucket(ctx context.Context, b core.BucketID) (wire.Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b != f.bucket.ID {
		return wire.Bucket{}, core.Errorf("fake.Bucket", core.NotFound, "no bucket %d", b)
	}
	return f.bucket, f.err
}

func (f *fake) BucketAgreements(ctx context.Context, b core.BucketID) ([]wire.Agreement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agreements, f.err
}

func (f *fake) CheckpointHistory(ctx context.Context, b core.BucketID) ([]wire.Checkpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.histories++
	return f.history, f.err
}

func (f *fake) Providers(ctx context.Context) ([]wire.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registries++
	return f.registry, f.err
}

func (f *fake) Challenges(ctx context.Context, flt wire.ChallengeFilter) ([]wire.Challenge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.Challenge
	for _, c := range f.challenges {
		if c.Bucket == flt.Bucket {
			out = append(out, c)
		}
	}
	return out, f.err
}

func (f *fake) CheckHealth(ctx context.Context, b core.BucketID) ([]providers.Ranked, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health, nil
}

func (f *fake) ObserveConflicts(ctx context.Context, b core.BucketID) (*checkpoint.CommitmentCollection, *checkpoint.ProviderConflict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	return f.coll, f.conflict, nil
}

func (f *fake) IsDirty(b core.BucketID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirty
}

func (f *fake) LastResult(b core.BucketID) (*checkpoint.Result, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.result, f.result != nil
}

func (f *fake) Subscribe(buffer int) (<-chan checkpoint.Event, func()) {
	return f.events, func() {
		f.mu.Lock()
		f.unsubscribe++
		f.mu.Unlock()
	}
}

func (f *fake) sources() Sources {
	return Sources{Owner: owner, Drives: f, Buckets: f, Chain: f, Blocks: f, Probe: f, Status: f, Events: f}
}
