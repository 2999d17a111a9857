package chainclient_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

func dev(name string) core.PrivateKey {
	k, _ := core.DevKey(name)
	return k
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// txFee is the fee a committed transaction burned (its cairn.tx event).
func txFee(t *testing.T, res *wire.TxResult) uint64 {
	for _, ev := range res.Events {
		if ev.Type == wire.EventTx {
			f, err := strconv.ParseUint(ev.Attributes["fee"], 10, 64)
			if err == nil {
				return f
			}
		}
	}
	t.Errorf("no fee in the events of %s", res.Hash)
	return 0
}

// TestConcurrentSubmitters: many goroutines, one signer, one client:
// every transaction commits, each with its own nonce.
func TestConcurrentSubmitters(t *testing.T) {
	n := chaintest.Start(t)
	c := chaintest.Client(t, n)
	ctx := timeout(t, 90*time.Second)
	const workers, each = 12, 5
	bob := dev("bob").Account()
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	heights := make(chan int64, workers*each)
	fees := make(chan uint64, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				res, err := c.Submit(ctx, dev("alice"), wire.Transfer{To: bob, Amount: 1})
				if err != nil {
					errs <- err
					return
				}
				heights <- res.Height
				fees <- txFee(t, res)
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(heights)
	close(fees)
	for err := range errs {
		t.Fatal(err)
	}
	blocks := map[int64]int{}
	for h := range heights {
		blocks[h]++
	}
	var paid uint64
	for f := range fees {
		paid += f
	}
	a, err := c.Account(ctx, dev("alice").Account())
	if err != nil || a.Nonce != workers*each || a.Balance != chain.DevBalance-workers*each-paid || paid == 0 {
		t.Fatalf("alice %+v %v (fees paid %d)", a, err, paid)
	}
	t.Logf("%d txs in %d blocks", workers*each, len(blocks))
}

// TestStaleNonceRetried: two clients share a signer, so each one's cached
// nonce goes stale; Submit retries once with a fresh nonce.
func TestStaleNonceRetried(t *testing.T) {
	n := chaintest.Start(t)
	c1, c2 := chaintest.Client(t, n), chaintest.Client(t, n)
	ctx := timeout(t, 60*time.Second)
	bob := dev("bob").Account()
	for i := range 6 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		if _, err := c.Submit(ctx, dev("dave"), wire.Transfer{To: bob, Amount: 1}); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if a, _ := c1.Account(ctx, dev("dave").Account()); a.Nonce != 6 {
		t.Fatalf("dave nonce %d", a.Nonce)
	}
}

func TestSubmitResultAndErrors(t *testing.T) {
	n := chaintest.Start(t)
	c := chaintest.Client(t, n)
	ctx := timeout(t, 60*time.Second)
	if id, err := c.ChainID(ctx); err != nil || id != chain.DevChainID {
		t.Fatalf("chain id %q %v", id, err)
	}
	res, err := c.Submit(ctx, dev("eve"), wire.Transfer{To: dev("bob").Account(), Amount: 3})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := c.Height(ctx)
	if res.Code != 0 || res.Height < 1 || res.Height > h || res.Hash.IsZero() || len(res.Events) < 2 {
		t.Fatalf("result %+v (height now %d)", res, h)
	}
	// Executed but refused: the result and an error of the code's kind.
	res, err = c.Submit(ctx, dev("eve"), wire.CreateBucket{Quorum: 0})
	var te *wire.TxError
	if !errors.Is(err, core.Invalid) || !errors.As(err, &te) || te.Code != wire.CodeInvalid || te.Height == 0 || res == nil || res.Code != wire.CodeInvalid {
		t.Fatalf("quorum 0: %v %+v", err, res)
	}
	if !strings.Contains(te.Log, "quorum") {
		t.Errorf("log %q does not say why", te.Log)
	}
	// Refused by CheckTx: too large for the chain.
	_, err = c.Submit(ctx, dev("eve"), wire.RespondChallenge{Challenge: 1, Data: make([]byte, wire.MaxTxBytes)})
	if !errors.Is(err, core.Invalid) {
		t.Fatalf("oversized tx: %v", err)
	}
	// NotFound from queries.
	if _, err := c.Bucket(ctx, 12345); !errors.Is(err, core.NotFound) {
		t.Fatalf("unknown bucket: %v", err)
	}
	if _, err := c.LatestCheckpoint(ctx, 12345); !errors.Is(err, core.NotFound) {
		t.Fatalf("unknown checkpoint: %v", err)
	}
	// A blob answer near the 1 MiB mark fits (it fails on the chain's
	// checks, not on size).
	_, err = c.Submit(ctx, dev("eve"), wire.RespondChallenge{Challenge: 1, Data: make([]byte, 1<<20)})
	if !errors.Is(err, core.NotFound) {
		t.Fatalf("1 MiB answer: %v, want NotFound (no challenge 1)", err)
	}
	// The same bytes twice: the node's cache refuses the second.
	tx, _ := wire.EncodeTx(dev("ferdie"), chain.DevChainID, 0, wire.Transfer{To: dev("bob").Account(), Amount: 1})
	if _, err := c.SubmitRaw(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitRaw(ctx, tx); !errors.Is(err, core.Exists) && !errors.Is(err, core.Conflict) {
		t.Fatalf("replayed bytes: %v", err)
	}
}

// TestUnavailable: nothing listens; every call says Unavailable, and
// Close leaves no goroutine behind.
func TestUnavailable(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := chainclient.New(addr, chainclient.WithRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := timeout(t, 30*time.Second)
	if _, err := c.Height(ctx); !errors.Is(err, core.Unavailable) {
		t.Errorf("Height: %v", err)
	}
	if _, err := c.Account(ctx, dev("bob").Account()); !errors.Is(err, core.Unavailable) {
		t.Errorf("Account: %v", err)
	}
	if _, err := c.Submit(ctx, dev("bob"), wire.AddStake{Amount: 1}); !errors.Is(err, core.Unavailable) {
		t.Errorf("Submit: %v", err)
	}
	blocks, err := c.SubscribeBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let it try and back off
	c.Close()
	if _, ok := <-blocks; ok {
		t.Error("block channel open after Close")
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x:1", "http://"} {
		if _, err := chainclient.New(u); !errors.Is(err, core.Invalid) {
			t.Errorf("New(%q): %v", u, err)
		}
	}
	for in, want := range map[string]string{
		"127.0.0.1:26657":        "http://127.0.0.1:26657",
		"tcp://127.0.0.1:26657":  "http://127.0.0.1:26657",
		"http://localhost:1/x/y": "http://localhost:1",
	} {
		c, err := chainclient.New(in)
		if err != nil || c.URL() != want {
			t.Errorf("New(%q).URL() = %v %v, want %s", in, c, err, want)
		}
	}
}

// TestSubscriptionsSurviveRestart: block and event streams keep going
// across a node restart on the same RPC address.
func TestSubscriptionsSurviveRestart(t *testing.T) {
	home := t.TempDir()
	n := chaintest.Start(t, chaintest.Options{Home: home})
	addr := strings.TrimPrefix(n.RPCURL(), "http://")
	c := chaintest.Client(t, n)
	ctx := timeout(t, 90*time.Second)
	blocks, err := c.SubscribeBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events, err := c.SubscribeEvents(ctx, wire.EventTransfer)
	if err != nil {
		t.Fatal(err)
	}
	next := func(after int64) int64 {
		t.Helper()
		for {
			select {
			case h, ok := <-blocks:
				if !ok {
					t.Fatal("block stream closed")
				}
				if h <= after {
					t.Fatalf("height %d after %d: went backwards", h, after)
				}
				return h
			case <-ctx.Done():
				t.Fatal("no block")
			}
		}
	}
	transfer := func(amount uint64) {
		t.Helper()
		res, err := c.Submit(ctx, dev("alice"), wire.Transfer{To: dev("bob").Account(), Amount: amount})
		if err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case ev := <-events:
				if ev.Type != wire.EventTransfer {
					t.Fatalf("event of type %s", ev.Type)
				}
				if ev.Attributes["amount"] == itoa(amount) && ev.TxHash == res.Hash && ev.Height == res.Height {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no transfer event for amount %d", amount)
			}
		}
	}
	h := next(0)
	h = next(h)
	transfer(11)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := n.App().Height()
	n2 := chaintest.Start(t, chaintest.Options{Home: home, RPCListen: addr})
	_ = n2
	for h <= stopped {
		h = next(h)
	}
	h = next(h)
	transfer(22)
	t.Logf("stream resumed at height %d after the stop at %d", h, stopped)
}

func itoa(v uint64) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
		if v == 0 {
			return string(b)
		}
	}
}
