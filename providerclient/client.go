package providerclient

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/wire"
)

// Answers of the provider's routes, named here so callers need not import
// provider/wire.
type (
	Health      = wire.Health
	WriteResult = wire.WriteResult
)

// Options configure a Client. The zero value works.
type Options struct {
	// HTTPClient sends the requests (http.DefaultClient if nil). Tests
	// inject RoundTrippers that drop, delay, hang or corrupt.
	HTTPClient *http.Client
	// Timeout bounds each request, body included (a Blob's reader until
	// it is closed). A request ends at the earlier of the caller's
	// deadline and Timeout from its start: the rule of
	// core.RequestContext, which chainclient follows too. 0 means
	// DefaultTimeout (30 s, the seed's provider timeout); core.NoTimeout
	// means no bound of the client's own, for callers that put a deadline
	// on every call.
	Timeout time.Duration
	// ChainID binds signed requests to a chain. Empty: learned from the
	// provider's /health on the first signed request, which trusts the
	// provider to name its chain; set it to bind to the chain you trust.
	ChainID string
	// Signer signs reads of blobs, leaves and proofs (a bucket member, or
	// a provider syncing a bucket it serves). Zero: these reads go unsigned
	// and providers refuse them; commitments and health stay public.
	Signer core.PrivateKey
	// MaxBlobSize bounds a blob the client will read (default 64 MiB).
	MaxBlobSize int64
	// Now is the clock for request expiries (time.Now if nil).
	Now func() time.Time
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 30 * time.Second

// RequestLifetime is how long a signed request stays valid after it is
// made; well inside wire.MaxRequestLifetime, so clock skew up to a few
// minutes is tolerated.
const RequestLifetime = 2 * time.Minute

// Client talks to one provider.
type Client struct {
	base string
	hc   *http.Client
	o    Options

	chainID core.Memo[string]
}

// New returns a client of the provider at baseURL (any form BaseURL accepts).
func New(baseURL string, o Options) (*Client, error) {
	base, err := BaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBlobSize <= 0 {
		o.MaxBlobSize = 64 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Client{base: base, hc: o.HTTPClient, o: o}
	c.chainID.Set(o.ChainID)
	return c, nil
}

// URL returns the provider's base URL.
func (c *Client) URL() string { return c.base }

// Status returns the provider's GET /health answer.
func (c *Client) Status(ctx context.Context) (Health, error) {
	var h Health
	err := c.getJSON(ctx, "providerclient.Status", wire.PathHealth, nil, 0, &h)
	return h, err
}

// Usage returns what the provider holds of the bucket (GET /usage, a
// signed read: the client needs a Signer that is a member of the bucket
// or one of its providers).
func (c *Client) Usage(ctx context.Context, bucket core.BucketID) (wire.Usage, error) {
	const op = "providerclient.Usage"
	var u wire.Usage
	if err := c.getJSON(ctx, op, wire.PathUsage, wire.BucketQuery{Bucket: bucket}.Values(), bucket, &u); err != nil {
		return u, err
	}
	if u.Bucket != bucket {
		return u, core.Errorf(op, core.Corrupt, "asked for bucket %s, got the usage of bucket %s", bucket, u.Bucket)
	}
	return u, nil
}

// Health returns nil if the provider answers GET /health, whatever status
// it reports (a degraded provider is still reachable).
func (c *Client) Health(ctx context.Context) error {
	_, err := c.Status(ctx)
	return err
}

// Commitment returns the provider's signed commitment to the bucket's
// current log. It is not verified: check it with VerifyBy against the
// provider's key on chain.
func (c *Client) Commitment(ctx context.Context, bucket core.BucketID) (core.SignedCommitment, error) {
	const op = "providerclient.Commitment"
	var sc core.SignedCommitment
	if err := c.getJSON(ctx, op, wire.PathCommitment, wire.BucketQuery{Bucket: bucket}.Values(), 0, &sc); err != nil {
		return sc, err
	}
	if sc.Bucket != bucket {
		return sc, core.Errorf(op, core.Corrupt, "asked for bucket %s, got a commitment to bucket %s", bucket, sc.Bucket)
	}
	return sc, nil
}

// ProofAt returns GET /proof's whole answer: leaf leafIndex and its proof
// against the root at leafCount (0: the provider's current count). Check it
// with (*wire.Proof).Verify against a root you trust.
func (c *Client) ProofAt(ctx context.Context, bucket core.BucketID, leafIndex, leafCount uint64) (*wire.Proof, error) {
	const op = "providerclient.Proof"
	q := wire.ProofQuery{Bucket: bucket, Leaf: leafIndex, LeafCount: leafCount}
	var p wire.Proof
	if err := c.getJSON(ctx, op, wire.PathProof, q.Values(), bucket, &p); err != nil {
		return nil, err
	}
	if p.Bucket != bucket || p.LeafIndex != leafIndex || (leafCount != 0 && p.LeafCount != leafCount) ||
		p.Proof.LeafIndex != p.LeafIndex || p.Proof.LeafCount != p.LeafCount {
		return nil, core.Errorf(op, core.Corrupt, "asked for leaf %d of %d in bucket %s, got leaf %d of %d in bucket %s", leafIndex, leafCount, bucket, p.LeafIndex, p.LeafCount, p.Bucket)
	}
	return &p, nil
}

// Proof returns leaf leafIndex and its inclusion proof against the root at
// leafCount leaves, unverified.
func (c *Client) Proof(ctx context.Context, bucket core.BucketID, leafIndex, leafCount uint64) (core.SignedLeaf, *mmr.InclusionProof, error) {
	p, err := c.ProofAt(ctx, bucket, leafIndex, leafCount)
	if err != nil {
		return core.SignedLeaf{}, nil, err
	}
	return p.Leaf, &p.Proof, nil
}

// Consistency returns GET /proof/consistency's whole answer, unverified:
// check it with (*wire.Consistency).Verify against roots you trust.
func (c *Client) Consistency(ctx context.Context, bucket core.BucketID, oldCount, newCount uint64) (*wire.Consistency, error) {
	const op = "providerclient.ConsistencyProof"
	q := wire.ConsistencyQuery{Bucket: bucket, Old: oldCount, New: newCount}
	var r wire.Consistency
	if err := c.getJSON(ctx, op, wire.PathConsistency, q.Values(), bucket, &r); err != nil {
		return nil, err
	}
	if r.Bucket != bucket || r.OldCount != oldCount || (newCount != 0 && r.NewCount != newCount) ||
		r.Proof.OldCount != r.OldCount || r.Proof.NewCount != r.NewCount {
		return nil, core.Errorf(op, core.Corrupt, "asked for %d -> %d in bucket %s, got %d -> %d in bucket %s", oldCount, newCount, bucket, r.OldCount, r.NewCount, r.Bucket)
	}
	return &r, nil
}

// ConsistencyProof returns a proof that the root at newCount leaves
// extends the root at oldCount, unverified.
func (c *Client) ConsistencyProof(ctx context.Context, bucket core.BucketID, oldCount, newCount uint64) (*mmr.ConsistencyProof, error) {
	r, err := c.Consistency(ctx, bucket, oldCount, newCount)
	if err != nil {
		return nil, err
	}
	return &r.Proof, nil
}

// LeavesFrom returns GET /leaves's whole answer: up to limit leaves from
// seq from on, and the provider's log bounds.
func (c *Client) LeavesFrom(ctx context.Context, bucket core.BucketID, from uint64, limit int) (*wire.Leaves, error) {
	const op = "providerclient.Leaves"
	q := wire.LeavesQuery{Bucket: bucket, From: from, Limit: limit}
	var l wire.Leaves
	if err := c.getJSON(ctx, op, wire.PathLeaves, q.Values(), bucket, &l); err != nil {
		return nil, err
	}
	if l.Bucket != bucket || l.From != from || (limit > 0 && len(l.Leaves) > limit) {
		return nil, core.Errorf(op, core.Corrupt, "asked for %d leaves from %d of bucket %s, got %d from %d of bucket %s", limit, from, bucket, len(l.Leaves), l.From, l.Bucket)
	}
	if err := l.Check(); err != nil {
		return nil, core.E(op, core.Corrupt, err)
	}
	return &l, nil
}

// Leaves returns up to limit leaves from seq from on (limit 0: the
// provider's default).
func (c *Client) Leaves(ctx context.Context, bucket core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error) {
	l, err := c.LeavesFrom(ctx, bucket, from, limit)
	if err != nil {
		return nil, err
	}
	return l.Leaves, nil
}

// Write appends the blob read from body (exactly leaf.Size bytes hashing
// to leaf.ContentHash) at leaf.Seq of the bucket's log, and returns once
// the provider holds it durably. The request is signed by signer, a writer
// of the bucket; leaf carries the signature of the writer who wrote the
// leaf (core.SignLeaf), who may be another writer whose leaf signer
// forwards. The body streams; nothing is buffered. A write that already
// landed returns the same answer again. A provider behind leaf.Seq answers
// kind conflict with a *core.BehindError (its leaf count) in the chain.
func (c *Client) Write(ctx context.Context, bucket core.BucketID, leaf core.SignedLeaf, body io.Reader, signer core.PrivateKey) (WriteResult, error) {
	const op = "providerclient.Write"
	var res WriteResult
	chainID, err := c.chain(ctx)
	if err != nil {
		return res, core.E(op, core.KindOf(err), err)
	}
	nonce, err := wire.NewNonce(nil)
	if err != nil {
		return res, err
	}
	lf := leaf.Leaf
	auth := wire.WriteAuth{ChainID: chainID, Bucket: bucket, Seq: lf.Seq, ContentHash: lf.ContentHash, Size: lf.Size, Nonce: nonce, Expiry: c.o.Now().Add(RequestLifetime).Unix()}
	sw, err := wire.NewSignedWrite(auth, leaf, signer)
	if err != nil {
		return res, core.E(op, core.KindOf(err), err)
	}
	ctx, cancel := c.reqCtx(ctx)
	defer cancel()
	if lf.Size == 0 {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+wire.WritePath(bucket, lf.Seq), body)
	if err != nil {
		return res, core.E(op, core.Invalid, err)
	}
	req.ContentLength = int64(lf.Size)
	req.Header.Set("Content-Type", "application/octet-stream")
	sw.SetHeaders(req.Header)
	resp, err := c.hc.Do(req)
	if err != nil {
		return res, transportError(op, err)
	}
	defer drainClose(resp.Body)
	if err := c.decode(op, resp, &res); err != nil {
		return res, err
	}
	if res.Leaf != lf {
		return res, core.Errorf(op, core.Corrupt, "provider acknowledged leaf %+v, not the write sent", res.Leaf)
	}
	return res, nil
}

// Blob streams a blob of the bucket, signed as Options.Signer. The reader
// verifies the bytes: at the end, a size or hash mismatch is returned
// instead of io.EOF, with kind corrupt. Close it.
func (c *Client) Blob(ctx context.Context, bucket core.BucketID, hash core.H256) (io.ReadCloser, error) {
	const op = "providerclient.Blob"
	ctx, cancel := c.reqCtx(ctx)
	resp, err := c.blobRequest(ctx, op, http.MethodGet, bucket, hash)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.ContentLength > c.o.MaxBlobSize {
		drainClose(resp.Body)
		cancel()
		return nil, core.Errorf(op, core.Invalid, "blob of %d bytes is over the client's limit of %d", resp.ContentLength, c.o.MaxBlobSize)
	}
	return &verifyingReader{op: op, body: resp.Body, cancel: cancel, want: hash, size: resp.ContentLength, max: c.o.MaxBlobSize, h: sha256.New()}, nil
}

// BlobSize returns the size of a blob of the bucket (HEAD), signed as
// Options.Signer; kind not_found if the bucket holds no such blob.
func (c *Client) BlobSize(ctx context.Context, bucket core.BucketID, hash core.H256) (int64, error) {
	const op = "providerclient.BlobSize"
	ctx, cancel := c.reqCtx(ctx)
	defer cancel()
	resp, err := c.blobRequest(ctx, op, http.MethodHead, bucket, hash)
	if err != nil {
		return 0, err
	}
	drainClose(resp.Body)
	return resp.ContentLength, nil
}

func (c *Client) blobRequest(ctx context.Context, op, method string, bucket core.BucketID, hash core.H256) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+wire.BlobPath(bucket, hash), nil)
	if err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	if err := c.signRead(ctx, op, req, bucket, wire.BlobPath(bucket, hash)); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(op, err)
	}
	if resp.StatusCode >= 300 {
		defer drainClose(resp.Body)
		return nil, c.decode(op, resp, nil)
	}
	return resp, nil
}

