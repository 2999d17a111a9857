package drive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
)

// chainCalls records a chain client's JSON-RPC calls: the method, and for
// an ABCI query its path.
type chainCalls struct {
	mu    sync.Mutex
	calls []string
}

func (c *chainCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Method string `json:"method"`
			Params struct {
				Path string `json:"path"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method != "" {
			c.mu.Lock()
			c.calls = append(c.calls, strings.TrimSpace(req.Method+" "+req.Params.Path))
			c.mu.Unlock()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (c *chainCalls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// A client's put and checkpoint ask the chain only about its own account,
// its own drive and bucket, and providers, and read no block: nothing
// in the answers grows with the other accounts' drives or traffic. Bob's
// put + checkpoint is traced once with alice owning one drive and again
// after alice created and checkpointed ten more; the queries it made
// (polls of the height and of its own transaction aside) are the same.
func TestClientChainWorkIsItsOwn(t *testing.T) {
	n := startNet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := newClient(t, n, clientOpts{})
	calls := &chainCalls{}
	cc, err := chainclient.New(n.Manifest().ChainRPC, chainclient.WithHTTPClient(&http.Client{Transport: calls}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	bob, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{Signer: "bob", Chain: cc})
	bobKey, _ := core.DevKey("bob")
	manual := wire.CommitStrategy{Kind: wire.StrategyManual}
	mine, err := bob.CreateDrive(ctx, drive.CreateDriveOptions{Name: "mine", Strategy: manual})
	if err != nil {
		t.Fatal(err)
	}
	aliceDrives := func(from, to int) {
		for i := from; i < to; i++ {
			name := fmt.Sprintf("a%d", i)
			if _, err := alice.CreateDrive(ctx, drive.CreateDriveOptions{Name: name, Strategy: manual}); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.UploadFile(ctx, name, "/f", strings.NewReader(name), drive.UploadOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.CommitChanges(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	bobPut := func(round int) map[string]int {
		calls.take()
		if _, err := bob.UploadFile(ctx, "mine", fmt.Sprintf("/f%d", round), strings.NewReader("hello"), drive.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.CommitChanges(ctx, "mine"); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, c := range calls.take() {
			checkOwnCall(t, c, bobKey.Account(), mine.Drive)
			if c != "abci_query "+wire.PathStatus() && c != "tx" {
				got[c]++
			}
		}
		return got
	}
	aliceDrives(0, 1)
	bobPut(0) // fills the pool's caches, as a long-running client has them
	few := bobPut(1)
	aliceDrives(1, 11)
	many := bobPut(2)
	if fmt.Sprint(few) != fmt.Sprint(many) {
		t.Fatalf("bob's chain queries changed with alice's drives:\n 1 drive:  %v\n11 drives: %v", few, many)
	}
}

// checkOwnCall fails the test for a chain call that is not about the
// client's own account, drive or bucket, a provider, or the chain's
// height, or that reads a block.
func checkOwnCall(t *testing.T, call string, me core.AccountID, d wire.Drive) {
	t.Helper()
	method, path, _ := strings.Cut(call, " ")
	switch method {
	case "broadcast_tx_sync", "tx", "header", "status":
		return
	case "abci_query":
	default:
		t.Fatalf("chain call %q: not a query of one's own", call)
	}
	q, err := wire.ParseQueryPath(path)
	if err != nil {
		t.Fatalf("chain call %q: %v", call, err)
	}
	ok := false
	switch q.Route {
	case wire.RouteStatus, wire.RouteParams, wire.RouteProvider:
		ok = true
	case wire.RouteAccount, wire.RouteNonce, wire.RouteDrives:
		ok = q.Account == me
	case wire.RouteDrive:
		ok = q.Drive == d.ID
	case wire.RouteBucket, wire.RouteAgreements, wire.RouteCheckpoint, wire.RouteCheckpoints, wire.RouteEquivocations:
		ok = q.Bucket == d.Bucket
	}
	if !ok {
		t.Fatalf("chain query %q is not about bob's account, drive %s or bucket %s", path, d.ID, d.Bucket)
	}
}

// Resolving a drive by name lists the signer's drives once; later
// resolutions read the one drive, and a name whose drive was deleted is
// listed again and not found (never the deleted drive).
func TestResolveDriveByNameListsOnce(t *testing.T) {
	n := startNet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := &chainCalls{}
	cc, err := chainclient.New(n.Manifest().ChainRPC, chainclient.WithHTTPClient(&http.Client{Transport: calls}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{Chain: cc})
	made := map[string]core.DriveID{}
	for _, name := range []string{"x", "y", "z"} {
		d, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		made[name] = d.ID
	}
	listings := func() int {
		k := 0
		for _, call := range calls.take() {
			if strings.HasPrefix(call, "abci_query /drives?") {
				k++
			}
		}
		return k
	}
	calls.take()
	for i := 0; i < 5; i++ {
		for _, name := range []string{"x", "y", "z"} {
			d, err := c.ResolveDrive(ctx, name)
			if err != nil || d.ID != made[name] {
				t.Fatalf("resolve %q: %v %v, want drive %s", name, d.ID, err, made[name])
			}
		}
	}
	if k := listings(); k > 1 {
		t.Fatalf("15 resolutions of 3 names listed the drives %d times, want at most once", k)
	}
	if err := c.DeleteDrive(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	calls.take()
	if d, err := c.ResolveDrive(ctx, "y"); !errors.Is(err, core.NotFound) {
		t.Fatalf("deleted drive resolved: %+v %v", d, err)
	}
	if k := listings(); k != 1 {
		t.Fatalf("a name whose drive went away listed %d times, want once", k)
	}
}
