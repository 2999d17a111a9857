package wire_test

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/wire"
)

// The one table between kinds and statuses, and its way back.
func TestKindStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		back   core.Kind // KindOfStatus(status)
	}{
		{core.Errorf("op", core.Invalid, "x"), 400, core.Invalid},
		{core.Errorf("op", core.NotFound, "x"), 404, core.NotFound},
		{core.Errorf("op", core.Exists, "x"), 409, core.Conflict},
		{core.Errorf("op", core.Unauthorized, "x"), 401, core.Unauthorized},
		{wire.Forbidden("op", "not a writer"), 403, core.Unauthorized},
		{core.Errorf("op", core.Conflict, "x"), 409, core.Conflict},
		{core.Errorf("op", core.Unavailable, "x"), 503, core.Unavailable},
		{core.Errorf("op", core.Corrupt, "x"), 422, core.Corrupt},
		{core.Errorf("op", core.NoQuorum, "x"), 503, core.Unavailable},
		{core.Errorf("op", core.Internal, "x"), 500, core.Internal},
		{errors.New("unclassified"), 500, core.Internal},
		{wire.WithStatus(core.Errorf("op", core.Invalid, "big"), 413), 413, core.Invalid},
		{wire.WithStatus(core.Errorf("op", core.Invalid, "quota"), 507), 507, core.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := wire.StatusOf(tt.err); got != tt.status {
				t.Fatalf("StatusOf = %d, want %d", got, tt.status)
			}
			if got := wire.KindOfStatus(tt.status); got != tt.back {
				t.Fatalf("KindOfStatus(%d) = %v, want %v", tt.status, got, tt.back)
			}
			// Through a real response and back: the kind survives unchanged.
			rec := httptest.NewRecorder()
			wire.WriteError(rec, tt.err)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("response %d %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			got := wire.DecodeError("client.op", rec.Code, rec.Body.Bytes())
			want := core.KindOf(tt.err)
			if want == core.Other {
				want = core.Other
			}
			if core.KindOf(got) != want {
				t.Fatalf("kind after the wire %v, want %v (%v)", core.KindOf(got), want, got)
			}
			var re *wire.RemoteError
			if !errors.As(got, &re) || re.Status != tt.status || re.Message == "" {
				t.Fatalf("remote error %+v", re)
			}
		})
	}
}

func TestDecodeErrorWithoutBody(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		kind   core.Kind
	}{
		{502, "<html>bad gateway</html>", core.Unavailable},
		{404, "", core.NotFound},
		{400, `{"kind":"nonsense","message":"m"}`, core.Invalid},
		{409, `{"kind":"conflict","message":"behind","leaf_count":7}`, core.Conflict},
		{418, "teapot", core.Other},
	} {
		err := wire.DecodeError("op", tt.status, []byte(tt.body))
		if core.KindOf(err) != tt.kind {
			t.Errorf("%d %q: kind %v, want %v", tt.status, tt.body, core.KindOf(err), tt.kind)
		}
	}
	err := wire.DecodeError("op", 409, []byte(`{"kind":"conflict","message":"behind","leaf_count":7}`))
	var behind *core.BehindError
	if !errors.As(err, &behind) || behind.LeafCount != 7 {
		t.Fatalf("leaf count lost: %v", err)
	}
	if err := wire.DecodeError("op", 409, []byte(`{"kind":"conflict","message":"exists"}`)); errors.As(err, &behind) {
		t.Fatalf("a conflict without leaf_count decoded as behind: %v", err)
	}
}

