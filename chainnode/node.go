package chainnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtpubsub "github.com/cometbft/cometbft/libs/pubsub"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpcserver "github.com/cometbft/cometbft/rpc/jsonrpc/server"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/httpconn"
)

// Node is a running validator: CometBFT and the chain application in this
// process.
type Node struct {
	home    string
	cfg     NodeConfig
	app     *chain.App
	cmt     *node.Node
	chainID string
	rpcLn   net.Listener
	rpcSrv  *http.Server
	conns   httpconn.Set
	rpcURL  string
	dbs     *dbTracker

	stopOnce sync.Once
	stopErr  error
	done     chan struct{}
}

// Start runs the node whose home is cfg.Home (see Init and Testnet) and
// returns once CometBFT and the RPC server run. It does not wait for a
// block: see WaitForHeight.
func Start(cfg Config) (*Node, error) {
	const op = "chainnode.Start"
	nc, err := ReadNodeConfig(cfg.Home)
	if err != nil {
		return nil, err
	}
	if cfg.Node != nil {
		nc = *cfg.Node
	}
	if cfg.RPCListen != "" {
		nc.RPCListen = cfg.RPCListen
	}
	if cfg.TimeoutCommit > 0 {
		nc.TimeoutCommit = Duration(cfg.TimeoutCommit)
	}
	if err := nc.Validate(); err != nil {
		return nil, err
	}
	c := cometConfig(cfg.Home)
	c.Moniker = nc.Moniker
	c.RPC.ListenAddress = "" // served by us, below
	c.RPC.MaxBodyBytes = rpcMaxBodyBytes
	c.P2P.ListenAddress = "tcp://" + nc.P2PListen
	c.P2P.PersistentPeers = nc.PersistentPeers
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.PexReactor = false // peers are persistent_peers; PEX would also write addrbook.json after Stop returns
	c.Consensus.TimeoutCommit = time.Duration(nc.TimeoutCommit)
	c.Consensus.TimeoutPropose = time.Duration(nc.TimeoutPropose)
	c.Mempool.MaxTxBytes = mempoolMaxTxBytes
	c.Instrumentation.Prometheus = false
	if err := c.ValidateBasic(); err != nil {
		return nil, core.E(op, core.Invalid, err)
	}

	logger, err := cometLogger(cfg.CometLog, cfg.CometLogLevel)
	if err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	app, err := chain.New(chain.Config{Dir: filepath.Join(cfg.Home, "data", "cairn.db"), Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		app.Close()
		return nil, core.E(op, core.Internal, err)
	}
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	dbs := &dbTracker{}
	n := &Node{home: cfg.Home, cfg: nc, app: app, dbs: dbs, done: make(chan struct{})}
	cmt, err := node.NewNode(c, pv, nodeKey, proxy.NewLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(c), dbs.provider, node.DefaultMetricsProvider(c.Instrumentation), logger)
	if err != nil {
		dbs.closeAll()
		app.Close()
		return nil, core.E(op, core.Internal, err)
	}
	n.cmt = cmt
	n.chainID = cmt.GenesisDoc().ChainID
	if err := cmt.Start(); err != nil {
		dbs.closeAll()
		app.Close()
		return nil, core.E(op, core.Internal, err)
	}
	if nc.RPCListen != "" {
		if err := n.serveRPC(c, logger); err != nil {
			n.Stop()
			return nil, err
		}
	}
	return n, nil
}

// serveRPC serves CometBFT's RPC routes on a listener this package owns,
// as node.startRPC would, so port 0 can be reported.
func (n *Node) serveRPC(c *cmtcfg.Config, logger cmtlog.Logger) error {
	const op = "chainnode.Start"
	env, err := n.cmt.ConfigureRPC()
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	routes := env.GetRoutes()
	sc := rpcserver.DefaultConfig()
	sc.MaxBodyBytes = c.RPC.MaxBodyBytes
	sc.MaxHeaderBytes = c.RPC.MaxHeaderBytes
	sc.MaxOpenConnections = c.RPC.MaxOpenConnections
	if sc.WriteTimeout <= c.RPC.TimeoutBroadcastTxCommit {
		sc.WriteTimeout = c.RPC.TimeoutBroadcastTxCommit + time.Second
	}
	mux := http.NewServeMux()
	rpcLogger := logger.With("module", "rpc-server")
	eventBus := n.cmt.EventBus()
	wm := rpcserver.NewWebsocketManager(routes,
		rpcserver.OnDisconnect(func(remoteAddr string) {
			if err := eventBus.UnsubscribeAll(context.Background(), remoteAddr); err != nil && !errors.Is(err, cmtpubsub.ErrSubscriptionNotFound) {
				rpcLogger.Error("unsubscribe", "addr", remoteAddr, "err", err)
			}
		}),
		rpcserver.ReadLimit(sc.MaxBodyBytes),
		rpcserver.WriteChanCapacity(c.RPC.WebSocketWriteBufferSize),
	)
	wm.SetLogger(rpcLogger.With("protocol", "websocket"))
	mux.HandleFunc("/websocket", wm.WebsocketHandler)
	rpcserver.RegisterRPCFuncs(mux, routes, rpcLogger)
	ln, err := rpcserver.Listen("tcp://"+n.cfg.RPCListen, sc.MaxOpenConnections)
	if err != nil {
		return core.E(op, core.Unavailable, fmt.Errorf("rpc listen %s: %w", n.cfg.RPCListen, err))
	}
	n.rpcLn = ln
	n.rpcURL = "http://" + ln.Addr().String()
	// As rpcserver.Serve, but with a server we can close, connections
	// (websockets too) and all, so clients notice a stopped node at once.
	n.rpcSrv = &http.Server{
		Handler:           rpcserver.PreChecksHandler(rpcserver.RecoverAndLogHandler(mux, rpcLogger), sc),
		ReadTimeout:       sc.ReadTimeout,
		ReadHeaderTimeout: sc.ReadTimeout,
		WriteTimeout:      sc.WriteTimeout,
		MaxHeaderBytes:    sc.MaxHeaderBytes,
		ConnState:         n.conns.Track,
	}
	go func() {
		if err := n.rpcSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rpcLogger.Debug("rpc server stopped", "err", err)
		}
	}()
	return nil
}

