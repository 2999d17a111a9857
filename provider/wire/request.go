package wire

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/core"
)

// Headers of a signed write (PUT /buckets/{id}/writes/{seq}) and of a
// signed blob read (GET /buckets/{id}/blobs/{hash}). Hashes, accounts,
// nonces and signatures are lowercase hex; size and expiry are decimal.
const (
	HeaderWriter      = "Cairn-Writer"       // write: the signing account
	HeaderReader      = "Cairn-Reader"       // read: the signing account
	HeaderContentHash = "Cairn-Content-Hash" // write: SHA-256 of the body
	HeaderSize        = "Cairn-Size"         // write: body length in bytes
	HeaderNonce       = "Cairn-Nonce"        // 16 random bytes
	HeaderExpiry      = "Cairn-Expiry"       // unix seconds
	HeaderSignature   = "Cairn-Signature"    // ed25519 over the payload
	// A write also carries the leaf it appends, signed by a bucket writer
	// (core.SignLeaf): the account and its signature. The leaf writer may
	// differ from the request's signer, who may forward another writer's
	// leaf (a writer catching a lagging provider up).
	HeaderLeafWriter    = "Cairn-Leaf-Writer"
	HeaderLeafSignature = "Cairn-Leaf-Signature"
)

// Route paths and path builders.
const (
	PathHealth      = "/health"
	PathCommitment  = "/commitment"
	PathProof       = "/proof"
	PathConsistency = "/proof/consistency"
	PathLeaves      = "/leaves"
	PathUsage       = "/usage"
	PathMetrics     = "/metrics"
)

// WritePath is the path of the write at seq in bucket.
func WritePath(b core.BucketID, seq uint64) string {
	return fmt.Sprintf("/buckets/%d/writes/%d", uint64(b), seq)
}

// BlobPath is the path of a blob of bucket b.
func BlobPath(b core.BucketID, h core.H256) string {
	return fmt.Sprintf("/buckets/%d/blobs/%s", uint64(b), h)
}

// SignedWrite is a write request's authorisation as it travels: the signed
// fields, the writer and the signature. ChainID is not sent; the provider
// fills in its own chain's id before verifying.
type SignedWrite struct {
	WriteAuth
	Writer    core.AccountID
	Signature core.Signature
	// LeafWriter and LeafSignature sign the leaf the write appends
	// (SignedLeaf); the provider verifies them before storing anything.
	LeafWriter    core.AccountID
	LeafSignature core.Signature
}

// NewSignedWrite signs a as k, carrying the leaf's writer signature from
// leaf (which must be the leaf a describes).
func NewSignedWrite(a WriteAuth, leaf core.SignedLeaf, k core.PrivateKey) (SignedWrite, error) {
	if leaf.Leaf != (core.Leaf{Seq: a.Seq, ContentHash: a.ContentHash, Size: a.Size}) {
		return SignedWrite{}, core.Errorf("wire.NewSignedWrite", core.Invalid, "signed leaf %+v is not the leaf written (seq %d, %s, %d bytes)", leaf.Leaf, a.Seq, a.ContentHash, a.Size)
	}
	sig, err := a.Sign(k)
	if err != nil {
		return SignedWrite{}, err
	}
	return SignedWrite{WriteAuth: a, Writer: k.Account(), Signature: sig, LeafWriter: leaf.Writer, LeafSignature: leaf.Signature}, nil
}

// SignedLeaf is the leaf the write appends with its writer's signature.
func (w SignedWrite) SignedLeaf() core.SignedLeaf {
	return core.SignedLeaf{Leaf: core.Leaf{Seq: w.Seq, ContentHash: w.ContentHash, Size: w.Size}, Writer: w.LeafWriter, Signature: w.LeafSignature}
}

// SetHeaders puts the authorisation into h (bucket and seq go in the path).
func (w SignedWrite) SetHeaders(h http.Header) {
	h.Set(HeaderWriter, w.Writer.String())
	h.Set(HeaderContentHash, w.ContentHash.String())
	h.Set(HeaderSize, strconv.FormatUint(w.Size, 10))
	h.Set(HeaderNonce, hex.EncodeToString(w.Nonce[:]))
	h.Set(HeaderExpiry, strconv.FormatInt(w.Expiry, 10))
	h.Set(HeaderSignature, w.Signature.String())
	h.Set(HeaderLeafWriter, w.LeafWriter.String())
	h.Set(HeaderLeafSignature, w.LeafSignature.String())
}

