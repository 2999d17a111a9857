package ui

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// quorumKept is how many times to quorum a Server remembers per bucket.
const quorumKept = 256

// Server keeps the dashboard's snapshot and serves it (Handler). Run
// keeps it fresh; without Run, Refresh and Probe do it by hand (tests).
type Server struct {
	src Sources
	cfg Config
	log *slog.Logger
	hub *hub

	mu      sync.Mutex
	snap    *Snapshot // nil until the first refresh
	probes  map[core.BucketID]*probe
	quorum  map[core.BucketID]map[int64]time.Duration
	buckets []core.BucketID // the drives' buckets at the last refresh
	// histories are the buckets' last checkpoints, by the height of the
	// latest one when they were read.
	histories map[core.BucketID]cachedHistory
	// reg is the registered providers as read at regHeight.
	reg       map[core.AccountID]wire.Provider
	regHeight int64

	done     chan struct{} // closed by Close: event streams end
	doneOnce sync.Once
}

// cachedHistory is a bucket's last checkpoints as of its latest one.
type cachedHistory struct {
	latest      int64
	checkpoints []wire.Checkpoint
}

// New builds a Server over src. log may be nil.
func New(src Sources, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := src.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{src: src, cfg: cfg, log: log, hub: newHub(cfg.MaxClients, cfg.ClientBuffer),
		probes: map[core.BucketID]*probe{}, quorum: map[core.BucketID]map[int64]time.Duration{},
		histories: map[core.BucketID]cachedHistory{},
		done:      make(chan struct{})}, nil
}

// Close ends the open event streams (an http.Server's Shutdown waits for
// them otherwise); later streams are refused. Run and Close are
// independent: Run ends with its context.
func (s *Server) Close() {
	s.doneOnce.Do(func() { close(s.done) })
}

// Snapshot returns the last snapshot (false before the first refresh).
// The caller must not modify it.
func (s *Server) Snapshot() (*Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap, s.snap != nil
}

// Run refreshes the snapshot on each new block and each event of the
// Checkpoint Manager, probes the providers every cfg.ProbeEvery blocks,
// and pushes what changed to the event streams, until ctx ends. It
// returns nil then, or an error if the block stream could not be had or
// ended by itself.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // runs before the wait: the probe loop and the block stream end with it
	blocks, err := s.src.Blocks.SubscribeBlocks(ctx)
	if err != nil {
		return core.E("ui.Run", core.KindOf(err), err)
	}
	events, unsubscribe := s.src.Events.Subscribe(s.cfg.ClientBuffer)
	defer unsubscribe()
	want, probed := make(chan struct{}, 1), make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.probeLoop(ctx, want, probed)
	}()
	s.refreshLogged(ctx)
	poke(want)
	var lastProbe int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case h, ok := <-blocks:
			if !ok {
				return core.Errorf("ui.Run", core.Unavailable, "the chain's block stream ended")
			}
			h = latest(blocks, h)
			s.refreshLogged(ctx)
			if h-lastProbe >= s.cfg.ProbeEvery {
				lastProbe = h
				poke(want)
			}
		case e, ok := <-events:
			if !ok { // the subscription ended: go on with blocks alone
				events = nil
				continue
			}
			s.noteEvent(e)
			s.refreshLogged(ctx)
		case <-probed:
			s.refreshLogged(ctx)
		}
	}
}

// latest drains the heights already waiting and returns the last one, so
// a slow refresh never falls behind the chain.
func latest(blocks <-chan int64, h int64) int64 {
	for {
		select {
		case n, ok := <-blocks:
			if !ok {
				return h
			}
			h = n
		default:
			return h
		}
	}
}

// poke signals c without blocking (a pending signal is enough).
func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// probeLoop probes on each signal from want and signals probed after.
func (s *Server) probeLoop(ctx context.Context, want <-chan struct{}, probed chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-want:
			s.Probe(ctx)
			poke(probed)
		}
	}
}

func (s *Server) refreshLogged(ctx context.Context) {
	if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("dashboard refresh failed", "op", "ui.Refresh", "err", err)
	}
}

// noteEvent remembers the time to quorum of a checkpoint this process
// submitted.
func (s *Server) noteEvent(e checkpoint.Event) {
	if e.Kind == checkpoint.EventSubmitted && e.Result != nil {
		s.noteResult(e.Result)
	}
}

func (s *Server) noteResult(r *checkpoint.Result) {
	if r == nil || r.Kind != checkpoint.Submitted || r.Height <= 0 || r.AlreadyOnChain {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.quorum[r.Bucket]
	if m == nil {
		m = map[int64]time.Duration{}
		s.quorum[r.Bucket] = m
	}
	m[r.Height] = r.Duration
	for len(m) > quorumKept {
		oldest := r.Height
		for h := range m {
			oldest = min(oldest, h)
		}
		delete(m, oldest)
	}
}
