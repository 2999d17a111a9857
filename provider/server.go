package provider

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/httpconn"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// Server is a provider node. It serves HTTP (ServeHTTP, Serve) and, once
// started, runs its background loops: replication, bucket discovery,
// challenge answers and nonce expiry. Close stops all of it.
type Server struct {
	cfg   Config
	key   core.PrivateKey
	acct  core.AccountID
	st    store.Store
	chain Chain
	cache *chainCache
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	m     *metrics
	mux   *http.ServeMux
	// bodies holds write bodies' buffers (*[]byte) for reuse: the store
	// keeps no reference to a blob once Append returns.
	bodies sync.Pool

	commitMu sync.Mutex
	commits  map[core.BucketID]core.SignedCommitment // last signed, reused while the log is unchanged

	trackMu sync.Mutex
	tracked map[core.BucketID]bool // buckets to keep in sync
	lag     map[core.BucketID]uint64
	kick    chan core.BucketID // sync a bucket now

	peerMu    sync.Mutex
	peers     map[string]*providerclient.Client
	peerFails map[core.AccountID]*peerRecord

	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	startMu sync.Mutex
	started bool
	closed  bool
	https   []*http.Server
	conns   httpconn.Set
}

// New builds a provider from its configuration and collaborators. It
// starts nothing: call Start for the background loops and Serve (or use the
// Server as an http.Handler) for the API.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	const op = "provider.New"
	switch {
	case d.Key.IsZero():
		return nil, core.Errorf(op, core.Invalid, "no provider key")
	case d.Store == nil:
		return nil, core.Errorf(op, core.Invalid, "no store")
	case d.Chain == nil:
		return nil, core.Errorf(op, core.Invalid, "no chain")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = http.DefaultClient
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, key: d.Key, acct: d.Key.Account(), st: d.Store, chain: d.Chain,
		cache: newChainCache(d.Chain, cfg.ChainCacheTTL, cfg.ChainCacheSize, d.Now),
		hc:    d.HTTPClient, log: d.Logger.With("provider", d.Key.Account().Short()), now: d.Now,
		m:         newMetrics(),
		commits:   make(map[core.BucketID]core.SignedCommitment),
		tracked:   make(map[core.BucketID]bool),
		lag:       make(map[core.BucketID]uint64),
		kick:      make(chan core.BucketID, 64),
		peers:     make(map[string]*providerclient.Client),
		peerFails: make(map[core.AccountID]*peerRecord),
		ctx:       ctx, cancel: cancel,
	}
	bs, err := s.st.Buckets()
	if err != nil {
		cancel()
		return nil, err
	}
	for _, b := range bs {
		s.tracked[b] = true
		if st, err := s.st.State(b); err == nil {
			s.m.logSize(b, st.LeafCount, st.Bytes)
		}
	}
	s.routes()
	return s, nil
}

// Account is the provider's chain account (its public key).
func (s *Server) Account() core.AccountID { return s.acct }

// Start starts the background loops. It is a no-op after the first call or
// after Close.
func (s *Server) Start() {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.goLoop("sync", s.syncLoop)
	s.goLoop("discovery", s.discoveryLoop)
	s.goLoop("challenges", s.challengeLoop)
	s.goLoop("nonces", s.nonceLoop)
}

func (s *Server) goLoop(name string, f func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
		s.log.Debug("loop stopped", "loop", name)
	}()
}

// Serve serves the API on l until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	l = netutil.LimitListener(l, s.cfg.MaxConns)
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         s.conns.Track,
	}
	s.startMu.Lock()
	if s.closed {
		s.startMu.Unlock()
		l.Close()
		return nil
	}
	s.https = append(s.https, hs)
	s.startMu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving (letting requests in flight finish for up to 5 s) and
// stops the background loops, waiting for them. It does not close the store.
func (s *Server) Close() error {
	s.startMu.Lock()
	if s.closed {
		s.startMu.Unlock()
		return nil
	}
	s.closed = true
	https := s.https
	s.startMu.Unlock()
	// Connections that never sent a request would hold Shutdown for 5 s.
	s.conns.CloseNew()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, hs := range https {
		if err := hs.Shutdown(ctx); err != nil {
			s.log.Warn("requests still running at close", "err", err)
			if err := hs.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

// track adds a bucket to those kept in sync.
func (s *Server) track(b core.BucketID) {
	s.trackMu.Lock()
	s.tracked[b] = true
	s.trackMu.Unlock()
}

func (s *Server) trackedBuckets() []core.BucketID {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	out := make([]core.BucketID, 0, len(s.tracked))
	for b := range s.tracked {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// SyncNow asks the replication loop to sync bucket at once. It does not
// wait; it drops the request if the loop is busy with many.
func (s *Server) SyncNow(b core.BucketID) {
	s.track(b)
	select {
	case s.kick <- b:
	default:
	}
}

func (s *Server) nonceLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.now()
			if n, err := s.st.PruneNonces(now); err != nil {
				s.log.Warn("pruning request nonces", "err", err)
			} else if n > 0 {
				s.log.Debug("pruned request nonces", "count", n)
			}
		}
	}
}
