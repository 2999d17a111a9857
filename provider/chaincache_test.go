package provider

import (
	"context"
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
	return []chainwire.Agreement{{Bucket: id, Role: chainwire.Primary}}, nil
}

// A bucket created just after a provider looked it up must be found on
// the next request, not only after the cache's TTL: a client creates a
// drive and writes to it at once.
func TestChainCacheForgetsMissingBucketsQuickly(t *testing.T) {
	f := &bucketsOnly{buckets: map[core.BucketID]chainwire.Bucket{}}
	now := time.Unix(1000, 0)
	c := newChainCache(f, 3*time.Second, func() time.Time { return now })
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
