package provider_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/wire"
)

func TestConfigValidate(t *testing.T) {
	if err := provider.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(c *provider.Config){
		"zero blob limit":          func(c *provider.Config) { c.MaxBlobSize = 0 },
		"blob past a challenge":    func(c *provider.Config) { c.MaxBlobSize = provider.MaxBlobLimit + 1 },
		"no sync interval":         func(c *provider.Config) { c.SyncInterval = 0 },
		"no challenge poll":        func(c *provider.Config) { c.ChallengePollInterval = 0 },
		"no peer timeout":          func(c *provider.Config) { c.PeerTimeout = 0 },
		"sync page too large":      func(c *provider.Config) { c.SyncPage = 10001 },
		"negative chain cache ttl": func(c *provider.Config) { c.ChainCacheTTL = -1 },
		"no read header timeout":   func(c *provider.Config) { c.ReadHeaderTimeout = 0 },
		"no idle timeout":          func(c *provider.Config) { c.IdleTimeout = 0 },
		"no request timeout":       func(c *provider.Config) { c.RequestTimeout = 0 },
		"no header limit":          func(c *provider.Config) { c.MaxHeaderBytes = 0 },
		"no connection limit":      func(c *provider.Config) { c.MaxConns = 0 },
		"unbounded chain cache":    func(c *provider.Config) { c.ChainCacheSize = 0 },
	} {
		c := provider.DefaultConfig()
		edit(&c)
		if err := c.Validate(); core.KindOf(err) != core.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := provider.New(provider.DefaultConfig(), provider.Deps{}); core.KindOf(err) != core.Invalid {
		t.Errorf("New without collaborators: %v", err)
	}
}

// fakeServer is a provider over a fake chain and a memory store, with bob
// a writer of bucket 1 (quota 1 MiB).
func fakeServer(t testing.TB) (*provider.Server, *fakeChain) {
	fc := newFakeChain()
	charlie, alice, bob := devKey("charlie"), devKey("alice"), devKey("bob")
	fc.addBucket(1, alice.Account(), charlie.Account(), 1<<20, bob.Account())
	cfg := provider.DefaultConfig()
	cfg.ChainCacheTTL = 0
	srv, err := provider.New(cfg, provider.Deps{Key: charlie, Store: store.NewMemory(store.Options{}), Chain: fc})
	if err != nil {
		t.Fatal(err)
	}
	return srv, fc
}

// When the chain cannot be reached, writes are refused as unavailable
// (retry later), health says degraded, and reads of what is held go on.
func TestChainUnavailable(t *testing.T) {
	srv, fc := fakeServer(t)
	defer srv.Close()
	bob := devKey("bob")
	data := []byte("before the outage")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, writeReq(t, "", bob, "fake-chain", 1, 0, data, nil, nil))
	if rec.Code != 201 {
		t.Fatalf("write: %d %s", rec.Code, rec.Body)
	}
	fc.down.Store(true)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, writeReq(t, "", bob, "fake-chain", 1, 1, data, nil, nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"kind":"unavailable"`) {
		t.Fatalf("write with the chain down: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	var h wire.Health
	json.Unmarshal(rec.Body.Bytes(), &h)
	if rec.Code != 200 || h.Status != "degraded" {
		t.Fatalf("health with the chain down: %d %+v", rec.Code, h)
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/commitment?bucket_id=1", nil))
	var sc core.SignedCommitment
	json.Unmarshal(rec.Body.Bytes(), &sc)
	if rec.Code != 200 || sc.LeafCount != 1 || sc.Verify() != nil {
		t.Fatalf("commitment with the chain down: %d %s", rec.Code, rec.Body)
	}
}

// Answer builds the answer the chain checks: the leaf, its whole blob and
// a proof against the challenged root.
func TestAnswerChallenge(t *testing.T) {
	srv, fc := fakeServer(t)
	defer srv.Close()
	bob := devKey("bob")
	var roots []core.H256
	for i := range 4 {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, writeReq(t, "", bob, "fake-chain", 1, uint64(i), blob(i, 3000+i), nil, nil))
		var res wire.WriteResult
		json.Unmarshal(rec.Body.Bytes(), &res)
		roots = append(roots, res.MMRRoot)
	}
	ctx := context.Background()
	ch := chainwire.Challenge{ID: 7, Bucket: 1, Provider: devKey("charlie").Account(), MMRRoot: roots[2], LeafCount: 3, LeafIndex: 1, State: chainwire.ChallengeOpen}
	if err := srv.Answer(ctx, ch); err != nil {
		t.Fatal(err)
	}
	ans := fc.calls[0].(chainwire.RespondChallenge)
	p := wire.Proof{Bucket: 1, Leaf: ans.Leaf, LeafIndex: 1, LeafCount: 3, Proof: ans.Proof}
	if err := p.Verify(roots[2]); err != nil || ans.Challenge != 7 || core.Sum256(ans.Data) != ans.Leaf.ContentHash || uint64(len(ans.Data)) != ans.Leaf.Size || ans.Leaf.Seq != 1 {
		t.Fatalf("answer %+v: %v", ans.Leaf, err)
	}
	// The answer carries the writer's signature stored with the leaf.
	if err := ans.Leaf.Verify("fake-chain", 1); err != nil || ans.Leaf.Writer != bob.Account() {
		t.Fatalf("answer's leaf is not signed by its writer bob: %+v %v", ans.Leaf, err)
	}
	// A root this provider never had, or a log it does not hold yet, gets no answer.
	bad := ch
	bad.MMRRoot = roots[1]
	if err := srv.Answer(ctx, bad); !errors.Is(err, core.Conflict) {
		t.Fatalf("answer to a foreign root: %v", err)
	}
	bad = ch
	bad.LeafCount = 9
	if err := srv.Answer(ctx, bad); !errors.Is(err, core.Unavailable) {
		t.Fatalf("answer past our log: %v", err)
	}
	if len(fc.calls) != 1 {
		t.Fatalf("%d calls submitted", len(fc.calls))
	}
}

// Serve bounds what a client can hold: headers past MaxHeaderBytes are
// refused, a connection that never finishes its headers is closed after
// ReadHeaderTimeout, and past MaxConns connections wait until one closes.
func TestServerBounds(t *testing.T) {
	cfg := provider.DefaultConfig()
	cfg.MaxHeaderBytes = 4 << 10
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	cfg.MaxConns = 2
	p := startServer(t, cfg, provider.Deps{Key: devKey("charlie"), Store: store.NewMemory(store.Options{}), Chain: newFakeChain()}, false)
	addr := strings.TrimPrefix(p.url, "http://")

	req, _ := http.NewRequest("GET", p.url+"/health", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB of headers: %d", resp.StatusCode)
	}

	// A slow sender of headers is cut off.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /health HTTP/1.1\r\nHost: x\r\n")
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(slow); err != nil {
		t.Fatalf("connection with unfinished headers: %v, want it closed by the server", err)
	}

	// Two idle connections hold both slots: a third is not served until
	// one of them closes.
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n") // answered, then kept alive
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	third := make(chan error, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(p.url + "/health")
		if err == nil {
			resp.Body.Close()
		}
		third <- err
	}()
	select {
	case err := <-third:
		t.Fatalf("a third connection was served while two were held: %v", err)
	case <-time.After(300 * time.Millisecond): // a bounded check that nothing happens
	}
	held[0].Close()
	if err := <-third; err != nil {
		t.Fatalf("third connection after one closed: %v", err)
	}
	held[1].Close()
}

// Close stops every goroutine Start and Serve began.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _ := fakeServer(t)
	st := startServer(t, provider.DefaultConfig(), provider.Deps{Key: devKey("dave"), Store: store.NewMemory(store.Options{}), Chain: newFakeChain()}, true)
	srv.Start()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.srv.Close(); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// FuzzServer throws arbitrary requests at a provider: it must never answer
// 5xx (its chain and store are healthy) and every error answer is JSON with
// a kind. Seeds: one valid request per route.
func FuzzServer(f *testing.F) {
	srv, _ := fakeServer(f)
	f.Cleanup(func() { srv.Close() })
	headerText := func(h http.Header) string {
		var b strings.Builder
		for k, vs := range h {
			for _, v := range vs {
				b.WriteString(k + ": " + v + "\n")
			}
		}
		return b.String()
	}
	bob, alice := devKey("bob"), devKey("alice")
	w := writeReq(f, "", bob, "fake-chain", 1, 0, []byte("seed"), func(a *wire.WriteAuth) { a.Expiry = time.Now().Add(9 * time.Minute).Unix() }, nil)
	f.Add("PUT", "/buckets/1/writes/0", "", headerText(w.Header), []byte("seed"))
	h := core.Sum256([]byte("seed"))
	signed := func(path, rawQuery string) string {
		n, _ := wire.NewNonce(nil)
		v, _ := url.ParseQuery(rawQuery)
		sr, _ := wire.NewSignedRead(wire.ReadAuth{ChainID: "fake-chain", Bucket: 1, Resource: wire.ReadResource(path, v), Nonce: n, Expiry: time.Now().Add(9 * time.Minute).Unix()}, alice)
		rh := http.Header{}
		sr.SetHeaders(rh)
		return headerText(rh)
	}
	f.Add("GET", "/buckets/1/blobs/"+h.String(), "", signed("/buckets/1/blobs/"+h.String(), ""), []byte(nil))
	for _, q := range [][2]string{
		{"/commitment", "bucket_id=1"}, {"/proof", "bucket_id=1&leaf=0&leaf_count=1"}, {"/proof/consistency", "bucket_id=1&old=0"},
		{"/leaves", "bucket_id=1&from=0&limit=3"}, {"/health", ""}, {"/leaves", "bucket_id=2"},
	} {
		f.Add("GET", q[0], q[1], "", []byte(nil))
		f.Add("GET", q[0], q[1], signed(q[0], q[1]), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery, headers string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://provider"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = rawQuery
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && k != "" {
				req.Header.Add(k, v)
			}
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, rawQuery, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var eb wire.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || core.ParseKind(eb.Kind) == core.Other {
				t.Fatalf("%s %s: %d with a body that is no JSON error: %q", method, path, rec.Code, rec.Body)
			}
		}
	})
}

// A writer catching a lagging provider up forwards another writer's
// signed leaf: the request is alice's, the leaf stays bob's. A leaf
// signed by someone who never wrote to the bucket is refused even when a
// writer forwards it.
func TestWriteForwardsAnotherWritersLeaf(t *testing.T) {
	srv, _ := fakeServer(t)
	defer srv.Close()
	alice, bob, eve := devKey("alice"), devKey("bob"), devKey("eve")
	data := []byte("bob's chunk")
	send := func(leafKey core.PrivateKey) *httptest.ResponseRecorder {
		sl, err := core.SignLeaf(leafKey, "fake-chain", 1, core.Leaf{Seq: 0, ContentHash: core.Sum256(data), Size: uint64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		r := writeReq(t, "", alice, "fake-chain", 1, 0, data, nil, func(r *http.Request) {
			r.Header.Set(wire.HeaderLeafWriter, sl.Writer.String())
			r.Header.Set(wire.HeaderLeafSignature, sl.Signature.String())
		})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		return rec
	}
	if rec := send(eve); rec.Code != 403 {
		t.Fatalf("a non-writer's leaf forwarded by a writer: %d %s", rec.Code, rec.Body)
	}
	if rec := send(bob); rec.Code != 201 {
		t.Fatalf("bob's leaf forwarded by alice: %d %s", rec.Code, rec.Body)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, signedGet(t, "", alice, "fake-chain", 1, wire.PathLeaves, "bucket_id=1", nil))
	var ls wire.Leaves
	if err := json.Unmarshal(rec.Body.Bytes(), &ls); err != nil || len(ls.Leaves) != 1 {
		t.Fatalf("leaves: %d %s", rec.Code, rec.Body)
	}
	if l := ls.Leaves[0]; l.Writer != bob.Account() || l.Verify("fake-chain", 1) != nil {
		t.Fatalf("stored leaf %+v is not bob's signed leaf", l)
	}
}

// Close does not wait on a connection that never sent a request (which
// would hold http.Server.Shutdown for its whole 5 s grace): it closes it.
func TestCloseDropsSilentConnections(t *testing.T) {
	cfg := provider.DefaultConfig()
	cfg.ReadHeaderTimeout = time.Minute
	p := startServer(t, cfg, provider.Deps{Key: devKey("charlie"), Store: store.NewMemory(store.Options{}), Chain: newFakeChain()}, false)
	silent, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A request answered on a later connection means the server has
	// accepted the silent one (it accepts in order).
	if err := p.client.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v with a silent connection open", d)
	}
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(silent); err != nil {
		t.Errorf("silent connection after Close: %v, want it closed by the server", err)
	}
}