// ParseWrite decodes a write request from its path parameters and headers.
// It checks syntax only; the caller sets ChainID and verifies. It never
// panics; bad input gives kind invalid (a missing signature: unauthorized).
func ParseWrite(bucket, seq string, h http.Header) (SignedWrite, error) {
	const op = "wire.ParseWrite"
	var w SignedWrite
	var err error
	if w.Bucket, err = core.ParseBucketID(bucket); err != nil {
		return w, core.E(op, core.Invalid, err)
	}
	if w.Seq, err = parseUint(op, "seq", seq); err != nil {
		return w, err
	}
	if h.Get(HeaderSignature) == "" || h.Get(HeaderWriter) == "" {
		return w, core.Errorf(op, core.Unauthorized, "a write must be signed: headers %s and %s are required", HeaderWriter, HeaderSignature)
	}
	if w.Writer, err = parseAccount(op, HeaderWriter, h.Get(HeaderWriter)); err != nil {
		return w, err
	}
	if w.ContentHash, err = parseHash(op, HeaderContentHash, h.Get(HeaderContentHash)); err != nil {
		return w, err
	}
	if w.Size, err = parseUint(op, HeaderSize, h.Get(HeaderSize)); err != nil {
		return w, err
	}
	if w.Nonce, err = parseNonce(op, h.Get(HeaderNonce)); err != nil {
		return w, err
	}
	if w.Expiry, err = parseExpiry(op, h.Get(HeaderExpiry)); err != nil {
		return w, err
	}
	if w.Signature, err = parseSignature(op, h.Get(HeaderSignature)); err != nil {
		return w, err
	}
	if h.Get(HeaderLeafWriter) == "" || h.Get(HeaderLeafSignature) == "" {
		return w, core.Errorf(op, core.Unauthorized, "a write must carry its leaf signed by a bucket writer: headers %s and %s are required", HeaderLeafWriter, HeaderLeafSignature)
	}
	if w.LeafWriter, err = parseAccount(op, HeaderLeafWriter, h.Get(HeaderLeafWriter)); err != nil {
		return w, err
	}
	if w.LeafSignature, err = parseSignature(op, h.Get(HeaderLeafSignature)); err != nil {
		return w, err
	}
	return w, nil
}

// SignedRead is a read's authorisation as it travels: the reader, nonce,
// expiry and signature go in headers; the bucket and resource come from
// the request itself. ChainID is not sent; the provider fills in its own.
type SignedRead struct {
	ReadAuth
	Reader    core.AccountID
	Signature core.Signature
}

// NewSignedRead signs a as k.
func NewSignedRead(a ReadAuth, k core.PrivateKey) (SignedRead, error) {
	sig, err := a.Sign(k)
	if err != nil {
		return SignedRead{}, err
	}
	return SignedRead{ReadAuth: a, Reader: k.Account(), Signature: sig}, nil
}

// SetHeaders puts the authorisation into h.
func (r SignedRead) SetHeaders(h http.Header) {
	h.Set(HeaderReader, r.Reader.String())
	h.Set(HeaderNonce, hex.EncodeToString(r.Nonce[:]))
	h.Set(HeaderExpiry, strconv.FormatInt(r.Expiry, 10))
	h.Set(HeaderSignature, r.Signature.String())
}

// ParseBlobPath decodes the path parameters of a blob route.
func ParseBlobPath(bucket, hash string) (core.BucketID, core.H256, error) {
	const op = "wire.ParseBlobPath"
	b, err := core.ParseBucketID(bucket)
	if err != nil {
		return 0, core.H256{}, core.E(op, core.Invalid, err)
	}
	h, err := parseHash(op, "blob hash", hash)
	return b, h, err
}

// ParseRead decodes a blob read's path parameters and headers. A request
// without a signature gives kind unauthorized. It never panics.
func ParseRead(bucket, hash string, h http.Header) (SignedRead, error) {
	b, ch, err := ParseBlobPath(bucket, hash)
	if err != nil {
		return SignedRead{}, err
	}
	return ParseReadHeaders(b, BlobPath(b, ch), h)
}

