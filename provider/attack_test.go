package provider_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/wire"
)

// signedGet builds GET path?rawQuery signed by k as a read of bucket b
// (edit, if set, changes what is signed).
func signedGet(t *testing.T, base string, k core.PrivateKey, chainID string, b core.BucketID, path, rawQuery string, edit func(a *wire.ReadAuth)) *http.Request {
	t.Helper()
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := wire.NewNonce(nil)
	a := wire.ReadAuth{ChainID: chainID, Bucket: b, Resource: wire.ReadResource(path, v), Nonce: n, Expiry: time.Now().Add(time.Minute).Unix()}
	if edit != nil {
		edit(&a)
	}
	r, err := http.NewRequest(http.MethodGet, base+path+"?"+rawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !k.IsZero() {
		sr, err := wire.NewSignedRead(a, k)
		if err != nil {
			t.Fatal(err)
		}
		sr.SetHeaders(r.Header)
	}
	return r
}

// TestAttackPrivateMetadata (attack 4): a private bucket's leaves and
// proofs list its content hashes and sizes, so unsigned reads, reads by
// non-members and reads signed for something else are refused with kind
// unauthorized; a member's signed read works, and cannot be replayed.
func TestAttackPrivateMetadata(t *testing.T) {
	e := newEnv(t)
	alice, bob, eve, ferdie := devKey("alice"), devKey("bob"), devKey("eve"), devKey("ferdie")
	p := e.startProvider("charlie")
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer}, chainwire.Member{Account: ferdie.Account(), Role: chainwire.Reader})
	e.agree(alice, b, p, chainwire.Primary, 1<<20)
	chainID, _ := e.chain.ChainID(e.ctx)
	for i := range 3 {
		if _, err := put(e.ctx, p.client, b, uint64(i), blob(i, 100), bob); err != nil {
			t.Fatal(err)
		}
	}
	routes := []struct{ path, query string }{
		{wire.PathLeaves, fmt.Sprintf("bucket_id=%d&from=0&limit=3", b)},
		{wire.PathProof, fmt.Sprintf("bucket_id=%d&leaf=1&leaf_count=3", b)},
		{wire.PathConsistency, fmt.Sprintf("bucket_id=%d&old=1&new=3", b)},
		{wire.PathUsage, fmt.Sprintf("bucket_id=%d", b)},
	}
	for _, rt := range routes {
		t.Run(rt.path, func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				key    core.PrivateKey
				edit   func(a *wire.ReadAuth)
				status int
			}{
				{"unsigned", core.PrivateKey{}, nil, 401},
				{"non-member", eve, nil, 403},
				{"signed for another chain", ferdie, func(a *wire.ReadAuth) { a.ChainID = "other" }, 401},
				{"signed for another bucket", ferdie, func(a *wire.ReadAuth) { a.Bucket++ }, 401},
				{"signed for another resource", ferdie, func(a *wire.ReadAuth) { a.Resource = wire.PathLeaves + "?bucket_id=" + b.String() }, 401},
				{"expired", ferdie, func(a *wire.ReadAuth) { a.Expiry = time.Now().Add(-time.Second).Unix() }, 401},
			} {
				status, eb := do(t, signedGet(t, p.url, tt.key, chainID, b, rt.path, rt.query, tt.edit))
				if status != tt.status || eb.Kind != core.Unauthorized.String() {
					t.Errorf("%s: %d %+v, want %d unauthorized", tt.name, status, eb, tt.status)
				}
			}
			// A member (any role) and a provider of the bucket may read.
			for _, k := range []core.PrivateKey{ferdie, alice, bob} {
				r := signedGet(t, p.url, k, chainID, b, rt.path, rt.query, nil)
				replay := r.Clone(e.ctx)
				if status, eb := do(t, r); status != 200 {
					t.Fatalf("signed read by %s: %d %+v", k.Account().Short(), status, eb)
				}
				if status, eb := do(t, replay); status != 401 || eb.Kind != "unauthorized" {
					t.Fatalf("replayed read: %d %+v", status, eb)
				}
			}
		})
	}
	// Through the client: unsigned is refused, signed by a member works.
	if _, err := p.client.Leaves(e.ctx, b, 0, 3); !errors.Is(err, core.Unauthorized) {
		t.Fatalf("unsigned client: %v", err)
	}
	if _, _, err := p.clientAs(t, eve).Proof(e.ctx, b, 0, 3); !errors.Is(err, core.Unauthorized) {
		t.Fatalf("non-member client: %v", err)
	}
	if ls, err := p.clientAs(t, ferdie).Leaves(e.ctx, b, 0, 3); err != nil || len(ls) != 3 {
		t.Fatalf("member client: %v %v", ls, err)
	}
	// The commitment stays public.
	if _, err := p.client.Commitment(e.ctx, b); err != nil {
		t.Fatalf("public commitment: %v", err)
	}
	// So does /health, which therefore names no bucket: only the node's
	// own status and counts (a bucket's usage is the signed /usage).
	var health map[string]any
	if err := json.Unmarshal([]byte(get(t, p.url+wire.PathHealth)), &health); err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{"status": true, "version": true, "account": true, "chain_id": true, "chain_height": true, "buckets": true, "bytes": true, "lagging": true}
	for k, v := range health {
		if _, isList := v.([]any); !public[k] || isList {
			t.Errorf("/health has %q: %v", k, v)
		}
	}
	if health["buckets"] != 1.0 {
		t.Errorf("/health counts %v buckets, want 1", health["buckets"])
	}
}

// A signed read captured and replayed after the provider restarts on the
// same data is refused: read nonces are kept by the store, not in memory.
func TestReadNonceSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	fc := newFakeChain()
	charlie, alice, bob := devKey("charlie"), devKey("alice"), devKey("bob")
	fc.addBucket(1, alice.Account(), charlie.Account(), 1<<20, bob.Account())
	open := func() (*provider.Server, store.Store) {
		st, err := store.OpenPebble(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := provider.New(provider.DefaultConfig(), provider.Deps{Key: charlie, Store: st, Chain: fc})
		if err != nil {
			t.Fatal(err)
		}
		return srv, st
	}
	serve := func(srv *provider.Server, r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		return rec
	}
	srv, st := open()
	data := []byte("private")
	if rec := serve(srv, writeReq(t, "", bob, "fake-chain", 1, 0, data, nil, nil)); rec.Code != 201 {
		t.Fatalf("write: %d %s", rec.Code, rec.Body)
	}
	reads := []*http.Request{
		signedGet(t, "", alice, "fake-chain", 1, wire.PathLeaves, "bucket_id=1", nil),
		signedGet(t, "", alice, "fake-chain", 1, wire.BlobPath(1, core.Sum256(data)), "", nil),
	}
	var captured []*http.Request
	for _, r := range reads {
		captured = append(captured, r.Clone(r.Context()))
		if rec := serve(srv, r); rec.Code != 200 {
			t.Fatalf("read %s: %d %s", r.URL, rec.Code, rec.Body)
		}
	}
	srv.Close()
	st.Close()

	srv, st = open()
	defer st.Close()
	defer srv.Close()
	for _, r := range captured {
		if rec := serve(srv, r); rec.Code != 401 {
			t.Fatalf("replay of %s after a restart: %d %s", r.URL, rec.Code, rec.Body)
		}
	}
	if rec := serve(srv, signedGet(t, "", alice, "fake-chain", 1, wire.PathLeaves, "bucket_id=1", nil)); rec.Code != 200 {
		t.Fatalf("fresh read after a restart: %d %s", rec.Code, rec.Body)
	}
}