// RPCURL is the RPC base URL with the bound port ("http://127.0.0.1:39123"),
// or "" if RPC is disabled.
func (n *Node) RPCURL() string { return n.rpcURL }

// ChainID is the network's chain id.
func (n *Node) ChainID() string { return n.chainID }

// Home is the node's home directory.
func (n *Node) Home() string { return n.home }

// NodeID is the node's P2P id.
func (n *Node) NodeID() string { return string(n.cmt.NodeInfo().ID()) }

// App is the node's chain application (read-only use: Height, AppHash).
func (n *Node) App() *chain.App { return n.app }

// Height is the last height the application committed.
func (n *Node) Height() int64 { return n.app.Height() }

// WaitForHeight waits until the application has committed height h.
func (n *Node) WaitForHeight(ctx context.Context, h int64) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for n.app.Height() < h {
		select {
		case <-ctx.Done():
			return core.E("chainnode.WaitForHeight", core.Unavailable, fmt.Errorf("height %d not reached (at %d): %w", h, n.app.Height(), ctx.Err()))
		case <-n.done:
			return core.Errorf("chainnode.WaitForHeight", core.Unavailable, "node stopped at height %d", n.app.Height())
		case <-t.C:
		}
	}
	return nil
}

// Done is closed once the node has stopped.
func (n *Node) Done() <-chan struct{} { return n.done }

// Wait blocks until the node has stopped.
func (n *Node) Wait() { <-n.done }

// Stop stops the RPC server, CometBFT and the application, closing every
// database, so the home can be started again (also in this process).
// It is safe to call more than once.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		var errs []error
		if n.rpcSrv != nil {
			n.rpcSrv.Close()
			n.conns.CloseAll() // hijacked (websocket) connections
		} else if n.rpcLn != nil {
			n.rpcLn.Close()
		}
		if n.cmt != nil && n.cmt.IsRunning() {
			if err := n.cmt.Stop(); err != nil {
				errs = append(errs, err)
			}
			n.cmt.Wait()
		}
		n.dbs.closeAll()
		if err := n.app.Close(); err != nil {
			errs = append(errs, err)
		}
		n.stopErr = errors.Join(errs...)
		close(n.done)
	})
	return n.stopErr
}

// dbTracker opens CometBFT's databases and remembers them, because a
// stopped CometBFT node leaves some (the tx index) open, and reopening a
// home in the same process needs them closed.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	safe := &closeSafeDB{DB: db}
	t.mu.Lock()
	t.dbs = append(t.dbs, safe)
	t.mu.Unlock()
	return safe, nil
}

// closeSafeDB reads as empty once closed instead of failing. CometBFT
// v0.38's consensus reactor keeps a per-peer goroutine that can wake after
// the node stopped and read the closed block store, which panics the
// process ("leveldb: closed"); harmless when the process exits, fatal to
// tests that stop one validator of several and carry on.
type closeSafeDB struct {
	dbm.DB
	closed atomic.Bool
}

func (d *closeSafeDB) Get(k []byte) ([]byte, error) {
	if d.closed.Load() {
		return nil, nil
	}
	v, err := d.DB.Get(k)
	if err != nil && d.closed.Load() {
		return nil, nil
	}
	return v, err
}

func (d *closeSafeDB) Has(k []byte) (bool, error) {
	if d.closed.Load() {
		return false, nil
	}
	v, err := d.DB.Has(k)
	if err != nil && d.closed.Load() {
		return false, nil
	}
	return v, err
}

func (d *closeSafeDB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.DB.Close()
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		db.Close() // already closed by CometBFT for most: the error is expected
	}
	t.dbs = nil
}

func cometLogger(w io.Writer, level string) (cmtlog.Logger, error) {
	if w == nil {
		return cmtlog.NewNopLogger(), nil
	}
	if level == "" {
		level = "error"
	}
	opt, err := cmtlog.AllowLevel(level)
	if err != nil {
		return nil, err
	}
	return cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(w)), opt), nil
}