// ParseReadHeaders decodes the signature headers of a read of resource (as
// ReadResource builds it) in bucket b. A request without a signature gives
// kind unauthorized; bad input kind invalid. It never panics.
func ParseReadHeaders(b core.BucketID, resource string, h http.Header) (SignedRead, error) {
	const op = "wire.ParseRead"
	r := SignedRead{ReadAuth: ReadAuth{Bucket: b, Resource: resource}}
	var err error
	if len(resource) == 0 || len(resource) > MaxResourceLen {
		return r, core.Errorf(op, core.Invalid, "request names a resource of %d bytes, over %d", len(resource), MaxResourceLen)
	}
	if h.Get(HeaderSignature) == "" || h.Get(HeaderReader) == "" {
		return r, core.Errorf(op, core.Unauthorized, "a read of bucket %s must be signed by a bucket member or provider: headers %s and %s are required", b, HeaderReader, HeaderSignature)
	}
	if r.Reader, err = parseAccount(op, HeaderReader, h.Get(HeaderReader)); err != nil {
		return r, err
	}
	if r.Nonce, err = parseNonce(op, h.Get(HeaderNonce)); err != nil {
		return r, err
	}
	if r.Expiry, err = parseExpiry(op, h.Get(HeaderExpiry)); err != nil {
		return r, err
	}
	if r.Signature, err = parseSignature(op, h.Get(HeaderSignature)); err != nil {
		return r, err
	}
	return r, nil
}

// Query parameter limits.
const (
	DefaultLeavesLimit = 1000
	MaxLeavesLimit     = 10000
)

// BucketQuery is the query of GET /commitment.
type BucketQuery struct {
	Bucket core.BucketID
}

// Values encodes q.
func (q BucketQuery) Values() url.Values {
	return url.Values{"bucket_id": {q.Bucket.String()}}
}

// ParseBucketQuery decodes GET /commitment's query.
func ParseBucketQuery(v url.Values) (BucketQuery, error) {
	b, err := parseBucket("wire.ParseBucketQuery", v)
	return BucketQuery{Bucket: b}, err
}

// ProofQuery is the query of GET /proof: an inclusion proof of leaf index
// Leaf (seq - start_seq) against the root at LeafCount leaves. LeafCount 0
// means the provider's current leaf count.
type ProofQuery struct {
	Bucket    core.BucketID
	Leaf      uint64
	LeafCount uint64
}

// Values encodes q.
func (q ProofQuery) Values() url.Values {
	v := url.Values{"bucket_id": {q.Bucket.String()}, "leaf": {strconv.FormatUint(q.Leaf, 10)}}
	if q.LeafCount != 0 {
		v.Set("leaf_count", strconv.FormatUint(q.LeafCount, 10))
	}
	return v
}

// ParseProofQuery decodes GET /proof's query.
func ParseProofQuery(v url.Values) (ProofQuery, error) {
	const op = "wire.ParseProofQuery"
	var q ProofQuery
	var err error
	if q.Bucket, err = parseBucket(op, v); err != nil {
		return q, err
	}
	if q.Leaf, err = parseUint(op, "leaf", v.Get("leaf")); err != nil {
		return q, err
	}
	if q.LeafCount, err = optionalUint(op, v, "leaf_count", 0); err != nil {
		return q, err
	}
	if q.LeafCount != 0 && q.Leaf >= q.LeafCount {
		return q, core.Errorf(op, core.Invalid, "leaf %d is not below leaf_count %d", q.Leaf, q.LeafCount)
	}
	return q, nil
}

// ConsistencyQuery is the query of GET /proof/consistency: a proof that the
// root at New leaves extends the root at Old leaves. New 0 means the
// provider's current leaf count.
type ConsistencyQuery struct {
	Bucket core.BucketID
	Old    uint64
	New    uint64
}

// Values encodes q.
func (q ConsistencyQuery) Values() url.Values {
	v := url.Values{"bucket_id": {q.Bucket.String()}, "old": {strconv.FormatUint(q.Old, 10)}}
	if q.New != 0 {
		v.Set("new", strconv.FormatUint(q.New, 10))
	}
	return v
}

// ParseConsistencyQuery decodes GET /proof/consistency's query.
func ParseConsistencyQuery(v url.Values) (ConsistencyQuery, error) {
	const op = "wire.ParseConsistencyQuery"
	var q ConsistencyQuery
	var err error
	if q.Bucket, err = parseBucket(op, v); err != nil {
		return q, err
	}
	if q.Old, err = parseUint(op, "old", v.Get("old")); err != nil {
		return q, err
	}
	if q.New, err = optionalUint(op, v, "new", 0); err != nil {
		return q, err
	}
	if q.New != 0 && q.Old > q.New {
		return q, core.Errorf(op, core.Invalid, "old %d is past new %d", q.Old, q.New)
	}
	return q, nil
}

