package checkpoint

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
)

// Manager is the Checkpoint Manager. It is safe for concurrent use; at most
// one checkpoint per bucket runs at a time.
type Manager struct {
	cfg     Config
	chain   Chain
	dial    Dialer
	resolve EndpointResolver
	signer  core.PrivateKey
	clock   Clock
	log     *slog.Logger
	rand    *rand.Rand
	randMu  sync.Mutex
	metrics *metrics
	state   *stateStore
	events  hub

	mu       sync.Mutex
	cache    map[core.BucketID]cachedProviders
	health   map[core.AccountID]*HealthHistory
	clients  map[string]Provider
	bucketMu map[core.BucketID]*sync.Mutex
	chainID  string
	// challenge rate limiting
	lastChallenge map[core.AccountID]time.Time
	challengeLog  []time.Time
}

type cachedProviders struct {
	at        time.Time
	providers []ProviderInfo
	quorum    uint32 // the bucket's on-chain quorum
}

// Option configures a Manager.
type Option func(*Manager)

// WithClock injects the clock (tests).
func WithClock(c Clock) Option { return func(m *Manager) { m.clock = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(m *Manager) { m.log = l } }

// WithRand seeds the audit and jitter randomness (tests).
func WithRand(r *rand.Rand) Option { return func(m *Manager) { m.rand = r } }

// WithRegisterer registers the manager's Prometheus metrics.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(m *Manager) { m.metrics = newMetrics(r) }
}

// WithStateFile persists dirty buckets, pending drive roots and last
// results in path, and loads them now.
func WithStateFile(path string) Option {
	return func(m *Manager) { m.state = &stateStore{path: path} }
}

// WithCallbacks sets the reference-style callbacks.
func WithCallbacks(cb Callbacks) Option { return func(m *Manager) { m.events.cb = cb } }

// WithEndpointResolver sets how registered endpoints become base URLs.
func WithEndpointResolver(r EndpointResolver) Option { return func(m *Manager) { m.resolve = r } }

// New builds a Manager that reads and writes the chain through chain,
// reaches providers through dial, and signs transactions with signer.
func New(chain Chain, dial Dialer, signer core.PrivateKey, cfg Config, opts ...Option) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if chain == nil || dial == nil || signer.IsZero() {
		return nil, core.Errorf("checkpoint.New", core.Invalid, "chain, dialer and signer are required")
	}
	m := &Manager{
		cfg:           cfg,
		chain:         chain,
		dial:          dial,
		signer:        signer,
		clock:         realClock{},
		log:           slog.New(slog.DiscardHandler),
		cache:         map[core.BucketID]cachedProviders{},
		health:        map[core.AccountID]*HealthHistory{},
		clients:       map[string]Provider{},
		bucketMu:      map[core.BucketID]*sync.Mutex{},
		lastChallenge: map[core.AccountID]time.Time{},
		resolve:       func(s string) (string, error) { return s, nil },
	}
	for _, o := range opts {
		o(m)
	}
	if m.metrics == nil {
		m.metrics = newMetrics(nil)
	}
	if m.rand == nil {
		m.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	path := ""
	if m.state != nil {
		path = m.state.path
	}
	st, err := openState(path)
	if err != nil {
		return nil, err
	}
	m.state = st
	return m, nil
}

// Config returns the manager's configuration.
func (m *Manager) Config() Config { return m.cfg }

// Signer returns the account that submits checkpoints.
func (m *Manager) Signer() core.AccountID { return m.signer.Account() }