func TestBehindErrorCarriesLeafCount(t *testing.T) {
	rec := httptest.NewRecorder()
	wire.WriteError(rec, core.E("provider.write", core.Conflict, &core.BehindError{Seq: 20, LeafCount: 12}))
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), `"leaf_count":12`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestWriteAuthPayload(t *testing.T) {
	a := wire.WriteAuth{ChainID: "cairn-dev", Bucket: 1, Seq: 2, ContentHash: core.Sum256([]byte("x")), Size: 1, Nonce: wire.Nonce{0xaa}, Expiry: 1700000000}
	p, err := a.Payload()
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString([]byte("cairn/write/v1\x00")) + "09" + hex.EncodeToString([]byte("cairn-dev")) +
		"0000000000000001" + "0000000000000002" + a.ContentHash.String() + "0000000000000001" +
		"aa000000000000000000000000000000" + "000000006553f100"
	if got := hex.EncodeToString(p); got != want {
		t.Fatalf("payload\n%s\nwant\n%s", got, want)
	}
	alice, _ := core.DevKey("alice")
	bob, _ := core.DevKey("bob")
	sig, _ := a.Sign(alice)
	if err := a.Verify(alice.Account(), sig); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(bob.Account(), sig); core.KindOf(err) != core.Unauthorized {
		t.Fatalf("wrong signer: %v", err)
	}
	// Every field is bound by the signature.
	for name, m := range map[string]func(*wire.WriteAuth){
		"chain":  func(a *wire.WriteAuth) { a.ChainID = "other" },
		"bucket": func(a *wire.WriteAuth) { a.Bucket++ },
		"seq":    func(a *wire.WriteAuth) { a.Seq++ },
		"hash":   func(a *wire.WriteAuth) { a.ContentHash[0]++ },
		"size":   func(a *wire.WriteAuth) { a.Size++ },
		"nonce":  func(a *wire.WriteAuth) { a.Nonce[15]++ },
		"expiry": func(a *wire.WriteAuth) { a.Expiry++ },
	} {
		b := a
		m(&b)
		if err := b.Verify(alice.Account(), sig); err == nil {
			t.Errorf("changing %s kept the signature valid", name)
		}
	}
	// A read signature is not a write signature.
	r := wire.ReadAuth{ChainID: a.ChainID, Bucket: a.Bucket, Resource: wire.BlobPath(a.Bucket, a.ContentHash), Nonce: a.Nonce, Expiry: a.Expiry}
	rsig, _ := r.Sign(alice)
	if err := r.Verify(alice.Account(), rsig); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(alice.Account(), rsig); err == nil {
		t.Fatal("a read signature verified as a write")
	}
	if _, err := (wire.WriteAuth{}).Payload(); core.KindOf(err) != core.Invalid {
		t.Fatalf("empty chain id: %v", err)
	}
}