// LeavesQuery is the query of GET /leaves: up to Limit leaves from seq From.
type LeavesQuery struct {
	Bucket core.BucketID
	From   uint64
	Limit  int
}

// Values encodes q.
func (q LeavesQuery) Values() url.Values {
	v := url.Values{"bucket_id": {q.Bucket.String()}, "from": {strconv.FormatUint(q.From, 10)}}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ParseLeavesQuery decodes GET /leaves's query. From defaults to 0 and
// Limit to DefaultLeavesLimit; Limit is at most MaxLeavesLimit.
func ParseLeavesQuery(v url.Values) (LeavesQuery, error) {
	const op = "wire.ParseLeavesQuery"
	var q LeavesQuery
	var err error
	if q.Bucket, err = parseBucket(op, v); err != nil {
		return q, err
	}
	if q.From, err = optionalUint(op, v, "from", 0); err != nil {
		return q, err
	}
	limit, err := optionalUint(op, v, "limit", DefaultLeavesLimit)
	if err != nil {
		return q, err
	}
	if limit == 0 || limit > MaxLeavesLimit {
		return q, core.Errorf(op, core.Invalid, "limit must be 1..%d, got %d", MaxLeavesLimit, limit)
	}
	q.Limit = int(limit)
	return q, nil
}

func parseBucket(op string, v url.Values) (core.BucketID, error) {
	s := v.Get("bucket_id")
	if s == "" {
		return 0, core.Errorf(op, core.Invalid, "query parameter bucket_id is required")
	}
	b, err := core.ParseBucketID(s)
	if err != nil {
		return 0, core.E(op, core.Invalid, err)
	}
	return b, nil
}

func optionalUint(op string, v url.Values, name string, def uint64) (uint64, error) {
	if !v.Has(name) {
		return def, nil
	}
	return parseUint(op, name, v.Get(name))
}

func parseUint(op, name, s string) (uint64, error) {
	if s == "" || len(s) > 20 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, core.Errorf(op, core.Invalid, "%s must be a decimal number, got %q", name, clip(s))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, core.Errorf(op, core.Invalid, "%s must be a decimal number below 2^64, got %q", name, clip(s))
	}
	return n, nil
}

func parseExpiry(op, s string) (int64, error) {
	n, err := parseUint(op, HeaderExpiry, s)
	if err != nil {
		return 0, err
	}
	if n == 0 || n > 1<<62 {
		return 0, core.Errorf(op, core.Invalid, "%s out of range: %d", HeaderExpiry, n)
	}
	return int64(n), nil
}

func parseHash(op, name, s string) (core.H256, error) {
	if len(s) != 64 {
		return core.H256{}, core.Errorf(op, core.Invalid, "%s must be 64 hex digits, got %d characters", name, len(s))
	}
	h, err := core.ParseH256(s)
	if err != nil {
		return h, core.Errorf(op, core.Invalid, "%s: %q is not hex", name, clip(s))
	}
	return h, nil
}

func parseAccount(op, name, s string) (core.AccountID, error) {
	h, err := parseHash(op, name, s)
	return core.AccountID(h), err
}

func parseNonce(op, s string) (Nonce, error) {
	var n Nonce
	if len(s) != 2*len(n) {
		return n, core.Errorf(op, core.Invalid, "%s must be %d hex digits, got %d characters", HeaderNonce, 2*len(n), len(s))
	}
	if _, err := hex.Decode(n[:], []byte(s)); err != nil {
		return n, core.Errorf(op, core.Invalid, "%s: %q is not hex", HeaderNonce, clip(s))
	}
	return n, nil
}

func parseSignature(op, s string) (core.Signature, error) {
	var sig core.Signature
	if err := sig.UnmarshalText([]byte(s)); err != nil {
		return sig, core.Errorf(op, core.Invalid, "%s must be %d hex digits", HeaderSignature, 2*len(sig))
	}
	return sig, nil
}

// clip shortens untrusted input before it goes into a message.
func clip(s string) string {
	if len(s) > 70 {
		return s[:70] + "..."
	}
	return s
}
