package chainclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Client is a chain RPC client. It is safe for concurrent use.
type Client struct {
	eps  *endpoints
	hc   *http.Client
	log  *slog.Logger
	opts options

	chainID core.Memo[string]

	signersMu sync.Mutex
	signers   map[core.AccountID]*signerState

	tr tracker

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type options struct {
	hc             *http.Client
	log            *slog.Logger
	requestTimeout time.Duration
	pollInterval   time.Duration
	maxWaitBlocks  int64
}

// DefaultRequestTimeout is WithRequestTimeout's default.
const DefaultRequestTimeout = 10 * time.Second

// Option configures a Client.
type Option func(*options)

// WithHTTPClient sets the HTTP client for RPC calls (default: a client
// keeping up to 64 idle connections to the node).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRequestTimeout bounds each RPC request, so a hung node gives
// Unavailable rather than a hang. A request ends at the earlier of the
// caller's deadline and d from its start: the rule of core.RequestContext,
// which providerclient follows too. 0 means DefaultRequestTimeout;
// core.NoTimeout means no bound of the client's own, for callers that put
// a deadline on every call.
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// WithPollInterval sets how often Submit looks for new blocks while a
// transaction is pending (default 40 ms).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithMaxWaitBlocks sets how many blocks Submit waits for a broadcast
// transaction to commit before it gives up with Unavailable (default 100).
func WithMaxWaitBlocks(n int64) Option { return func(o *options) { o.maxWaitBlocks = n } }

// New returns a client of the nodes whose RPC listens at rpcURL
// ("http://127.0.0.1:26657"; "127.0.0.1:26657" and "tcp://..." work too),
// or at each of a comma-separated list of such URLs: the client talks to
// the first and fails over to the next whenever the one it talks to
// cannot be reached (endpoints.go). It does not contact a node.
func New(rpcURL string, opts ...Option) (*Client, error) {
	const op = "chainclient.New"
	o := options{requestTimeout: DefaultRequestTimeout, pollInterval: 40 * time.Millisecond, maxWaitBlocks: 100}
	for _, f := range opts {
		f(&o)
	}
	if o.requestTimeout == 0 {
		o.requestTimeout = DefaultRequestTimeout
	}
	urls, err := ParseEndpoints(rpcURL)
	if err != nil {
		return nil, err
	}
	if o.hc == nil {
		o.hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	eps, err := newEndpoints(urls, o.hc)
	if err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	c := &Client{eps: eps, hc: o.hc, log: o.log, opts: o,
		signers: map[core.AccountID]*signerState{}, done: make(chan struct{})}
	c.tr.waiters = map[core.H256]*waiter{}
	return c, nil
}

func normalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty chain RPC URL")
	}
	if strings.HasPrefix(s, "tcp://") {
		s = "http://" + strings.TrimPrefix(s, "tcp://")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("chain RPC URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("chain RPC URL %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("chain RPC URL %q has no host", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Close stops the client's background work (pending Submits fail with
// Unavailable, subscriptions close) and waits for it.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	c.wg.Wait()
	c.hc.CloseIdleConnections()
	return nil
}

// reqCtx bounds one RPC request (WithRequestTimeout).
func (c *Client) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return core.RequestContext(ctx, c.opts.requestTimeout)
}

// unavailable wraps a transport error.
func unavailable(op string, err error) error {
	return core.E(op, core.Unavailable, err)
}

// ChainID returns the chain id (asked once, then cached).
func (c *Client) ChainID(ctx context.Context) (string, error) {
	return c.chainID.Get(ctx, c.statusChainID)
}

// statusChainID asks the node which chain it runs.
func (c *Client) statusChainID(ctx context.Context) (string, error) {
	var network string
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) error {
		st, err := rpc.Status(ctx)
		if err == nil {
			network = st.NodeInfo.Network
		}
		return err
	})
	if err != nil {
		return "", unavailable("chainclient.ChainID", err)
	}
	return network, nil
}

// Height returns the latest height the node's application has committed:
// the state every query answers from. (CometBFT stores a block, and serves
// it, a moment before the application commits it.)
func (c *Client) Height(ctx context.Context) (int64, error) {
	return c.appHeight(ctx)
}

// query runs an ABCI query and decodes its JSON answer into out.
func (c *Client) query(ctx context.Context, op, path string, out any) error {
	var res *ctypes.ResultABCIQuery
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
		res, err = rpc.ABCIQuery(ctx, path, nil)
		return err
	})
	if err != nil {
		return unavailable(op, err)
	}
	r := res.Response
	if r.Code != wire.CodeOK {
		return core.E(op, wire.CodeToKind(r.Code), errors.New(r.Log))
	}
	if err := json.Unmarshal(r.Value, out); err != nil {
		return core.E(op, core.Internal, fmt.Errorf("decode %s answer: %w", path, err))
	}
	return nil
}

// BlockHash returns the hash of the block at height h (the block a
// committed transaction's result names). It reads the block's header
// only: the whole block would carry every account's transactions.
func (c *Client) BlockHash(ctx context.Context, h int64) (core.H256, error) {
	const op = "chainclient.BlockHash"
	var res *ctypes.ResultHeader
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
		res, err = rpc.Header(ctx, &h)
		return err
	})
	if err != nil {
		return core.H256{}, unavailable(op, err)
	}
	var out core.H256
	if res == nil || res.Header == nil {
		return out, core.Errorf(op, core.Internal, "no header for block %d", h)
	}
	hash := res.Header.Hash()
	if len(hash) != len(out) {
		return out, core.Errorf(op, core.Internal, "block %d has a %d-byte hash", h, len(hash))
	}
	copy(out[:], hash)
	return out, nil
}
