package cli

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/providerclient"
	"github.com/cairn-storage/cairn/providers"
)

// clientOptions say how to build the client stack.
type clientOptions struct {
	Chain  string
	Signer string
	Home   string
	Logger *slog.Logger
	Config *checkpoint.Config
	// Registerer receives the Checkpoint Manager's metrics (nil: none).
	Registerer prometheus.Registerer
}

// clientStack is the chain client, the provider pool, the Checkpoint
// Manager and the drive client, wired together for one signer: the pool
// is shared by the manager and the drive client, and the drive client
// reaches the manager only through drive.Checkpointer.
type clientStack struct {
	Chain *chainclient.Client
	Pool  *providers.Pool
	Mgr   *checkpoint.Manager
	FS    *drive.Client
	Key   core.PrivateKey

	mu   sync.Mutex
	auto map[core.BucketID]*checkpoint.LoopHandle // running checkpoint loops
}

// Close stops the checkpoint loops, saves the providers' health and
// closes the chain client.
func (s *clientStack) Close() error {
	s.mu.Lock()
	loops := s.auto
	s.auto = nil
	s.mu.Unlock()
	for _, h := range loops {
		h.Stop()
	}
	err := s.Pool.Save()
	return errors.Join(err, s.Chain.Close())
}

// newClientStack builds the stack. The manager's pending state lives in
// HOME/state/ACCOUNT.json and the providers' health beside it in
// HOME/state/ACCOUNT.health.json, so a restarted client finishes what it
// owed and remembers which providers answer.
func newClientStack(ctx context.Context, o clientOptions) (*clientStack, error) {
	key, err := core.ResolveSigner(o.Signer)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cc, err := chainclient.New(o.Chain, chainclient.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	chainID, err := cc.ChainID(ctx)
	if err != nil {
		cc.Close()
		if core.KindOf(err) == core.Unavailable {
			return nil, core.Errorf("connect", core.Unavailable, "cannot reach the chain at %s (start a local one with 'cairn dev', or point --chain / CAIRN_CHAIN at one): %v", o.Chain, err)
		}
		return nil, core.E("connect", core.KindOf(err), err)
	}
	cfg := checkpoint.DefaultConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	state := filepath.Join(o.Home, "state", key.Account().String()+".json")
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		cc.Close()
		return nil, core.E("cli.connect", core.Internal, err)
	}
	pool, err := providers.New(cc, providers.Config{CacheTTL: cfg.ProviderCacheTTL, ThresholdPercent: cfg.ThresholdPercent},
		providers.WithResolver(providerclient.BaseURL),
		providers.WithHealthFile(filepath.Join(o.Home, "state", key.Account().String()+".health.json")))
	if err != nil {
		cc.Close()
		return nil, err
	}
	mgr, err := checkpoint.New(cc, checkpoint.HTTPDialer(key, chainID), key, cfg,
		checkpoint.WithStateFile(state), checkpoint.WithLogger(o.Logger), checkpoint.WithPool(pool),
		checkpoint.WithRegisterer(o.Registerer))
	if err != nil {
		cc.Close()
		return nil, err
	}
	dcfg := drive.DefaultConfig()
	dcfg.SubmitImmediate = cfg.AutoSubmit
	// Every cairn process of this home (put, serve, mount) takes turns
	// writing a drive through these lock files.
	dcfg.LockDir = filepath.Join(o.Home, "state", "locks")
	fsc, err := drive.New(cc, pool, drive.HTTPStorage(key, chainID), mgr, key, dcfg, o.Logger)
	if err != nil {
		cc.Close()
		return nil, err
	}
	return &clientStack{Chain: cc, Pool: pool, Mgr: mgr, FS: fsc, Key: key}, nil
}

// openFS builds the stack from the global flags. The stack is closed when
// the command ends (Globals.closers); callers need not close it.
func (g *Globals) openFS(ctx context.Context) (*drive.Client, error) {
	return g.openFSWith(ctx, nil)
}

// fsAt parses a DRIVE:/path argument and opens the client stack for it.
func (g *Globals) fsAt(ctx context.Context, arg string) (*drive.Client, drivePath, error) {
	p, err := parseDrivePath(arg)
	if err != nil {
		return nil, p, err
	}
	c, err := g.openFS(ctx)
	return c, p, err
}

// openFSWith is openFS with the Checkpoint Manager's configuration
// adjusted by tune, and its metrics registered with reg (nil: none).
func (g *Globals) openFSWith(ctx context.Context, tune func(*checkpoint.Config), reg ...prometheus.Registerer) (*drive.Client, error) {
	s, err := g.openStack(ctx, tune, reg...)
	if err != nil {
		return nil, err
	}
	return s.FS, nil
}

// openStack is openFSWith's whole stack, for the verbs that work with the
// Checkpoint Manager and the pool as well as the drive client.
func (g *Globals) openStack(ctx context.Context, tune func(*checkpoint.Config), reg ...prometheus.Registerer) (*clientStack, error) {
	cfg := checkpoint.DefaultConfig()
	if tune != nil {
		tune(&cfg)
	}
	o := clientOptions{Chain: g.Chain, Signer: g.Signer, Home: g.Home, Config: &cfg}
	if len(reg) > 0 {
		o.Registerer = reg[0]
	}
	s, err := newClientStack(ctx, o)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { s.Close() })
	return s, nil
}

// blockSource is the chain as a source of block heights.
func (g *Globals) blockSource() (checkpoint.BlockSource, error) {
	c, err := chainclient.New(g.Chain)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { c.Close() })
	return c, nil
}

// chainClient is a client of --chain, closed when the command ends.
func (g *Globals) chainClient() (*chainclient.Client, error) {
	c, err := chainclient.New(g.Chain)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { c.Close() })
	return c, nil
}