// signRead signs req as a read of resource in bucket by Options.Signer;
// without a signer the request goes unsigned (and a provider refuses it).
func (c *Client) signRead(ctx context.Context, op string, req *http.Request, bucket core.BucketID, resource string) error {
	if c.o.Signer.IsZero() {
		return nil
	}
	chainID, err := c.chain(ctx)
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	nonce, err := wire.NewNonce(nil)
	if err != nil {
		return err
	}
	sr, err := wire.NewSignedRead(wire.ReadAuth{ChainID: chainID, Bucket: bucket, Resource: resource, Nonce: nonce, Expiry: c.o.Now().Add(RequestLifetime).Unix()}, c.o.Signer)
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	sr.SetHeaders(req.Header)
	return nil
}

// ChainID returns the chain id the client's signed requests are bound to:
// Options.ChainID, else the one the provider names in /health.
func (c *Client) ChainID(ctx context.Context) (string, error) { return c.chain(ctx) }

// chain returns the chain id that signed requests are bound to.
func (c *Client) chain(ctx context.Context) (string, error) {
	return c.chainID.Get(ctx, c.healthChainID)
}

// healthChainID asks the provider which chain it serves.
func (c *Client) healthChainID(ctx context.Context) (string, error) {
	h, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	if h.ChainID == "" {
		return "", core.Errorf("providerclient.chain", core.Unavailable, "provider does not name its chain yet")
	}
	return h.ChainID, nil
}

