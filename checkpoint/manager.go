package checkpoint

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
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

	pool    *providers.Pool
	clients *providers.Clients[Provider]
	probes  sync.WaitGroup // probes of unresponsive providers (collect.go)

	mu       sync.Mutex
	bucketMu map[core.BucketID]*sync.Mutex
	chainID  string
	// challenge rate limiting
	lastChallenge map[core.AccountID]time.Time
	challengeLog  []time.Time
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

// WithEndpointResolver sets how registered endpoints become base URLs in
// the pool the manager builds for itself (not with WithPool).
func WithEndpointResolver(r EndpointResolver) Option { return func(m *Manager) { m.resolve = r } }

// WithPool shares pool, the client's one provider pool (discovery, health,
// threshold), with the drive client. Without it the manager builds its own
// from the chain, ProviderCacheTTL and ThresholdPercent.
func WithPool(p *providers.Pool) Option { return func(m *Manager) { m.pool = p } }

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
		bucketMu:      map[core.BucketID]*sync.Mutex{},
		lastChallenge: map[core.AccountID]time.Time{},
		resolve:       func(s string) (string, error) { return s, nil },
	}
	for _, o := range opts {
		o(m)
	}
	m.clients = providers.NewClients(providers.Dialer[Provider](dial))
	if m.pool == nil {
		pool, err := providers.New(chain, providers.Config{CacheTTL: cfg.ProviderCacheTTL, ThresholdPercent: cfg.ThresholdPercent},
			providers.WithClock(m.clock.Now), providers.WithResolver(providers.EndpointResolver(m.resolve)))
		if err != nil {
			return nil, err
		}
		m.pool = pool
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

// Pool is the provider pool the manager discovers, dials and records
// health through.
func (m *Manager) Pool() *providers.Pool { return m.pool }

// DiscoverProviders reads the bucket's active primaries from the chain
// (providers.Pool.Discover).
func (m *Manager) DiscoverProviders(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, error) {
	return m.pool.Discover(ctx, bucket)
}

// Providers returns the bucket's primaries from the pool's cache
// (providers.Pool.Providers).
func (m *Manager) Providers(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, error) {
	return m.pool.Providers(ctx, bucket)
}

// Threshold returns the bucket's primaries and how many of them must agree
// for a checkpoint (providers.Pool.Threshold).
func (m *Manager) Threshold(ctx context.Context, bucket core.BucketID) ([]ProviderInfo, int, error) {
	return m.pool.Threshold(ctx, bucket)
}

// InvalidateProviders drops the cached providers of bucket (after a
// failure, the next attempt asks the chain again).
func (m *Manager) InvalidateProviders(bucket core.BucketID) { m.pool.Invalidate(bucket) }

// record adds one request's outcome to the provider's one health record,
// in the pool, and to the metrics.
func (m *Manager) record(p core.AccountID, latency time.Duration, err error) {
	st := m.pool.Record(p, latency, err)
	outcome := "ok"
	if err != nil {
		outcome = core.KindOf(err).String()
	}
	m.metrics.providerLatency.WithLabelValues(outcome).Observe(latency.Seconds())
	m.metrics.providerHealth.WithLabelValues(p.String()).Set(float64(st))
}

// HealthHistory returns a copy of the provider's history.
func (m *Manager) HealthHistory(p core.AccountID) (HealthHistory, bool) { return m.pool.Health(p) }

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
	c, err := m.clients.Get(p.URL)
	if err != nil {
		return core.E("checkpoint.provider", core.Unavailable, err)
	}
	return f(c)
}

// ProvidersByHealth returns the bucket's providers, healthiest first
// (providers.Pool.ByHealth).
func (m *Manager) ProvidersByHealth(ctx context.Context, bucket core.BucketID) ([]ProviderHealth, error) {
	return m.pool.ByHealth(ctx, bucket)
}

// HasEnoughHealthyProviders reports whether the providers that are healthy
// or not yet known to be otherwise could reach the threshold.
func (m *Manager) HasEnoughHealthyProviders(ctx context.Context, bucket core.BucketID) (bool, error) {
	return m.pool.HasEnoughHealthy(ctx, bucket)
}

func (m *Manager) intn(n int) int {
	m.randMu.Lock()
	defer m.randMu.Unlock()
	return m.rand.IntN(n)
}
