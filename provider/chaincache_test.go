package provider

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// bucketsOnly is a ChainReader that knows buckets and nothing else.
type bucketsOnly struct {
	mu      sync.Mutex
	buckets map[core.BucketID]chainwire.Bucket
	queries int // BucketAgreements calls: one per bucket fetched
}

func (f *bucketsOnly) ChainID(context.Context) (string, error) { return "x", nil }
func (f *bucketsOnly) Height(context.Context) (int64, error)   { return 1, nil }
func (f *bucketsOnly) Provider(context.Context, core.AccountID) (chainwire.Provider, error) {
	return chainwire.Provider{}, core.Errorf("fake", core.NotFound, "none")
}

func (f *bucketsOnly) Bucket(_ context.Context, id core.BucketID) (chainwire.Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[id]
	if !ok {
		return b, core.Errorf("fake", core.NotFound, "no bucket %s", id)
	}
	return b, nil
}

func (f *bucketsOnly) BucketAgreements(_ context.Context, id core.BucketID) ([]chainwire.Agreement, error) {
	f.mu.Lock()
	f.queries++
	f.mu.Unlock()
	return []chainwire.Agreement{{Bucket: id, Role: chainwire.Primary}}, nil
}

func (f *bucketsOnly) ProviderAgreements(context.Context, core.AccountID) ([]chainwire.Agreement, error) {
	return nil, nil
}

// The cache holds at most its size: requests naming ever new bucket ids
// (found or not) evict the least recently used, and what it keeps is still
// answered without asking the chain.
func TestChainCacheIsBounded(t *testing.T) {
	f := &bucketsOnly{buckets: map[core.BucketID]chainwire.Bucket{}}
	for id := core.BucketID(1); id <= 10; id++ {
		f.buckets[id] = chainwire.Bucket{ID: id}
	}
	now := time.Unix(1000, 0)
	const size = 4
	c := newChainCache(f, time.Hour, size, func() time.Time { return now })
	ctx := context.Background()
	for id := core.BucketID(1); id <= 10_000; id++ {
		c.Bucket(ctx, id) // ids past 10 do not exist
	}
	if n := c.buckets.Len(); n != size {
		t.Fatalf("cache holds %d buckets after 10 000 ids, want at most %d", n, size)
	}
	if _, ok := c.cachedBucket(1); ok {
		t.Fatal("the least recently used bucket was kept")
	}
	// Found buckets are reused for the TTL: no new chain query.
	c.Bucket(ctx, 5)
	f.mu.Lock()
	before := f.queries
	f.mu.Unlock()
	if _, err := c.Bucket(ctx, 5); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	after := f.queries
	f.mu.Unlock()
	if after != before {
		t.Fatalf("a cached bucket cost %d chain queries", after-before)
	}
	// A missing provider is remembered only briefly, like a missing bucket.
	a := core.AccountID{1}
	if _, err := c.Provider(ctx, a); core.KindOf(err) != core.NotFound {
		t.Fatalf("unknown provider: %v", err)
	}
	now = now.Add(negativeTTL)
	if e, _ := c.providers.Get(a); e == nil || c.usable(e.at, e.err) {
		t.Fatalf("a missing provider is still reused after %s", negativeTTL)
	}
}

// A bucket created just after a provider looked it up must be found on
// the next request, not only after the cache's TTL: a client creates a
// drive and writes to it at once.
func TestChainCacheForgetsMissingBucketsQuickly(t *testing.T) {
	f := &bucketsOnly{buckets: map[core.BucketID]chainwire.Bucket{}}
	now := time.Unix(1000, 0)
	c := newChainCache(f, 3*time.Second, 16, func() time.Time { return now })
	ctx := context.Background()
	if _, err := c.Bucket(ctx, 7); core.KindOf(err) != core.NotFound {
		t.Fatalf("unknown bucket: %v", err)
	}
	f.mu.Lock()
	f.buckets[7] = chainwire.Bucket{ID: 7}
	f.mu.Unlock()
	if _, err := c.Bucket(ctx, 7); core.KindOf(err) != core.NotFound {
		t.Fatalf("a miss is still reused within %s: %v", negativeTTL, err)
	}
	now = now.Add(negativeTTL)
	b, err := c.Bucket(ctx, 7)
	if err != nil || b.bucket.ID != 7 || len(b.agreements) != 1 {
		t.Fatalf("bucket created after a miss: %+v %v", b, err)
	}
	// A found bucket is reused for the whole TTL.
	f.mu.Lock()
	delete(f.buckets, 7)
	f.mu.Unlock()
	now = now.Add(2 * time.Second)
	if _, err := c.Bucket(ctx, 7); err != nil {
		t.Fatalf("a found bucket was not cached: %v", err)
	}
}

// chainIDOnce fails its first ChainID call, as a chain not reached yet.
type chainIDOnce struct {
	bucketsOnly
	calls int
}

func (f *chainIDOnce) ChainID(context.Context) (string, error) {
	f.calls++
	if f.calls == 1 {
		return "", errors.New("connection refused")
	}
	return "cairn-test", nil
}

// The chain id is asked for until the chain answers, then never again; a
// chain not reached is unavailable, never cached.
func TestChainCacheChainID(t *testing.T) {
	f := &chainIDOnce{}
	c := newChainCache(f, time.Hour, 4, time.Now)
	ctx := context.Background()
	if _, err := c.ChainID(ctx); core.KindOf(err) != core.Unavailable {
		t.Fatalf("unreached chain: %v, want kind unavailable", err)
	}
	for i := 0; i < 3; i++ {
		if id, err := c.ChainID(ctx); err != nil || id != "cairn-test" {
			t.Fatalf("ChainID = %q, %v", id, err)
		}
	}
	if f.calls != 2 {
		t.Errorf("chain asked %d times, want 2", f.calls)
	}
}