// A read signature names the resource it reads, so a signature for one
// blob, leaf page or proof cannot be spent on another.
func TestReadAuthPayload(t *testing.T) {
	q := wire.LeavesQuery{Bucket: 1, From: 2, Limit: 3}
	r := wire.ReadAuth{ChainID: "cairn-dev", Bucket: 1, Resource: wire.ReadResource(wire.PathLeaves, q.Values()), Nonce: wire.Nonce{0xaa}, Expiry: 1700000000}
	if r.Resource != "/leaves?bucket_id=1&from=2&limit=3" {
		t.Fatalf("resource %q", r.Resource)
	}
	p, err := r.Payload()
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString([]byte("cairn/read/v2\x00")) + "09" + hex.EncodeToString([]byte("cairn-dev")) +
		"0000000000000001" + "0022" + hex.EncodeToString([]byte(r.Resource)) +
		"aa000000000000000000000000000000" + "000000006553f100"
	if got := hex.EncodeToString(p); got != want {
		t.Fatalf("payload\n%s\nwant\n%s", got, want)
	}
	alice, _ := core.DevKey("alice")
	sig, _ := r.Sign(alice)
	for name, m := range map[string]func(*wire.ReadAuth){
		"chain":    func(a *wire.ReadAuth) { a.ChainID = "other" },
		"bucket":   func(a *wire.ReadAuth) { a.Bucket++ },
		"resource": func(a *wire.ReadAuth) { a.Resource = "/leaves?bucket_id=1&from=0&limit=3" },
		"route":    func(a *wire.ReadAuth) { a.Resource = "/proof?bucket_id=1&from=2&limit=3" },
		"nonce":    func(a *wire.ReadAuth) { a.Nonce[15]++ },
		"expiry":   func(a *wire.ReadAuth) { a.Expiry++ },
	} {
		b := r
		m(&b)
		if err := b.Verify(alice.Account(), sig); err == nil {
			t.Errorf("changing %s kept the signature valid", name)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", wire.MaxResourceLen+1)} {
		b := r
		b.Resource = bad
		if _, err := b.Payload(); core.KindOf(err) != core.Invalid {
			t.Errorf("resource of %d bytes: %v", len(bad), err)
		}
	}
	// The headers round-trip, and a request without them is unauthorized.
	sr, _ := wire.NewSignedRead(r, alice)
	h := http.Header{}
	sr.SetHeaders(h)
	got, err := wire.ParseReadHeaders(1, r.Resource, h)
	got.ChainID = r.ChainID
	if err != nil || got != sr {
		t.Fatalf("round trip %+v, want %+v (%v)", got, sr, err)
	}
	if _, err := wire.ParseReadHeaders(1, r.Resource, http.Header{}); core.KindOf(err) != core.Unauthorized {
		t.Fatalf("unsigned read: %v", err)
	}
}

func TestSignedWriteHeadersRoundTrip(t *testing.T) {
	alice, _ := core.DevKey("alice")
	bob, _ := core.DevKey("bob")
	a := wire.WriteAuth{ChainID: "c", Bucket: 5, Seq: 9, ContentHash: core.Sum256([]byte("d")), Size: 1, Nonce: wire.Nonce{1, 2}, Expiry: time.Now().Unix() + 60}
	leaf, _ := core.SignLeaf(bob, "c", 5, core.Leaf{Seq: 9, ContentHash: a.ContentHash, Size: 1})
	sw, err := wire.NewSignedWrite(a, leaf, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got := sw.SignedLeaf(); got != leaf {
		t.Fatalf("signed leaf %+v, want %+v", got, leaf)
	}
	other := leaf
	other.Seq++
	if _, err := wire.NewSignedWrite(a, other, alice); core.KindOf(err) != core.Invalid {
		t.Fatalf("a signed leaf that is not the write: %v", err)
	}
	h := http.Header{}
	sw.SetHeaders(h)
	got, err := wire.ParseWrite("5", "9", h)
	if err != nil {
		t.Fatal(err)
	}
	got.ChainID = "c"
	if got != sw {
		t.Fatalf("round trip %+v, want %+v", got, sw)
	}
	if err := got.Verify(got.Writer, got.Signature); err != nil {
		t.Fatal(err)
	}
	if err := got.SignedLeaf().Verify("c", 5); err != nil || got.LeafWriter != bob.Account() {
		t.Fatalf("leaf signature after the round trip: %v", err)
	}
}

func TestParseWriteRefusals(t *testing.T) {
	alice, _ := core.DevKey("alice")
	a := wire.WriteAuth{ChainID: "c", Bucket: 5, Seq: 9, ContentHash: core.Sum256([]byte("d")), Size: 1, Expiry: 1 << 40}
	leaf, _ := core.SignLeaf(alice, "c", 5, core.Leaf{Seq: 9, ContentHash: a.ContentHash, Size: 1})
	sw, _ := wire.NewSignedWrite(a, leaf, alice)
	good := http.Header{}
	sw.SetHeaders(good)
	tests := []struct {
		name          string
		bucket, seq   string
		header, value string
		kind          core.Kind
	}{
		{"bucket zero", "0", "9", "", "", core.Invalid},
		{"bucket text", "x", "9", "", "", core.Invalid},
		{"seq negative", "5", "-1", "", "", core.Invalid},
		{"seq overflow", "5", "18446744073709551616", "", "", core.Invalid},
		{"seq plus", "5", "+1", "", "", core.Invalid},
		{"no signature", "5", "9", wire.HeaderSignature, "", core.Unauthorized},
		{"no writer", "5", "9", wire.HeaderWriter, "", core.Unauthorized},
		{"short signature", "5", "9", wire.HeaderSignature, "abcd", core.Invalid},
		{"writer not hex", "5", "9", wire.HeaderWriter, strings.Repeat("z", 64), core.Invalid},
		{"hash short", "5", "9", wire.HeaderContentHash, "00", core.Invalid},
		{"size missing", "5", "9", wire.HeaderSize, "", core.Invalid},
		{"size float", "5", "9", wire.HeaderSize, "1.5", core.Invalid},
		{"nonce short", "5", "9", wire.HeaderNonce, "00", core.Invalid},
		{"expiry zero", "5", "9", wire.HeaderExpiry, "0", core.Invalid},
		{"expiry huge", "5", "9", wire.HeaderExpiry, "9223372036854775807", core.Invalid},
		{"no leaf writer", "5", "9", wire.HeaderLeafWriter, "", core.Unauthorized},
		{"no leaf signature", "5", "9", wire.HeaderLeafSignature, "", core.Unauthorized},
		{"leaf writer short", "5", "9", wire.HeaderLeafWriter, "abcd", core.Invalid},
		{"leaf signature not hex", "5", "9", wire.HeaderLeafSignature, strings.Repeat("g", 128), core.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good.Clone()
			if tt.header != "" {
				h.Set(tt.header, tt.value)
			}
			_, err := wire.ParseWrite(tt.bucket, tt.seq, h)
			if core.KindOf(err) != tt.kind {
				t.Fatalf("kind %v, want %v (%v)", core.KindOf(err), tt.kind, err)
			}
		})
	}
}

func TestCheckExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tt := range []struct {
		expiry int64
		ok     bool
	}{{999, false}, {1000, false}, {1001, true}, {1600, true}, {1601, false}} {
		if err := wire.CheckExpiry("op", tt.expiry, now); (err == nil) != tt.ok {
			t.Errorf("expiry %d: %v", tt.expiry, err)
		}
	}
}

