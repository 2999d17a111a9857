package chainclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// signerState hands out one account's nonces. Its mutex is held from
// choosing a nonce until the node has accepted (or refused) the
// transaction, so transactions of one signer reach the mempool in nonce
// order however many goroutines submit.
type signerState struct {
	mu    sync.Mutex
	next  uint64
	known bool
}

func (c *Client) signer(a core.AccountID) *signerState {
	c.signersMu.Lock()
	defer c.signersMu.Unlock()
	s := c.signers[a]
	if s == nil {
		s = &signerState{}
		c.signers[a] = s
	}
	return s
}

// Submit signs call with signer, broadcasts it and returns once it is in a
// committed block. A transaction the chain refuses gives an error of the
// kind of its result code with a *wire.TxError cause (and, if it was
// executed and failed, also the result). A stale nonce is retried once
// with a fresh one. Unavailable means the node could not be reached or the
// transaction did not commit within the wait limit; it may still commit.
func (c *Client) Submit(ctx context.Context, signer core.PrivateKey, call wire.Call) (*wire.TxResult, error) {
	const op = "chainclient.Submit"
	if signer.IsZero() {
		return nil, core.Errorf(op, core.Invalid, "no signer key")
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	s := c.signer(signer.Account())
	w, err := c.broadcast(ctx, op, s, signer, chainID, call)
	if err != nil {
		return nil, err
	}
	return c.wait(ctx, op, s, w)
}

// SubmitRaw broadcasts an already signed transaction (see wire.EncodeTx)
// and waits for it as Submit does. It does not manage nonces: a refused
// nonce is returned, not retried.
func (c *Client) SubmitRaw(ctx context.Context, tx []byte) (*wire.TxResult, error) {
	const op = "chainclient.SubmitRaw"
	w, err := c.tr.add(ctx, c, wire.TxHash(tx))
	if err != nil {
		return nil, err
	}
	res, err := c.broadcastSync(ctx, tx)
	if err != nil {
		c.tr.remove(w)
		return nil, broadcastError(op, w.hash, err)
	}
	if res.Code != wire.CodeOK {
		c.tr.remove(w)
		return nil, core.E(op, wire.CodeToKind(res.Code), &wire.TxError{Code: res.Code, Log: res.Log, Hash: w.hash})
	}
	return c.wait(ctx, op, nil, w)
}

// wait waits for w's transaction to commit.
func (c *Client) wait(ctx context.Context, op string, s *signerState, w *waiter) (*wire.TxResult, error) {
	select {
	case r := <-w.ch:
		if r.err != nil {
			if s != nil {
				c.forget(s)
			}
			return nil, r.err
		}
		res := r.res
		if res.Code != wire.CodeOK {
			return res, core.E(op, wire.CodeToKind(res.Code), &wire.TxError{Code: res.Code, Log: res.Log, Hash: res.Hash, Height: res.Height})
		}
		return res, nil
	case <-ctx.Done():
		c.tr.remove(w)
		return nil, core.E(op, core.Unavailable, fmt.Errorf("waiting for tx %s to commit: %w", w.hash, ctx.Err()))
	case <-c.done:
		c.tr.remove(w)
		return nil, core.Errorf(op, core.Unavailable, "client closed while waiting for tx %s", w.hash)
	}
}

// forget makes the next Submit of s ask the node for its nonce.
func (c *Client) forget(s *signerState) {
	s.mu.Lock()
	s.known = false
	s.mu.Unlock()
}

// broadcast picks the nonce, registers a waiter and sends the transaction.
func (c *Client) broadcast(ctx context.Context, op string, s *signerState, k core.PrivateKey, chainID string, call wire.Call) (*waiter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !s.known {
			n, err := c.NextNonce(ctx, k.Account())
			if err != nil {
				return nil, err
			}
			s.next, s.known = n.Next, true
		}
		tx, err := wire.EncodeTx(k, chainID, s.next, call)
		if err != nil {
			return nil, err
		}
		w, err := c.tr.add(ctx, c, wire.TxHash(tx))
		if err != nil {
			return nil, err
		}
		res, err := c.broadcastSync(ctx, tx)
		if err != nil {
			c.tr.remove(w)
			s.known = false
			err = broadcastError(op, w.hash, err)
			// The same bytes are in the node's cache: another client of
			// this signer sent an identical transaction with this nonce.
			if core.KindOf(err) == core.Exists && attempt == 0 {
				continue
			}
			// Otherwise the node may or may not have taken it: ask for the
			// nonce next time.
			return nil, err
		}
		if res.Code == wire.CodeOK {
			s.next++
			return w, nil
		}
		c.tr.remove(w)
		if res.Code == wire.CodeBadNonce {
			s.known = false
			if attempt == 0 {
				c.log.Debug("stale nonce, retrying", "op", op, "signer", k.Account().Short(), "log", res.Log)
				continue
			}
		}
		return nil, core.E(op, wire.CodeToKind(res.Code), &wire.TxError{Code: res.Code, Log: res.Log, Hash: w.hash})
	}
}