func (m *Manager) lockBucket(b core.BucketID) func() {
	m.mu.Lock()
	l := m.bucketMu[b]
	if l == nil {
		l = &sync.Mutex{}
		m.bucketMu[b] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (m *Manager) chainIDOf(ctx context.Context) (string, error) {
	m.mu.Lock()
	id := m.chainID
	m.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, err := m.chain.ChainID(ctx)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	m.chainID = id
	m.mu.Unlock()
	return id, nil
}

// DiscoverProviders reads the bucket's active primaries from the chain:
// agreements, then each provider's registered endpoint and key. The answer,
// and the bucket's on-chain quorum, are cached for ProviderCacheTTL.
func (m *Manager) DiscoverProviders(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, error) {
	ps, _, err := m.discover(ctx, bucket)
	return ps, err
}

func (m *Manager) discover(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, uint32, error) {
	const op = "checkpoint.DiscoverProviders"
	var q uint32
	b, err := m.chain.Bucket(ctx, bucket)
	switch {
	case err == nil:
		q = b.Quorum
	case core.KindOf(err) != core.NotFound:
		// A missing bucket has no agreements either; anything else is a
		// chain we cannot read, and guessing a quorum would be wrong.
		return nil, 0, core.E(op, core.KindOf(err), err)
	}
	ags, err := m.chain.BucketAgreements(ctx, bucket)
	if err != nil {
		return nil, 0, core.E(op, core.KindOf(err), err)
	}
	var out []ProviderInfo
	for _, a := range ags {
		if a.Role != wire.Primary || !a.Active {
			continue
		}
		p, err := m.chain.Provider(ctx, a.Provider)
		if err != nil {
			return nil, 0, core.E(op, core.KindOf(err), err)
		}
		info := ProviderInfo{Account: p.Account, Endpoint: p.Endpoint, PublicKey: p.PublicKey}
		if info.PublicKey.IsZero() {
			info.PublicKey = p.Account
		}
		url, err := m.resolve(p.Endpoint)
		if err != nil {
			// An unusable endpoint makes the provider unreachable, not the
			// whole bucket undiscoverable: it still counts in the total.
			info.LastError = err.Error()
		}
		info.URL = url
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Account[:], out[j].Account[:]) < 0 })
	m.mu.Lock()
	m.cache[bucket] = cachedProviders{at: m.clock.Now(), providers: out, quorum: q}
	m.mu.Unlock()
	return m.withHealth(out), q, nil
}

// Providers returns the bucket's primaries from the cache, discovering them
// when the cache is empty or older than ProviderCacheTTL.
func (m *Manager) Providers(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, error) {
	ps, _, err := m.providers(ctx, bucket)
	return ps, err
}

// providers is Providers with the bucket's on-chain quorum, read together
// so a threshold is never computed from one discovery's total and
// another's quorum.
func (m *Manager) providers(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, uint32, error) {
	m.mu.Lock()
	c, ok := m.cache[bucket]
	m.mu.Unlock()
	if ok && m.clock.Now().Sub(c.at) < m.cfg.ProviderCacheTTL {
		return m.withHealth(c.providers), c.quorum, nil
	}
	return m.discover(ctx, bucket)
}

// Threshold returns the bucket's primaries and how many of them must agree
// for a checkpoint (or hold a write before it is acknowledged): the larger
// of the client's rule, ceil(total x ThresholdPercent / 100), and the
// bucket's on-chain quorum.
func (m *Manager) Threshold(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, int, error) {
	ps, q, err := m.providers(ctx, bucket)
	if err != nil {
		return nil, 0, err
	}
	return ps, quorum.Threshold(len(ps), m.cfg.ThresholdPercent, q), nil
}

// InvalidateProviders drops the cached providers of bucket (after a
// failure, the next attempt asks the chain again).
func (m *Manager) InvalidateProviders(bucket core.BucketID) {
	m.mu.Lock()
	delete(m.cache, bucket)
	m.mu.Unlock()
}

func (m *Manager) withHealth(ps []ProviderInfo) []ProviderInfo {
	out := append([]ProviderInfo(nil), ps...)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range out {
		if h := m.health[out[i].Account]; h != nil {
			out[i].Status = h.Status()
			out[i].LastSeen = h.LastSuccess
			if h.LastError != "" {
				out[i].LastError = h.LastError
			}
		}
	}
	return out
}

