package chainclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

// rpcMethods counts the JSON-RPC methods a client calls.
type rpcMethods struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *rpcMethods) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Method string `json:"method"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method != "" {
			m.mu.Lock()
			m.counts[req.Method]++
			m.mu.Unlock()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (m *rpcMethods) take() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.counts
	m.counts = map[string]int{}
	return out
}

// A client waiting for its transaction asks the node's index for that
// transaction's hash; it never reads blocks or block results, whose size
// is the other accounts' traffic (here alice's transfers fill the blocks
// while bob waits), and it looks up its hash at most twice a block.
func TestSubmitConfirmsByHash(t *testing.T) {
	n := chaintest.Start(t)
	ctx := timeout(t, 60*time.Second)
	others := chaintest.Client(t, n)
	methods := &rpcMethods{counts: map[string]int{}}
	c := chaintest.Client(t, n, chainclient.WithHTTPClient(&http.Client{Transport: methods}))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := others.Submit(ctx, dev("alice"), wire.Transfer{To: dev("charlie").Account(), Amount: 1}); err != nil {
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	for i := 0; i < 3; i++ {
		start, err := c.Height(ctx)
		if err != nil {
			t.Fatal(err)
		}
		methods.take()
		res, err := c.Submit(ctx, dev("bob"), wire.Transfer{To: dev("dave").Account(), Amount: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := methods.take()
		if got["block"]+got["block_results"] != 0 {
			t.Fatalf("Submit read blocks: %v", got)
		}
		if blocks := res.Height - start + 1; got["tx"] == 0 || int64(got["tx"]) > 2*blocks+2 {
			t.Fatalf("%d tx lookups while waiting %d blocks: %v", got["tx"], blocks, got)
		}
	}
}

// A hash the node never saw is NotFound (an answer), not Unavailable (a
// node that failed).
func TestTxByHashNotFound(t *testing.T) {
	c := chaintest.Client(t, chaintest.Start(t))
	_, err := chainclient.TxByHash(c, timeout(t, 30*time.Second), core.H256{1, 2, 3})
	if !errors.Is(err, core.NotFound) {
		t.Fatalf("unknown tx: %v, want not found", err)
	}
}

// BlockHash names the block (its id's hash) from the header alone.
func TestBlockHashFromHeader(t *testing.T) {
	n := chaintest.Start(t)
	ctx := timeout(t, 30*time.Second)
	methods := &rpcMethods{counts: map[string]int{}}
	c := chaintest.Client(t, n, chainclient.WithHTTPClient(&http.Client{Transport: methods}))
	res, err := c.Submit(ctx, dev("bob"), wire.Transfer{To: dev("dave").Account(), Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	methods.take()
	got, err := c.BlockHash(ctx, res.Height)
	if err != nil {
		t.Fatal(err)
	}
	if m := methods.take(); m["block"] != 0 || m["header"] != 1 {
		t.Fatalf("BlockHash called %v, want one header and no block", m)
	}
	rpc, err := cmthttp.New(n.RPCURL(), "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	b, err := rpc.Block(ctx, &res.Height)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:], b.BlockID.Hash) {
		t.Fatalf("BlockHash %x, the block's id %x", got, b.BlockID.Hash)
	}
}