// tracker finds the committed transactions Submit is waiting for. One
// goroutine runs while any wait; it polls the node's height and, when the
// height moved, asks the node's transaction index for each waiting hash
// (the indexed `tx` route), so a client's cost of waiting grows with its
// own pending transactions, never with the other accounts' transactions in
// the blocks (it used to read every block and all its results).
type tracker struct {
	mu      sync.Mutex
	waiters map[core.H256]*waiter
	running bool
	last    int64 // the last height looked at
}

type waiter struct {
	hash  core.H256
	since int64 // tracker height when registered
	ch    chan waitResult
	// checked is the height at which the index last did not have the
	// transaction; lagging says it gets one more look at that height (the
	// node indexes a block just after it commits it).
	checked int64
	lagging bool
}

type waitResult struct {
	res *wire.TxResult
	err error
}

// add registers a waiter for hash before its transaction is broadcast, so
// no block that could hold it is missed; it starts the scanning goroutine
// if none runs, from the node's current height.
func (t *tracker) add(ctx context.Context, c *Client, hash core.H256) (*waiter, error) {
	t.mu.Lock()
	running := t.running
	t.mu.Unlock()
	var h int64
	if !running {
		var err error
		if h, err = c.appHeight(ctx); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		select {
		case <-c.done:
			return nil, core.Errorf("chainclient.Submit", core.Unavailable, "client closed")
		default:
		}
		t.running = true
		t.last = h
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			t.run(c)
		}()
	}
	w := &waiter{hash: hash, since: t.last, ch: make(chan waitResult, 1)}
	t.waiters[hash] = w
	return w, nil
}

func (t *tracker) remove(w *waiter) {
	t.mu.Lock()
	if t.waiters[w.hash] == w {
		delete(t.waiters, w.hash)
	}
	t.mu.Unlock()
}

