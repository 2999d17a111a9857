package store

import (
	"fmt"
	"io"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Store is durable blob, leaf and MMR-node storage for a provider. Every
// method is safe for concurrent use. Appends to one bucket are placed in
// the log one at a time, in the order they arrive; those that arrive while
// an earlier one is being made durable may be made durable together (and
// each is answered only then). Appends to different buckets proceed in
// parallel. Errors carry core
// kinds: Invalid for a bad argument, NotFound for a missing blob or log
// prefix, Conflict for a seq that does not fit the log, Unauthorized for a
// replayed nonce, Corrupt for data that does not match its hash, Internal
// for a storage failure.
type Store interface {
	// Append appends w.Leaf to bucket's log if w.Leaf.Seq is the log's next
	// seq (start_seq + leaf_count), and returns once the blob, the leaf
	// with its writer's signature, the MMR nodes, the log state and the
	// nonce are durable, all or none. The store keeps the signature but
	// does not check it: the caller verifies it against chain state.
	//
	// A w.Nonce already recorded is refused first (kind Unauthorized),
	// whatever the write: a replay. If w.Leaf.Seq is already in the log and
	// holds the same leaf (whoever signed it), Append writes nothing and
	// returns the answer of the first append with Existing set: retries
	// (with a fresh nonce) are safe. If it holds a different leaf: kind
	// Conflict. If w.Leaf.Seq is
	// past the next seq (after waiting up to Options.HoldFor for the appends
	// before it, when it is at most Options.HoldAhead past): kind Conflict
	// with a *core.BehindError in the chain. A
	// log that would pass w.MaxBytes: kind Invalid with a *QuotaError. Data
	// that does not hash to w.Leaf.ContentHash: kind Corrupt.
	Append(bucket core.BucketID, w Write) (Appended, error)

	// State returns the committed state of bucket's log; a bucket with no
	// log has an empty one (leaf count 0, the empty root).
	State(bucket core.BucketID) (State, error)

	// Buckets lists the buckets that have a log, in increasing order.
	Buckets() ([]core.BucketID, error)

	// Leaves returns up to limit leaves from seq from on, each with the
	// writer's signature it was appended with.
	Leaves(bucket core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error)

	// Leaf returns the signed leaf at seq; kind NotFound past the log.
	Leaf(bucket core.BucketID, seq uint64) (core.SignedLeaf, error)

	// RootAt returns the MMR root of the log's first leafCount leaves; kind
	// NotFound if the log is shorter.
	RootAt(bucket core.BucketID, leafCount uint64) (mmr.Hash, error)

	// RootAfter returns the root the log would have if leaves were appended
	// to it now, without appending them: a syncing provider checks a page
	// of a peer's leaves against the peer's signed root before it takes
	// any. The leaves must continue the log (the first at its next seq,
	// consecutive); kind Conflict if they do not.
	RootAfter(bucket core.BucketID, leaves []core.Leaf) (mmr.Hash, error)

	// Proof proves leaf leafIndex against RootAt(leafCount).
	Proof(bucket core.BucketID, leafIndex, leafCount uint64) (*mmr.InclusionProof, error)

	// ConsistencyProof proves that RootAt(newCount) extends RootAt(oldCount).
	ConsistencyProof(bucket core.BucketID, oldCount, newCount uint64) (*mmr.ConsistencyProof, error)

	// HasBlob reports whether bucket's log holds a leaf with that content
	// hash, whose bytes were verified for this bucket. A blob stored only
	// for another bucket does not count.
	HasBlob(bucket core.BucketID, hash core.H256) (bool, error)

	// OpenBlob opens a blob that bucket's log references; kind NotFound if
	// the log holds no leaf with that content hash, kind Corrupt if its
	// bytes are missing. It streams from storage; the caller closes it.
	OpenBlob(bucket core.BucketID, hash core.H256) (*Blob, error)

	// UseNonce records a signed read's nonce for bucket until its expiry;
	// kind Unauthorized if it is already recorded (a replay). Read nonces
	// survive a restart like write nonces.
	UseNonce(bucket core.BucketID, n Nonce) error

	// PruneNonces forgets write and read nonces that expired before t and
	// returns how many it dropped.
	PruneNonces(t time.Time) (int, error)

	// Close releases the store. Calls after Close fail with kind Unavailable.
	Close() error
}

// Write is one append.
type Write struct {
	// Leaf is the write (its seq, the SHA-256 of the blob and its size)
	// with the signature of the bucket writer who wrote it.
	Leaf core.SignedLeaf
	// Data supplies exactly Leaf.Size bytes of the blob; Append reads no
	// more. Nil is allowed only when this bucket's log already holds the
	// blob (HasBlob), as for a retried write; it is then not read.
	Data io.Reader
	// Bytes, if not nil, is the blob itself, used instead of Data: a
	// caller holding the blob in memory saves Append a copy. Append keeps
	// no reference to it once it returns.
	Bytes []byte
	// MaxBytes bounds the sum of the leaf sizes of the log after this write
	// (the agreement's max bytes). Zero admits only empty blobs.
	MaxBytes uint64
	// Nonce, if set, is recorded with the write and refused if already
	// recorded (replay protection for signed writes).
	Nonce *Nonce
}

// Nonce identifies a signed request (a write or a read) until its expiry.
type Nonce struct {
	Writer core.AccountID
	Value  [16]byte
	Expiry int64 // unix seconds
}

// Appended is the answer to an append.
type Appended struct {
	Leaf      core.Leaf
	LeafIndex uint64   // seq - start_seq
	LeafCount uint64   // the log's leaf count just after this leaf
	Root      mmr.Hash // RootAt(LeafCount)
	Existing  bool     // the leaf was already there; nothing was written
}

// State is a log's committed state.
type State struct {
	Bucket    core.BucketID
	StartSeq  uint64
	LeafCount uint64
	Bytes     uint64 // sum of leaf sizes (blobs shared with other leaves count again)
	Root      mmr.Hash
}

// NextSeq is the seq the next write must name.
func (s State) NextSeq() uint64 { return s.StartSeq + s.LeafCount }

// Blob is an open blob: it reads, seeks and reads at offsets (Size is its
// length) straight from where the store keeps the bytes, without loading
// the blob into memory. Close it when done.
type Blob struct {
	*io.SectionReader
	closer io.Closer
}

// Close releases the blob.
func (b *Blob) Close() error {
	if b.closer == nil {
		return nil
	}
	c := b.closer
	b.closer = nil
	return c.Close()
}

// QuotaError says a write would take the log past its max bytes.
type QuotaError struct {
	Used, Size, Max uint64
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("write of %d bytes would take the bucket from %d to past its quota of %d bytes", e.Size, e.Used, e.Max)
}

// Options configure a store.
type Options struct {
	// MaxBlobSize is the largest blob Append accepts (default 64 MiB; the
	// provider's own, lower, limit is enforced before the store).
	MaxBlobSize uint64
	// NoSync commits appends without fsync. Benchmarks only: an append is
	// then not durable when Append returns.
	NoSync bool
	// HoldAhead and HoldFor: an append at most HoldAhead seqs past the
	// log's next one waits up to HoldFor for the appends before it to be
	// staged before it is refused as behind (defaults 8 and 250 ms; a
	// negative HoldAhead holds none). A client so keeps several writes in
	// flight, and they commit as one group (hold.go).
	HoldAhead int
	HoldFor   time.Duration
}

// DefaultMaxBlobSize is Options.MaxBlobSize's default.
const DefaultMaxBlobSize = 64 << 20

func (o Options) withDefaults() Options {
	if o.MaxBlobSize == 0 {
		o.MaxBlobSize = DefaultMaxBlobSize
	}
	if o.HoldAhead == 0 {
		o.HoldAhead = 8
	}
	if o.HoldFor == 0 {
		o.HoldFor = 250 * time.Millisecond
	}
	return o
}
