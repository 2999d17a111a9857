package wire

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/url"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// Domains open every signed request payload, so a write signature can never
// be taken for a read signature, a commitment or a chain transaction.
const (
	WriteDomain = "cairn/write/v1\x00"
	// ReadDomain is v2: a read signature names the resource it reads (a
	// blob, or a leaf list or proof with its query), so one signed read
	// cannot be spent on another.
	ReadDomain = "cairn/read/v2\x00"
)

// MaxRequestLifetime is how far in the future a signed request's expiry may
// lie. A provider remembers each nonce until its expiry, so this also
// bounds how long it must remember one.
const MaxRequestLifetime = 10 * time.Minute

// Nonce makes each signed request unique; a provider refuses a nonce it has
// already seen before that request's expiry.
type Nonce [16]byte

// NewNonce returns a random nonce from r (crypto/rand when r is nil).
func NewNonce(r io.Reader) (Nonce, error) {
	if r == nil {
		r = rand.Reader
	}
	var n Nonce
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return n, core.E("wire.NewNonce", core.Internal, err)
	}
	return n, nil
}

// WriteAuth is what a writer signs to append one blob to a bucket's log at
// seq. The writer is the signing key; it is not part of the payload.
type WriteAuth struct {
	ChainID     string
	Bucket      core.BucketID
	Seq         uint64
	ContentHash core.H256
	Size        uint64
	Nonce       Nonce
	Expiry      int64 // unix seconds
}

// Payload returns the bytes the writer signs (integers big-endian):
//
//	size  field
//	15    WriteDomain ("cairn/write/v1" and a NUL)
//	1     L = len(chain id), 1..64
//	L     chain id
//	8     bucket id
//	8     seq
//	32    content hash (SHA-256 of the blob)
//	8     size of the blob in bytes
//	16    nonce
//	8     expiry, unix seconds
func (a WriteAuth) Payload() ([]byte, error) {
	if err := checkChainID("wire.WriteAuth", a.ChainID); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(WriteDomain)+1+len(a.ChainID)+8+8+32+8+16+8)
	b = append(b, WriteDomain...)
	b = append(b, byte(len(a.ChainID)))
	b = append(b, a.ChainID...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Bucket))
	b = binary.BigEndian.AppendUint64(b, a.Seq)
	b = append(b, a.ContentHash[:]...)
	b = binary.BigEndian.AppendUint64(b, a.Size)
	b = append(b, a.Nonce[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Expiry))
	return b, nil
}

// Sign signs the write with k.
func (a WriteAuth) Sign(k core.PrivateKey) (core.Signature, error) {
	p, err := a.Payload()
	if err != nil {
		return core.Signature{}, err
	}
	return k.Sign(p), nil
}

// Verify checks sig by writer over the payload; kind unauthorized if it
// does not verify.
func (a WriteAuth) Verify(writer core.AccountID, sig core.Signature) error {
	return verify("wire.WriteAuth.Verify", a.Payload, writer, sig)
}

// ReadAuth is what a bucket member or one of the bucket's providers signs
// to read a blob, the leaf list or a proof of the bucket.
type ReadAuth struct {
	ChainID string
	Bucket  core.BucketID
	// Resource names what is read: the request path and, for a route with
	// a query, "?" and the query in canonical form (ReadResource).
	Resource string
	Nonce    Nonce
	Expiry   int64 // unix seconds
}

// MaxResourceLen bounds ReadAuth.Resource.
const MaxResourceLen = 1024

// ReadResource is the resource a signed read of path with query q names:
// path alone without a query, else path, "?" and q.Encode() (keys sorted,
// values in order), the form a provider rebuilds from the query it parsed.
func ReadResource(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Payload returns the bytes the reader signs (integers big-endian):
//
//	size  field
//	14    ReadDomain ("cairn/read/v2" and a NUL)
//	1     L = len(chain id), 1..64
//	L     chain id
//	8     bucket id
//	2     R = len(resource), 1..MaxResourceLen
//	R     resource, e.g. "/buckets/1/blobs/<hash>" or
//	      "/leaves?bucket_id=1&from=0&limit=100"
//	16    nonce
//	8     expiry, unix seconds
func (a ReadAuth) Payload() ([]byte, error) {
	if err := checkChainID("wire.ReadAuth", a.ChainID); err != nil {
		return nil, err
	}
	if len(a.Resource) == 0 || len(a.Resource) > MaxResourceLen {
		return nil, core.Errorf("wire.ReadAuth", core.Invalid, "resource must be 1..%d bytes, got %d", MaxResourceLen, len(a.Resource))
	}
	b := make([]byte, 0, len(ReadDomain)+1+len(a.ChainID)+8+2+len(a.Resource)+16+8)
	b = append(b, ReadDomain...)
	b = append(b, byte(len(a.ChainID)))
	b = append(b, a.ChainID...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Bucket))
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.Resource)))
	b = append(b, a.Resource...)
	b = append(b, a.Nonce[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Expiry))
	return b, nil
}

// Sign signs the read with k.
func (a ReadAuth) Sign(k core.PrivateKey) (core.Signature, error) {
	p, err := a.Payload()
	if err != nil {
		return core.Signature{}, err
	}
	return k.Sign(p), nil
}

// Verify checks sig by reader over the payload; kind unauthorized if it
// does not verify.
func (a ReadAuth) Verify(reader core.AccountID, sig core.Signature) error {
	return verify("wire.ReadAuth.Verify", a.Payload, reader, sig)
}

func checkChainID(op, id string) error {
	if len(id) == 0 || len(id) > core.MaxChainIDLen {
		return core.Errorf(op, core.Invalid, "chain id must be 1..%d bytes, got %d", core.MaxChainIDLen, len(id))
	}
	return nil
}

func verify(op string, payload func() ([]byte, error), key core.AccountID, sig core.Signature) error {
	p, err := payload()
	if err != nil {
		return err
	}
	if !key.Verify(p, sig) {
		return core.Errorf(op, core.Unauthorized, "signature by %s does not verify", key.Short())
	}
	return nil
}

// CheckExpiry refuses an expiry in the past or more than
// MaxRequestLifetime after now (kind unauthorized).
func CheckExpiry(op string, expiry int64, now time.Time) error {
	t := time.Unix(expiry, 0)
	if !t.After(now) {
		return core.Errorf(op, core.Unauthorized, "request expired at %s (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if t.Sub(now) > MaxRequestLifetime {
		return core.Errorf(op, core.Unauthorized, "request expiry %s is more than %s ahead", t.UTC().Format(time.RFC3339), MaxRequestLifetime)
	}
	return nil
}