// reqCtx bounds one request (Options.Timeout).
func (c *Client) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return core.RequestContext(ctx, c.o.Timeout)
}

// maxJSON bounds a JSON answer (10 000 leaves are about 1.5 MB).
const maxJSON = 16 << 20

// getJSON gets path?q and decodes the JSON answer into out. A bucket other
// than 0 makes it a private read of that bucket, signed (signRead).
func (c *Client) getJSON(ctx context.Context, op, path string, q url.Values, bucket core.BucketID, out any) error {
	ctx, cancel := c.reqCtx(ctx)
	defer cancel()
	u := c.base + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return core.E(op, core.Invalid, err)
	}
	req.Header.Set("Accept", "application/json")
	if bucket != 0 {
		if err := c.signRead(ctx, op, req, bucket, wire.ReadResource(path, q)); err != nil {
			return err
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(op, err)
	}
	defer drainClose(resp.Body)
	return c.decode(op, resp, out)
}

// decode reads a JSON answer into out, or turns an error answer into a
// *core.Error of the provider's kind.
func (c *Client) decode(op string, resp *http.Response, out any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return transportError(op, err)
	}
	if resp.StatusCode >= 300 {
		return wire.DecodeError(op, resp.StatusCode, body)
	}
	if len(body) > maxJSON {
		return core.Errorf(op, core.Corrupt, "answer is over %d bytes", maxJSON)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return core.E(op, core.Corrupt, fmt.Errorf("answer does not decode: %w", err))
	}
	return nil
}

