package provider

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// ChainReader is the chain state the provider reads.
type ChainReader interface {
	ChainID(ctx context.Context) (string, error)
	Height(ctx context.Context) (int64, error)
	Bucket(ctx context.Context, id core.BucketID) (chainwire.Bucket, error)
	BucketAgreements(ctx context.Context, id core.BucketID) ([]chainwire.Agreement, error)
	Provider(ctx context.Context, account core.AccountID) (chainwire.Provider, error)
	// ProviderAgreements lists the agreements a provider holds: an indexed
	// query, so finding its own buckets costs the provider work in
	// proportion to its agreements, not to the chain.
	ProviderAgreements(ctx context.Context, account core.AccountID) ([]chainwire.Agreement, error)
}

// ChallengeBoard lists challenges and announces new ones.
type ChallengeBoard interface {
	Challenges(ctx context.Context, f chainwire.ChallengeFilter) ([]chainwire.Challenge, error)
	// SubscribeEventsFor streams the events of a type whose attribute key
	// has value (those naming this provider), found by the node's index so
	// following them costs in proportion to this provider's events, not to
	// the chain's traffic; a hint, which may drop.
	SubscribeEventsFor(ctx context.Context, eventType, key, value string) (<-chan chainwire.Event, error)
}

// TxSubmitter signs a call, broadcasts it and waits until it is committed.
type TxSubmitter interface {
	Submit(ctx context.Context, signer core.PrivateKey, call chainwire.Call) (*chainwire.TxResult, error)
}

// Chain is everything the provider needs from the chain;
// *chainclient.Client satisfies it.
type Chain interface {
	ChainReader
	ChallengeBoard
	TxSubmitter
}

// chainCache keeps chain reads for a short TTL, so a burst of writes costs
// one chain query per bucket, not one per write. It holds at most size
// buckets and size providers (least recently used go first), so requests
// naming many bucket ids cannot grow it. A bucket or provider that does
// not exist is cached only for negativeTTL; a chain that cannot be
// reached is not cached.
type chainCache struct {
	chain ChainReader
	ttl   time.Duration
	now   func() time.Time

	chainID   core.Memo[string] // a chain's id never changes
	mu        sync.Mutex
	height    cached[int64]
	buckets   *lru.Cache[core.BucketID, *cached[bucketInfo]]
	providers *lru.Cache[core.AccountID, *cached[chainwire.Provider]]
}

type cached[T any] struct {
	v   T
	err error // only NotFound is cached
	at  time.Time
}

type bucketInfo struct {
	bucket     chainwire.Bucket
	agreements []chainwire.Agreement
}

// agreement returns the agreement of provider p, or nil.
func (b *bucketInfo) agreement(p core.AccountID) *chainwire.Agreement {
	for i := range b.agreements {
		if b.agreements[i].Provider == p {
			return &b.agreements[i]
		}
	}
	return nil
}

func newChainCache(c ChainReader, ttl time.Duration, size int, now func() time.Time) *chainCache {
	buckets, err := lru.New[core.BucketID, *cached[bucketInfo]](size)
	if err != nil {
		panic(err) // size is positive: Config.Validate
	}
	providers, err := lru.New[core.AccountID, *cached[chainwire.Provider]](size)
	if err != nil {
		panic(err)
	}
	return &chainCache{chain: c, ttl: ttl, now: now, buckets: buckets, providers: providers}
}

func (c *chainCache) fresh(at time.Time) bool { return c.now().Sub(at) < c.ttl }

// usable reports whether an entry cached at at, with error err, may be
// reused: a found one for the TTL, a missing one for negativeTTL at most.
func (c *chainCache) usable(at time.Time, err error) bool {
	return c.fresh(at) && (err == nil || c.now().Sub(at) < negativeTTL)
}

// ChainID is read once: a chain's id never changes.
func (c *chainCache) ChainID(ctx context.Context) (string, error) {
	id, err := c.chainID.Get(ctx, c.chain.ChainID)
	if err != nil {
		return "", core.E("provider.chainID", unavailableUnlessKnown(err), err)
	}
	return id, nil
}

func (c *chainCache) Height(ctx context.Context) (int64, error) {
	c.mu.Lock()
	h := c.height
	c.mu.Unlock()
	if h.at != (time.Time{}) && c.fresh(h.at) {
		return h.v, nil
	}
	v, err := c.chain.Height(ctx)
	if err != nil {
		return h.v, core.E("provider.height", unavailableUnlessKnown(err), err)
	}
	c.mu.Lock()
	c.height = cached[int64]{v: v, at: c.now()}
	c.mu.Unlock()
	return v, nil
}

func (c *chainCache) Bucket(ctx context.Context, id core.BucketID) (bucketInfo, error) {
	e, _ := c.buckets.Get(id)
	// A bucket not found is remembered only briefly: it may be created in
	// the next block (a client creates a drive, then writes at once), and
	// a stale "no such bucket" would refuse its first writes for a whole TTL.
	if e != nil && c.usable(e.at, e.err) {
		return e.v, e.err
	}
	var bi bucketInfo
	b, err := c.chain.Bucket(ctx, id)
	if err == nil {
		bi.bucket = b
		bi.agreements, err = c.chain.BucketAgreements(ctx, id)
	}
	if err != nil && core.KindOf(err) != core.NotFound {
		return bi, core.E("provider.bucket", unavailableUnlessKnown(err), err)
	}
	c.buckets.Add(id, &cached[bucketInfo]{v: bi, err: err, at: c.now()})
	return bi, err
}

// negativeTTL bounds how long a "no such bucket" (or provider) answer is
// reused.
const negativeTTL = 200 * time.Millisecond

// cachedBucket returns what the cache holds, fresh or not, without asking.
func (c *chainCache) cachedBucket(id core.BucketID) (bucketInfo, bool) {
	e, ok := c.buckets.Peek(id)
	if !ok || e.err != nil {
		return bucketInfo{}, false
	}
	return e.v, true
}

func (c *chainCache) Provider(ctx context.Context, a core.AccountID) (chainwire.Provider, error) {
	e, _ := c.providers.Get(a)
	if e != nil && c.usable(e.at, e.err) {
		return e.v, e.err
	}
	p, err := c.chain.Provider(ctx, a)
	if err != nil && core.KindOf(err) != core.NotFound {
		return p, core.E("provider.provider", unavailableUnlessKnown(err), err)
	}
	c.providers.Add(a, &cached[chainwire.Provider]{v: p, err: err, at: c.now()})
	return p, err
}

// forget drops a bucket's entry, so the next read asks the chain.
func (c *chainCache) forget(id core.BucketID) {
	c.buckets.Remove(id)
}

// unavailableUnlessKnown keeps a classified chain error's kind and calls
// anything else the chain being unavailable.
func unavailableUnlessKnown(err error) core.Kind {
	if k := core.KindOf(err); k != core.Other {
		return k
	}
	return core.Unavailable
}
