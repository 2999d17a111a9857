package provider_test

import (
	"context"
	"sync"
	"sync/atomic"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// fakeChain is chain state in memory, for the tests that need to break the
// chain or run without one (fuzzing). The integration tests use a real
// chain node.
type fakeChain struct {
	down atomic.Bool // every call fails with kind unavailable

	mu         sync.Mutex
	buckets    map[core.BucketID]chainwire.Bucket
	agreements map[core.BucketID][]chainwire.Agreement
	providers  map[core.AccountID]chainwire.Provider
	calls      []chainwire.Call
}

func newFakeChain() *fakeChain {
	return &fakeChain{
		buckets:    map[core.BucketID]chainwire.Bucket{},
		agreements: map[core.BucketID][]chainwire.Agreement{},
		providers:  map[core.AccountID]chainwire.Provider{},
	}
}

func (f *fakeChain) err(op string) error {
	if f.down.Load() {
		return core.Errorf(op, core.Unavailable, "chain is down")
	}
	return nil
}

func (f *fakeChain) ChainID(context.Context) (string, error) {
	return "fake-chain", f.err("ChainID")
}

func (f *fakeChain) Height(context.Context) (int64, error) { return 42, f.err("Height") }

func (f *fakeChain) Bucket(_ context.Context, id core.BucketID) (chainwire.Bucket, error) {
	if err := f.err("Bucket"); err != nil {
		return chainwire.Bucket{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[id]
	if !ok {
		return b, core.Errorf("Bucket", core.NotFound, "no bucket %s", id)
	}
	return b, nil
}

func (f *fakeChain) BucketAgreements(_ context.Context, id core.BucketID) ([]chainwire.Agreement, error) {
	if err := f.err("BucketAgreements"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chainwire.Agreement(nil), f.agreements[id]...), nil
}

func (f *fakeChain) Provider(_ context.Context, a core.AccountID) (chainwire.Provider, error) {
	if err := f.err("Provider"); err != nil {
		return chainwire.Provider{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.providers[a]
	if !ok {
		return p, core.Errorf("Provider", core.NotFound, "no provider %s", a.Short())
	}
	return p, nil
}

func (f *fakeChain) ProviderAgreements(_ context.Context, p core.AccountID) ([]chainwire.Agreement, error) {
	if err := f.err("ProviderAgreements"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []chainwire.Agreement
	for _, ags := range f.agreements {
		for _, a := range ags {
			if a.Provider == p {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func (f *fakeChain) Challenges(context.Context, chainwire.ChallengeFilter) ([]chainwire.Challenge, error) {
	return nil, f.err("Challenges")
}

func (f *fakeChain) SubscribeEventsFor(ctx context.Context, _, _, _ string) (<-chan chainwire.Event, error) {
	if err := f.err("SubscribeEventsFor"); err != nil {
		return nil, err
	}
	ch := make(chan chainwire.Event)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

func (f *fakeChain) Submit(_ context.Context, _ core.PrivateKey, call chainwire.Call) (*chainwire.TxResult, error) {
	if err := f.err("Submit"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	return &chainwire.TxResult{Height: 43}, nil
}

// addBucket adds bucket id owned by owner, with writers, served by
// provider p as a primary with the given quota.
func (f *fakeChain) addBucket(id core.BucketID, owner core.AccountID, p core.AccountID, maxBytes uint64, writers ...core.AccountID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := chainwire.Bucket{ID: id, Owner: owner, Quorum: 1, Members: []chainwire.Member{{Account: owner, Role: chainwire.Admin}}}
	for _, w := range writers {
		b.Members = append(b.Members, chainwire.Member{Account: w, Role: chainwire.Writer})
	}
	f.buckets[id] = b
	f.agreements[id] = []chainwire.Agreement{{Bucket: id, Provider: p, Role: chainwire.Primary, MaxBytes: maxBytes, ExpiryHeight: 1 << 40, Active: true}}
}
