package provider_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/store/storetest"
	"github.com/cairn-storage/cairn/provider/wire"
)

// blob is deterministic test data.
var blob = storetest.Blob

// writeReq builds a signed write request; edit may change the signed
// fields (before signing) and the request (after).
func writeReq(t testing.TB, url string, k core.PrivateKey, chainID string, b core.BucketID, seq uint64, data []byte,
	edit func(a *wire.WriteAuth), after func(r *http.Request)) *http.Request {
	t.Helper()
	n, _ := wire.NewNonce(nil)
	a := wire.WriteAuth{ChainID: chainID, Bucket: b, Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data)), Nonce: n, Expiry: time.Now().Add(time.Minute).Unix()}
	if edit != nil {
		edit(&a)
	}
	lf := core.Leaf{Seq: a.Seq, ContentHash: a.ContentHash, Size: a.Size}
	leaf, err := core.SignLeaf(k, a.ChainID, a.Bucket, lf)
	if err != nil {
		leaf = core.SignedLeaf{Leaf: lf, Writer: k.Account()} // a request the edit made unsignable
	}
	sw, err := wire.NewSignedWrite(a, leaf, k)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodPut, url+wire.WritePath(b, seq), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sw.SetHeaders(r.Header)
	if after != nil {
		after(r)
	}
	return r
}