func transportError(op string, err error) error {
	return core.E(op, core.Unavailable, err)
}

func drainClose(r io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	r.Close()
}

// verifyingReader hashes a blob as it streams and refuses, at the end, bytes
// that do not match their hash or size.
type verifyingReader struct {
	op     string
	body   io.ReadCloser
	cancel context.CancelFunc
	want   core.H256
	size   int64 // from Content-Length; -1 if unknown
	max    int64
	h      hash.Hash
	n      int64
	err    error // sticky
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	switch {
	case r.n > r.max:
		r.err = core.Errorf(r.op, core.Corrupt, "blob %s: provider sent over %d bytes", r.want, r.max)
		return n, r.err
	case errors.Is(err, io.EOF):
		var got core.H256
		r.h.Sum(got[:0])
		if r.size >= 0 && r.n != r.size {
			r.err = core.Errorf(r.op, core.Corrupt, "blob %s: got %d bytes of %d", r.want, r.n, r.size)
		} else if got != r.want {
			r.err = core.Errorf(r.op, core.Corrupt, "blob %s: bytes hash to %s", r.want, got)
		} else {
			r.err = io.EOF
		}
		return n, r.err
	case err != nil:
		r.err = transportError(r.op, err)
		return n, r.err
	}
	return n, nil
}

func (r *verifyingReader) Close() error {
	err := r.body.Close()
	r.cancel()
	return err
}