func (m *Manager) client(url string) (Provider, error) {
	m.mu.Lock()
	c := m.clients[url]
	m.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := m.dial(url)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.clients[url] = c
	m.mu.Unlock()
	return c, nil
}

func (m *Manager) record(p core.AccountID, latency time.Duration, err error) {
	m.mu.Lock()
	h := m.health[p]
	if h == nil {
		h = &HealthHistory{}
		m.health[p] = h
	}
	h.Record(m.clock.Now(), latency, err)
	st := h.Status()
	m.mu.Unlock()
	outcome := "ok"
	if err != nil {
		outcome = core.KindOf(err).String()
	}
	m.metrics.providerLatency.WithLabelValues(outcome).Observe(latency.Seconds())
	m.metrics.providerHealth.WithLabelValues(p.String()).Set(float64(st))
}

// HealthHistory returns a copy of the provider's history.
func (m *Manager) HealthHistory(p core.AccountID) (HealthHistory, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.health[p]
	if h == nil {
		return HealthHistory{}, false
	}
	return h.clone(), true
}

// CheckHealth asks each of the bucket's providers for GET /health and
// records the outcome.
func (m *Manager) CheckHealth(ctx context.Context, bucket core.BucketID) ([]ProviderHealth, error) {
	ps, err := m.Providers(ctx, bucket)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := m.clock.Now()
			err := m.withProvider(p, func(c Provider) error {
				cctx, cancel := context.WithTimeout(ctx, m.cfg.HealthTimeout)
				defer cancel()
				return c.Health(cctx)
			})
			m.record(p.Account, m.clock.Now().Sub(start), err)
		}()
	}
	wg.Wait()
	return m.ProvidersByHealth(ctx, bucket)
}

func (m *Manager) withProvider(p ProviderInfo, f func(Provider) error) error {
	if p.URL == "" {
		return core.Errorf("checkpoint.provider", core.Unavailable, "provider %s has no usable endpoint (%q): %s", p.Account.Short(), p.Endpoint, p.LastError)
	}
	c, err := m.client(p.URL)
	if err != nil {
		return core.E("checkpoint.provider", core.Unavailable, err)
	}
	return f(c)
}

// ProvidersByHealth returns the bucket's providers, healthiest first:
// healthy, unknown, degraded, unreachable; then by success rate and
// latency.
func (m *Manager) ProvidersByHealth(ctx context.Context, bucket core.BucketID) ([]ProviderHealth, error) {
	ps, err := m.Providers(ctx, bucket)
	if err != nil {
		return nil, err
	}
	out := make([]ProviderHealth, len(ps))
	for i, p := range ps {
		h, _ := m.HealthHistory(p.Account)
		out[i] = ProviderHealth{ProviderInfo: p, History: h}
	}
	rank := map[ProviderStatus]int{StatusHealthy: 0, StatusUnknown: 1, StatusDegraded: 2, StatusUnreachable: 3}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := rank[a.History.Status()], rank[b.History.Status()]; ra != rb {
			return ra < rb
		}
		if sa, sb := a.History.SuccessRate(), b.History.SuccessRate(); sa != sb {
			return sa > sb
		}
		return a.History.AvgLatency < b.History.AvgLatency
	})
	return out, nil
}

// HasEnoughHealthyProviders reports whether the providers that are healthy
// or not yet known to be otherwise could reach the threshold.
func (m *Manager) HasEnoughHealthyProviders(ctx context.Context, bucket core.BucketID) (bool, error) {
	_, required, err := m.Threshold(ctx, bucket)
	if err != nil {
		return false, err
	}
	ps, err := m.ProvidersByHealth(ctx, bucket)
	if err != nil {
		return false, err
	}
	n := 0
	for _, p := range ps {
		if s := p.History.Status(); s == StatusHealthy || s == StatusUnknown {
			n++
		}
	}
	return len(ps) > 0 && n >= required, nil
}

func (m *Manager) intn(n int) int {
	m.randMu.Lock()
	defer m.randMu.Unlock()
	return m.rand.IntN(n)
}