// do sends r and returns the status and decoded JSON error body (if any).
func do(t *testing.T, r *http.Request) (int, wire.ErrorBody) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var eb wire.ErrorBody
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: error answer %d with Content-Type %q: %s", r.Method, r.URL, resp.StatusCode, ct, body)
		}
		if err := json.Unmarshal(body, &eb); err != nil || eb.Kind == "" || eb.Message == "" {
			t.Fatalf("%s %s: error answer %d is not a JSON error: %s", r.Method, r.URL, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, eb
}

// TestWritesAndReads runs one provider against a real chain: round trips of
// every route, then every refusal.
func TestWritesAndReads(t *testing.T) {
	e := newEnv(t)
	alice, bob, eve, ferdie := devKey("alice"), devKey("bob"), devKey("eve"), devKey("ferdie")
	p := e.startProvider("charlie")
	replica := e.startProvider("dave", providerOpts{noStart: true})
	const quota = 100_000
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer}, chainwire.Member{Account: ferdie.Account(), Role: chainwire.Reader})
	e.agree(alice, b, p, chainwire.Primary, quota)
	e.agree(alice, b, replica, chainwire.Replica, quota)
	unserved := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	chainID, _ := e.chain.ChainID(e.ctx)
	ctx := e.ctx
	onChain, err := e.chain.Provider(ctx, p.key.Account())
	if err != nil {
		t.Fatal(err)
	}

	// An agreed bucket with no writes yet: the signed empty log.
	sc, err := p.client.Commitment(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.VerifyBy(onChain.PublicKey); err != nil || sc.LeafCount != 0 || sc.MMRRoot != core.H256(mmr.BagPeaks(0, nil)) || sc.ChainID != chainID {
		t.Fatalf("empty commitment %+v: %v", sc, err)
	}

	// Writes, each acknowledged with the new root.
	var leaves []core.Leaf
	var results []wire.WriteResult
	ref, _ := mmr.New(mmr.NewMemStore())
	for i, n := range []int{1000, 0, 1 << 20, 5, 3000} {
		data := blob(i, n)
		res, err := put(ctx, p.client, b, uint64(i), data, bob)
		if i == 2 {
			// 1 MiB fits the blob limit but not the quota of 100 000 bytes.
			var re *wire.RemoteError
			if core.KindOf(err) != core.Invalid || !errors.As(err, &re) || re.Status != http.StatusInsufficientStorage {
				t.Fatalf("write over quota: %v", err)
			}
			data = blob(i, 2000)
			res, err = put(ctx, p.client, b, uint64(i), data, bob)
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		lf := core.Leaf{Seq: uint64(i), ContentHash: core.Sum256(data), Size: uint64(len(data))}
		ref.Append(lf.Bytes())
		root, _ := ref.Root()
		if res.Leaf != lf || res.LeafIndex != uint64(i) || res.LeafCount != uint64(i+1) || res.MMRRoot != core.H256(root) {
			t.Fatalf("write %d answered %+v", i, res)
		}
		leaves = append(leaves, lf)
		results = append(results, res)
	}

	// The commitment verifies with the key registered on chain.
	sc, err = p.client.Commitment(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.VerifyBy(onChain.PublicKey); err != nil || sc.LeafCount != 5 || sc.MMRRoot != results[4].MMRRoot || sc.Provider != p.key.Account() {
		t.Fatalf("commitment %+v: %v", sc, err)
	}
	// Every leaf proves under it; the log at 2 leaves extends to it. These
	// reads are private: signed by a member.
	ac := p.clientAs(t, alice)
	for i := range leaves {
		pr, err := ac.ProofAt(ctx, b, uint64(i), 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Verify(sc.MMRRoot); err != nil || pr.Leaf.Leaf != leaves[i] {
			t.Fatalf("proof of %d: %v", i, err)
		}
		if err := pr.Leaf.Verify(chainID, b); err != nil || pr.Leaf.Writer != bob.Account() {
			t.Fatalf("proof of %d carries no writer signature by bob: %+v %v", i, pr.Leaf, err)
		}
	}
	if pr, err := ac.ProofAt(ctx, b, 1, 0); err != nil || pr.LeafCount != 5 {
		t.Fatalf("proof at the current count: %+v %v", pr, err)
	}
	cons, err := ac.Consistency(ctx, b, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Verify(results[1].MMRRoot, sc.MMRRoot); err != nil {
		t.Fatal(err)
	}
	got, err := ac.Leaves(ctx, b, 1, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("leaves 1..4: %v %v", got, err)
	}
	for i, sl := range got {
		if sl.Leaf != leaves[1+i] || sl.Writer != bob.Account() || sl.Verify(chainID, b) != nil {
			t.Fatalf("leaf %d: %+v, want %+v signed by bob", 1+i, sl, leaves[1+i])
		}
	}
	if got, err := ac.Leaves(ctx, b, 9, 0); err != nil || len(got) != 0 {
		t.Fatalf("leaves past the end: %v %v", got, err)
	}

	// Blobs: to a member (reader role) and to another provider of the bucket.
	for _, reader := range []core.PrivateKey{ferdie, alice, replica.key} {
		rc, err := p.clientAs(t, reader).Blob(ctx, b, leaves[0].ContentHash)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(data, blob(0, 1000)) {
			t.Fatalf("blob read by %s: %d bytes, %v", reader.Account().Short(), len(data), err)
		}
	}
	if n, err := p.clientAs(t, ferdie).BlobSize(ctx, b, leaves[4].ContentHash); err != nil || n != int64(leaves[4].Size) {
		t.Fatalf("blob size %d %v", n, err)
	}

	// A retry, signed afresh, gets the first answer and changes nothing.
	res, err := put(ctx, p.client, b, 3, blob(3, 5), bob)
	if err != nil || res != results[3] {
		t.Fatalf("retry: %+v %v", res, err)
	}

	// Health and metrics.
	h, err := p.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Account != p.key.Account() || h.ChainID != chainID || h.ChainHeight < 1 || h.Buckets != 1 || h.Bytes == 0 || h.Lagging != 0 {
		t.Fatalf("health %+v", h)
	}
	if u, err := ac.Usage(ctx, b); err != nil || u.LeafCount != 5 || u.Bytes != h.Bytes || u.Role != "primary" {
		t.Fatalf("usage %+v %v, health %+v", u, err, h)
	}
	metrics := get(t, p.url+"/metrics")
	for _, want := range []string{`cairn_provider_http_requests_total{code="201",route="write"} 5`, `cairn_provider_bucket_leaves{bucket="` + b.String() + `"} 5`, `cairn_provider_http_request_duration_seconds_count{route="proof"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The provider may have cached "no such bucket" for the unserved
	// bucket just before it was created (for up to the cache's TTL).
	poll.True(t, 5*time.Second, "the provider to see the unserved bucket", func() bool {
		status, _ := do(t, writeReq(t, p.url, bob, chainID, unserved, 0, []byte("x"), nil, nil))
		return status == 403
	})
	t.Run("WriteRefusals", func(t *testing.T) {
		data := []byte("refused")
		next := uint64(5)
		for _, tt := range []struct {
			name   string
			key    core.PrivateKey
			bucket core.BucketID
			seq    uint64
			data   []byte
			edit   func(a *wire.WriteAuth)
			after  func(r *http.Request)
			status int
			kind   core.Kind
		}{
			{name: "non-member", key: eve, status: 403, kind: core.Unauthorized},
			{name: "reader", key: ferdie, status: 403, kind: core.Unauthorized},
			{name: "forged signature", key: eve, after: func(r *http.Request) { r.Header.Set(wire.HeaderWriter, bob.Account().String()) }, status: 401, kind: core.Unauthorized},
			{name: "signed for another chain", edit: func(a *wire.WriteAuth) { a.ChainID = "other-chain" }, status: 401, kind: core.Unauthorized},
			{name: "signed for another seq", after: func(r *http.Request) { r.URL.Path = wire.WritePath(b, next+1) }, status: 401, kind: core.Unauthorized},
			{name: "unsigned", after: func(r *http.Request) { r.Header.Del(wire.HeaderSignature) }, status: 401, kind: core.Unauthorized},
			{name: "expired", edit: func(a *wire.WriteAuth) { a.Expiry = time.Now().Add(-time.Second).Unix() }, status: 401, kind: core.Unauthorized},
			{name: "expiry too far ahead", edit: func(a *wire.WriteAuth) { a.Expiry = time.Now().Add(time.Hour).Unix() }, status: 401, kind: core.Unauthorized},
			{name: "unknown bucket", bucket: 999_999, status: 404, kind: core.NotFound},
			{name: "no agreement", bucket: unserved, status: 403, kind: core.Unauthorized},
			{name: "over quota", data: blob(9, quota), status: 507, kind: core.Invalid},
			{name: "oversized body", data: blob(9, 1<<20+1), status: 413, kind: core.Invalid},
			{name: "content hash mismatch", edit: func(a *wire.WriteAuth) { a.ContentHash = core.Sum256([]byte("other")) }, status: 422, kind: core.Corrupt},
			{name: "size disagrees with body", edit: func(a *wire.WriteAuth) { a.Size = 3 }, status: 400, kind: core.Invalid},
			{name: "no content length", after: func(r *http.Request) { r.ContentLength = -1; r.Body = io.NopCloser(bytes.NewReader(data)) }, status: 411, kind: core.Invalid},
			{name: "seq taken by another write", seq: 1, status: 409, kind: core.Conflict},
			{name: "seq past the log", seq: 50, status: 409, kind: core.Conflict},
			{name: "bad seq", after: func(r *http.Request) { r.URL.Path = "/buckets/" + b.String() + "/writes/x" }, status: 400, kind: core.Invalid},
			{name: "no leaf signature", after: func(r *http.Request) { r.Header.Del(wire.HeaderLeafSignature) }, status: 401, kind: core.Unauthorized},
			{name: "leaf signature forged", after: func(r *http.Request) { r.Header.Set(wire.HeaderLeafWriter, alice.Account().String()) }, status: 401, kind: core.Unauthorized},
			{name: "leaf signed for another bucket", after: func(r *http.Request) {
				sl, _ := core.SignLeaf(bob, chainID, unserved, core.Leaf{Seq: next, ContentHash: core.Sum256(data), Size: uint64(len(data))})
				r.Header.Set(wire.HeaderLeafSignature, sl.Signature.String())
			}, status: 401, kind: core.Unauthorized},
			{name: "leaf signed by a non-writer", after: func(r *http.Request) {
				sl, _ := core.SignLeaf(ferdie, chainID, b, core.Leaf{Seq: next, ContentHash: core.Sum256(data), Size: uint64(len(data))})
				r.Header.Set(wire.HeaderLeafWriter, sl.Writer.String())
				r.Header.Set(wire.HeaderLeafSignature, sl.Signature.String())
			}, status: 403, kind: core.Unauthorized},
		} {
			t.Run(tt.name, func(t *testing.T) {
				key, bucket, seq, d := bob, b, next, data
				if !tt.key.IsZero() {
					key = tt.key
				}
				if tt.bucket != 0 {
					bucket = tt.bucket
				}
				if tt.seq != 0 {
					seq = tt.seq
				}
				if tt.data != nil {
					d = tt.data
				}
				status, eb := do(t, writeReq(t, p.url, key, chainID, bucket, seq, d, tt.edit, tt.after))
				if status != tt.status || eb.Kind != tt.kind.String() {
					t.Fatalf("status %d kind %q (%s), want %d %s", status, eb.Kind, eb.Message, tt.status, tt.kind)
				}
				if tt.seq == 50 && (eb.LeafCount == nil || *eb.LeafCount != next) {
					t.Fatalf("behind answer without the leaf count: %+v", eb)
				}
			})
		}
		// A replica takes no writes: they go to primaries.
		status, eb := do(t, writeReq(t, replica.url, bob, chainID, b, 0, data, nil, nil))
		if status != 403 || eb.Kind != "unauthorized" {
			t.Fatalf("write to a replica: %d %+v", status, eb)
		}
		// A replayed request is refused, though its write landed.
		r1 := writeReq(t, p.url, bob, chainID, b, next, data, nil, nil)
		r2 := r1.Clone(ctx)
		r2.Body = io.NopCloser(bytes.NewReader(data))
		if status, eb := do(t, r1); status != 201 {
			t.Fatalf("first write %d %+v", status, eb)
		}
		if status, eb := do(t, r2); status != 401 || !strings.Contains(eb.Message, "nonce") {
			t.Fatalf("replay: %d %+v", status, eb)
		}
		// Through the client, the kinds come back unchanged.
		_, err := put(ctx, p.client, b, 100, data, bob)
		var behind *core.BehindError
		if core.KindOf(err) != core.Conflict || !errors.As(err, &behind) || behind.LeafCount != next+1 {
			t.Fatalf("client write past the log: %v", err)
		}
		_, err = put(ctx, p.client, b, next+1, data, eve)
		if !errors.Is(err, core.Unauthorized) {
			t.Fatalf("client write by a non-member: %v", err)
		}
		if st, _ := p.st.State(b); st.LeafCount != next+1 {
			t.Fatalf("refusals changed the log: %d leaves", st.LeafCount)
		}
	})

	t.Run("ReadRefusals", func(t *testing.T) {
		h := leaves[0].ContentHash
		readReq := func(k core.PrivateKey, bucket core.BucketID, hash core.H256) *http.Request {
			n, _ := wire.NewNonce(nil)
			sr, _ := wire.NewSignedRead(wire.ReadAuth{ChainID: chainID, Bucket: bucket, Resource: wire.BlobPath(bucket, hash), Nonce: n, Expiry: time.Now().Add(time.Minute).Unix()}, k)
			r, _ := http.NewRequest(http.MethodGet, p.url+wire.BlobPath(bucket, hash), nil)
			sr.SetHeaders(r.Header)
			return r
		}
		unsigned, _ := http.NewRequest(http.MethodGet, p.url+wire.BlobPath(b, h), nil)
		if status, eb := do(t, unsigned); status != 401 || eb.Kind != "unauthorized" {
			t.Fatalf("unsigned read: %d %+v", status, eb)
		}
		if status, _ := do(t, readReq(eve, b, h)); status != 403 {
			t.Fatalf("read by a non-member: %d", status)
		}
		if status, _ := do(t, readReq(ferdie, b, core.Sum256([]byte("absent")))); status != 404 {
			t.Fatalf("read of a blob not in the bucket: %d", status)
		}
		if status, _ := do(t, readReq(alice, unserved, h)); status != 404 {
			t.Fatalf("read of another bucket's blob: %d", status)
		}
		r1 := readReq(ferdie, b, h)
		r2 := r1.Clone(ctx)
		if status, _ := do(t, r1); status != 200 {
			t.Fatalf("read: %d", status)
		}
		if status, eb := do(t, r2); status != 401 {
			t.Fatalf("replayed read: %d %+v", status, eb)
		}
		_, err := p.client.Blob(ctx, b, h) // the unsigned client
		if !errors.Is(err, core.Unauthorized) {
			t.Fatalf("unsigned client read: %v", err)
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/commitment", 400},
			{"GET", "/commitment?bucket_id=0", 400},
			{"GET", "/commitment?bucket_id=%zz", 400},
			{"GET", "/commitment?bucket_id=999999", 404},
			{"GET", fmt.Sprintf("/commitment?bucket_id=%d", unserved), 404},
			{"POST", "/commitment?bucket_id=1", 405},
			{"DELETE", wire.WritePath(b, 0), 405},
			{"GET", "/proof?bucket_id=1", 400},
			// Well-formed but unsigned private reads are refused.
			{"GET", fmt.Sprintf("/proof?bucket_id=%d&leaf=99", b), 401},
			{"GET", fmt.Sprintf("/proof?bucket_id=%d&leaf=1&leaf_count=99", b), 401},
			{"GET", fmt.Sprintf("/proof/consistency?bucket_id=%d&old=4&new=2", b), 400},
			{"GET", fmt.Sprintf("/proof/consistency?bucket_id=%d&old=4&new=99", b), 401},
			{"GET", "/leaves?bucket_id=1&limit=100000", 400},
			{"GET", "/buckets/1/blobs/nothex", 400},
			{"GET", "/nowhere", 404},
		} {
			r, _ := http.NewRequest(tt.method, p.url+tt.path, nil)
			if status, _ := do(t, r); status != tt.status {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.path, status, tt.status)
			}
		}
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