func TestQueries(t *testing.T) {
	q := wire.ProofQuery{Bucket: 3, Leaf: 4, LeafCount: 10}
	if got, err := wire.ParseProofQuery(q.Values()); err != nil || got != q {
		t.Fatalf("proof query %+v %v", got, err)
	}
	c := wire.ConsistencyQuery{Bucket: 3, Old: 2, New: 10}
	if got, err := wire.ParseConsistencyQuery(c.Values()); err != nil || got != c {
		t.Fatalf("consistency query %+v %v", got, err)
	}
	l := wire.LeavesQuery{Bucket: 3, From: 7, Limit: 20}
	if got, err := wire.ParseLeavesQuery(l.Values()); err != nil || got != l {
		t.Fatalf("leaves query %+v %v", got, err)
	}
	if got, err := wire.ParseLeavesQuery(url.Values{"bucket_id": {"3"}}); err != nil || got.Limit != wire.DefaultLeavesLimit || got.From != 0 {
		t.Fatalf("leaves defaults %+v %v", got, err)
	}
	for _, raw := range []string{
		"", "bucket_id=0", "bucket_id=-1", "bucket_id=1&leaf=", "bucket_id=1&leaf=5&leaf_count=5",
		"bucket_id=1&leaf=x",
	} {
		v, _ := url.ParseQuery(raw)
		if _, err := wire.ParseProofQuery(v); core.KindOf(err) != core.Invalid {
			t.Errorf("proof query %q: %v", raw, err)
		}
	}
	for _, raw := range []string{"bucket_id=1&limit=0", "bucket_id=1&limit=10001", "bucket_id=1&from=z"} {
		v, _ := url.ParseQuery(raw)
		if _, err := wire.ParseLeavesQuery(v); core.KindOf(err) != core.Invalid {
			t.Errorf("leaves query %q: %v", raw, err)
		}
	}
	v, _ := url.ParseQuery("bucket_id=1&old=5&new=4")
	if _, err := wire.ParseConsistencyQuery(v); core.KindOf(err) != core.Invalid {
		t.Errorf("old > new: %v", err)
	}
}

func TestProofVerify(t *testing.T) {
	m, _ := mmr.New(mmr.NewMemStore())
	var leaves []core.Leaf
	for i := range 6 {
		lf := core.Leaf{Seq: uint64(i), ContentHash: core.Sum256([]byte{byte(i)}), Size: 1}
		leaves = append(leaves, lf)
		m.Append(lf.Bytes())
	}
	root, _ := m.RootAt(5)
	p, _ := m.Proof(2, 5)
	ok := wire.Proof{Bucket: 1, Leaf: core.SignedLeaf{Leaf: leaves[2]}, LeafIndex: 2, LeafCount: 5, Root: core.H256(root), Proof: *p}
	if err := ok.Verify(core.H256(root)); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]func(p *wire.Proof){
		"other leaf":     func(p *wire.Proof) { p.Leaf.Leaf = leaves[3] },
		"other index":    func(p *wire.Proof) { p.LeafIndex = 3 },
		"seq not index":  func(p *wire.Proof) { p.StartSeq = 1 },
		"leaf size":      func(p *wire.Proof) { p.Leaf.Size = 2 },
		"other count":    func(p *wire.Proof) { p.LeafCount = 6 },
		"broken sibling": func(p *wire.Proof) { p.Proof.Siblings = append([]mmr.Hash{{1}}, p.Proof.Siblings[1:]...) },
	} {
		q := ok
		bad(&q)
		if err := q.Verify(core.H256(root)); core.KindOf(err) != core.Corrupt {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLeavesCheck(t *testing.T) {
	l := wire.Leaves{Bucket: 1, LeafCount: 5, From: 2, Leaves: []core.SignedLeaf{{Leaf: core.Leaf{Seq: 2}}, {Leaf: core.Leaf{Seq: 3}}}}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	l.Leaves[1].Seq = 4
	if err := l.Check(); core.KindOf(err) != core.Corrupt {
		t.Fatal("gap accepted")
	}
	l = wire.Leaves{Bucket: 1, LeafCount: 3, From: 2, Leaves: []core.SignedLeaf{{Leaf: core.Leaf{Seq: 2}}, {Leaf: core.Leaf{Seq: 3}}}}
	if err := l.Check(); core.KindOf(err) != core.Corrupt {
		t.Fatal("leaf past the log accepted")
	}
}