func (t *tracker) run(c *Client) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(c.opts.pollInterval)
	defer tick.Stop()
	for {
		t.mu.Lock()
		if len(t.waiters) == 0 {
			t.running = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()

		// A transaction is delivered only once the application's
		// committed height reaches its block (not the block store's,
		// which runs ahead), since Submit promises that queries see it.
		if h, err := c.appHeight(ctx); err == nil {
			t.look(ctx, c, h)
		}
		select {
		case <-c.done:
			t.mu.Lock()
			for hash, w := range t.waiters {
				w.ch <- waitResult{err: core.Errorf("chainclient.Submit", core.Unavailable, "client closed while waiting for tx %s", hash)}
				delete(t.waiters, hash)
			}
			t.running = false
			t.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}

// look asks the index for each waiter not yet looked up at height h (and
// once more for one that was not there yet), delivers what committed at
// or below h, and gives up on waiters older than the wait limit.
func (t *tracker) look(ctx context.Context, c *Client, h int64) {
	t.mu.Lock()
	var due []*waiter
	for _, w := range t.waiters {
		if w.checked < h || w.lagging {
			due = append(due, w)
		}
	}
	t.mu.Unlock()
	for _, w := range due {
		res, err := c.txByHash(ctx, w.hash)
		t.mu.Lock()
		if t.waiters[w.hash] != w {
			t.mu.Unlock()
			continue
		}
		switch {
		case err == nil && res.Height <= h:
			delete(t.waiters, w.hash)
			w.ch <- waitResult{res: res}
		case err == nil || core.KindOf(err) == core.NotFound:
			w.lagging = w.checked < h // one more look at this height
			w.checked = h
		default:
			c.log.Debug("looking up tx", "hash", w.hash, "err", err)
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = max(t.last, h)
	for hash, w := range t.waiters {
		if h-w.since > c.opts.maxWaitBlocks {
			delete(t.waiters, hash)
			w.ch <- waitResult{err: core.Errorf("chainclient.Submit", core.Unavailable,
				"tx %s not committed within %d blocks (it may have been dropped from the mempool)", hash, c.opts.maxWaitBlocks)}
		}
	}
}

// isNotIndexed reports the node's answer that it has no such transaction
// (CometBFT gives no code for it, so its message is matched, here only).
func isNotIndexed(err error) bool {
	var rpcErr *rpctypes.RPCError
	return errors.As(err, &rpcErr) && strings.Contains(rpcErr.Message+" "+rpcErr.Data, "not found")
}

// txByHash reads one committed transaction and its result from the node's
// transaction index (NotFound while it is not there).
func (c *Client) txByHash(ctx context.Context, hash core.H256) (*wire.TxResult, error) {
	const op = "chainclient.txByHash"
	var res *ctypes.ResultTx
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
		res, err = rpc.Tx(ctx, hash[:], false)
		if isNotIndexed(err) {
			res = nil
			return nil // an answer, not a failure of this node
		}
		return err
	})
	if err != nil {
		return nil, unavailable(op, err)
	}
	if res == nil || wire.TxHash(res.Tx) != hash {
		return nil, core.Errorf(op, core.NotFound, "tx %s is not in the index", hash)
	}
	return txResult(hash, res.Height, &res.TxResult), nil
}

func txResult(hash core.H256, height int64, r *abci.ExecTxResult) *wire.TxResult {
	return &wire.TxResult{
		Hash:    hash,
		Height:  height,
		Code:    r.Code,
		Log:     r.Log,
		Events:  convertEvents(r.Events, height, hash),
		GasUsed: r.GasUsed,
	}
}

func convertEvents(evs []abci.Event, height int64, hash core.H256) []wire.Event {
	out := make([]wire.Event, 0, len(evs))
	for _, e := range evs {
		attrs := make(map[string]string, len(e.Attributes))
		for _, a := range e.Attributes {
			attrs[a.Key] = a.Value
		}
		out = append(out, wire.Event{Type: e.Type, Attributes: attrs, Height: height, TxHash: hash})
	}
	return out
}

// broadcastError classifies a failed broadcast. The node answering with
// an RPC error (it took the request but would not admit the tx) differs
// from not reaching it; CometBFT gives no codes for these, so its
// messages are matched, here only.
func broadcastError(op string, hash core.H256, err error) error {
	var rpcErr *rpctypes.RPCError
	if errors.As(err, &rpcErr) {
		msg := rpcErr.Message + " " + rpcErr.Data
		switch {
		case strings.Contains(msg, "already exists in cache"):
			return core.E(op, core.Exists, fmt.Errorf("tx %s was already broadcast: %s", hash, rpcErr.Data))
		case strings.Contains(msg, "too large"):
			return core.E(op, core.Invalid, fmt.Errorf("tx %s: %s", hash, rpcErr.Data))
		}
		return core.E(op, core.Unavailable, fmt.Errorf("broadcast tx %s: %w", hash, err))
	}
	return core.E(op, core.Unavailable, fmt.Errorf("broadcast tx %s: %w", hash, err))
}

// appHeight is the height the application has committed.
func (c *Client) appHeight(ctx context.Context) (int64, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.Height, nil
}

// broadcastSync sends tx to a node (failing over, endpoints.go) and
// returns its CheckTx answer.
func (c *Client) broadcastSync(ctx context.Context, tx []byte) (*ctypes.ResultBroadcastTx, error) {
	var res *ctypes.ResultBroadcastTx
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
		res, err = rpc.BroadcastTxSync(ctx, tx)
		return err
	})
	return res, err
}

// blockAndResults reads block h and, if it has transactions or always is
// set, its results, both from one node.
func (c *Client) blockAndResults(ctx context.Context, h int64, always bool) (*ctypes.ResultBlock, *ctypes.ResultBlockResults, error) {
	var (
		b *ctypes.ResultBlock
		r *ctypes.ResultBlockResults
	)
	err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
		if b, err = rpc.Block(ctx, &h); err != nil {
			return err
		}
		if len(b.Block.Txs) > 0 || always {
			r, err = rpc.BlockResults(ctx, &h)
		}
		return err
	})
	return b, r, err
}
