package providers

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Config is the pool's configuration.
type Config struct {
	// CacheTTL is how long a bucket's discovered providers are reused.
	CacheTTL time.Duration
	// ThresholdPercent of all the bucket's primaries must agree:
	// required = ceil(total × ThresholdPercent / 100), raised to the
	// bucket's on-chain quorum.
	ThresholdPercent int
}

// DefaultConfig: a 300 s cache and the 51 % rule.
func DefaultConfig() Config { return Config{CacheTTL: 300 * time.Second, ThresholdPercent: 51} }

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	if c.CacheTTL < 0 || c.ThresholdPercent < 1 || c.ThresholdPercent > 100 {
		return core.Errorf("providers.Config", core.Invalid, "cache TTL must be >= 0 and threshold percent 1..100")
	}
	return nil
}

// Pool is a client's view of the providers of its buckets. It is safe for
// concurrent use.
type Pool struct {
	cfg     Config
	chain   ChainReader
	resolve EndpointResolver
	now     func() time.Time
	file    *healthFile // nil: health lives in memory only

	mu     sync.Mutex
	cache  map[core.BucketID]cached
	health map[core.AccountID]*Health
	dirty  map[core.AccountID]bool // changed since the last save
	saved  time.Time
}

type cached struct {
	at        time.Time
	providers []Info
	quorum    uint32 // the bucket's on-chain quorum
}

// Option configures a Pool.
type Option func(*Pool)

// WithClock sets the pool's clock (tests).
func WithClock(now func() time.Time) Option { return func(p *Pool) { p.now = now } }

// WithResolver sets how registered endpoints become base URLs (default:
// the endpoint as it is).
func WithResolver(r EndpointResolver) Option { return func(p *Pool) { p.resolve = r } }

// WithHealthFile keeps the health records in path (loaded now, saved by
// Save and at most every few seconds as they change), so separate
// processes of one account share them. A file that does not parse is
// started over.
func WithHealthFile(path string) Option {
	return func(p *Pool) { p.file = &healthFile{path: path} }
}

// New builds a pool reading chain state through chain.
func New(chain ChainReader, cfg Config, opts ...Option) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if chain == nil {
		return nil, core.Errorf("providers.New", core.Invalid, "a chain reader is required")
	}
	p := &Pool{cfg: cfg, chain: chain, now: time.Now,
		resolve: func(s string) (string, error) { return s, nil },
		cache:   map[core.BucketID]cached{}, health: map[core.AccountID]*Health{}, dirty: map[core.AccountID]bool{}}
	for _, o := range opts {
		o(p)
	}
	if p.file != nil {
		// Health is advice, not state a client owes: a file that does not
		// parse is started over (the next save replaces it) rather than
		// stopping every command of the account.
		hs, err := p.file.load()
		if err != nil && core.KindOf(err) != core.Corrupt {
			return nil, err
		}
		for a, h := range hs {
			p.health[a] = &h
		}
		p.saved = p.now()
	}
	return p, nil
}

// Discover reads the bucket's active primaries from the chain:
// agreements, then each provider's registered endpoint and key. The answer,
// and the bucket's on-chain quorum, are cached for CacheTTL.
func (p *Pool) Discover(ctx context.Context, bucket core.BucketID) ([]Info, error) {
	ps, _, err := p.discover(ctx, bucket)
	return ps, err
}

func (p *Pool) discover(ctx context.Context, bucket core.BucketID) ([]Info, uint32, error) {
	const op = "providers.Discover"
	var q uint32
	b, err := p.chain.Bucket(ctx, bucket)
	switch {
	case err == nil:
		q = b.Quorum
	case core.KindOf(err) != core.NotFound:
		// A missing bucket has no agreements either; anything else is a
		// chain we cannot read, and guessing a quorum would be wrong.
		return nil, 0, core.E(op, core.KindOf(err), err)
	}
	ags, err := p.chain.BucketAgreements(ctx, bucket)
	if err != nil {
		return nil, 0, core.E(op, core.KindOf(err), err)
	}
	var out []Info
	for _, a := range ags {
		if a.Role != wire.Primary || !a.Active {
			continue
		}
		pr, err := p.chain.Provider(ctx, a.Provider)
		if err != nil {
			return nil, 0, core.E(op, core.KindOf(err), err)
		}
		info := Info{Account: pr.Account, Endpoint: pr.Endpoint, PublicKey: pr.PublicKey}
		if info.PublicKey.IsZero() {
			info.PublicKey = pr.Account
		}
		url, err := p.resolve(pr.Endpoint)
		if err != nil {
			// An unusable endpoint makes the provider unreachable, not the
			// whole bucket undiscoverable: it still counts in the total.
			info.LastError = err.Error()
		}
		info.URL = url
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Account[:], out[j].Account[:]) < 0 })
	p.mu.Lock()
	p.cache[bucket] = cached{at: p.now(), providers: out, quorum: q}
	p.mu.Unlock()
	return p.withHealth(out), q, nil
}

// Providers returns the bucket's primaries from the cache, discovering them
// when the cache is empty or older than CacheTTL.
func (p *Pool) Providers(ctx context.Context, bucket core.BucketID) ([]Info, error) {
	ps, _, err := p.providers(ctx, bucket)
	return ps, err
}

// providers is Providers with the bucket's on-chain quorum, read together
// so a threshold is never computed from one discovery's total and
// another's quorum.
func (p *Pool) providers(ctx context.Context, bucket core.BucketID) ([]Info, uint32, error) {
	p.mu.Lock()
	c, ok := p.cache[bucket]
	p.mu.Unlock()
	if ok && p.now().Sub(c.at) < p.cfg.CacheTTL {
		return p.withHealth(c.providers), c.quorum, nil
	}
	return p.discover(ctx, bucket)
}

// Threshold returns the bucket's primaries and how many of them must agree
// for a checkpoint (or hold a write before it is acknowledged): the larger
// of ceil(total x ThresholdPercent / 100) and the bucket's on-chain quorum.
func (p *Pool) Threshold(ctx context.Context, bucket core.BucketID) ([]Info, int, error) {
	ps, q, err := p.providers(ctx, bucket)
	if err != nil {
		return nil, 0, err
	}
	return ps, Threshold(len(ps), p.cfg.ThresholdPercent, q), nil
}

// Invalidate drops the cached providers of bucket (after a failure, the
// next attempt asks the chain again).
func (p *Pool) Invalidate(bucket core.BucketID) {
	p.mu.Lock()
	delete(p.cache, bucket)
	p.mu.Unlock()
}

func (p *Pool) withHealth(ps []Info) []Info {
	out := append([]Info(nil), ps...)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range out {
		if h := p.health[out[i].Account]; h != nil {
			out[i].Status = h.Status()
			out[i].LastSeen = h.LastSuccess
			if h.LastError != "" {
				out[i].LastError = h.LastError
			}
		}
	}
	return out
}
