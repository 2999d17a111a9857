package chainclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/cairn-storage/cairn/core"
)

// maxEndpoints bounds the RPC endpoints one client takes.
const maxEndpoints = 64

// endpoint is one node's RPC.
type endpoint struct {
	url string // http://host:port
	rpc *cmthttp.HTTP
}

// endpoints are the nodes a client may talk to, with the one it talks to
// now. Every request goes to the current one; a request it fails to
// answer (a transport error or a timeout, not an answer such as an RPC
// error) moves the client to the next, in order, and is retried there, so
// one stopped node or lost RPC costs one failed attempt, not an outage.
type endpoints struct {
	list []endpoint
	cur  atomic.Int32
}

// ParseEndpoints splits a comma-separated list of RPC URLs
// ("http://a:26657,b:26657"), normalises each (see New) and drops
// repeats.
func ParseEndpoints(s string) ([]string, error) {
	const op = "chainclient.ParseEndpoints"
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		u, err := normalizeURL(part)
		if err != nil {
			return nil, core.E(op, core.Invalid, err)
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, core.Errorf(op, core.Invalid, "no chain RPC URL in %q", s)
	}
	if len(out) > maxEndpoints {
		return nil, core.Errorf(op, core.Invalid, "%d chain RPC URLs, at most %d", len(out), maxEndpoints)
	}
	return out, nil
}

func newEndpoints(urls []string, hc *http.Client) (*endpoints, error) {
	e := &endpoints{}
	for _, u := range urls {
		rpc, err := cmthttp.NewWithClient(u, "/websocket", hc)
		if err != nil {
			return nil, err
		}
		e.list = append(e.list, endpoint{url: u, rpc: rpc})
	}
	return e, nil
}

func (e *endpoints) current() (int32, endpoint) {
	i := e.cur.Load()
	return i, e.list[i]
}

// failed moves on from endpoint i, unless another request already did.
func (e *endpoints) failed(i int32) {
	e.cur.CompareAndSwap(i, (i+1)%int32(len(e.list)))
}

// nodeAnswered reports whether err is the node's own answer (an RPC
// error), which another node would give too, rather than a failure to
// reach it.
func nodeAnswered(err error) bool {
	var re *rpctypes.RPCError
	return errors.As(err, &re)
}

// call runs fn against the current endpoint, each attempt bounded by the
// client's request timeout, and fails over to the next endpoint while the
// node cannot be reached, trying each endpoint at most once. It returns
// fn's last error, unwrapped.
func (c *Client) call(ctx context.Context, fn func(ctx context.Context, rpc *cmthttp.HTTP) error) error {
	var err error
	for range c.eps.list {
		i, ep := c.eps.current()
		rctx, cancel := c.reqCtx(ctx)
		err = fn(rctx, ep.rpc)
		cancel()
		if err == nil || nodeAnswered(err) || ctx.Err() != nil {
			return err
		}
		if len(c.eps.list) > 1 {
			c.log.Debug("chain RPC unreachable; failing over", "endpoint", ep.url, "err", err)
		}
		c.eps.failed(i)
	}
	return err
}

// URL returns the RPC base URL the client talks to now.
func (c *Client) URL() string {
	_, ep := c.eps.current()
	return ep.url
}

// Endpoints returns every RPC base URL the client may talk to, in order.
func (c *Client) Endpoints() []string {
	out := make([]string, len(c.eps.list))
	for i, ep := range c.eps.list {
		out[i] = ep.url
	}
	return out
}
