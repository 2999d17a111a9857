// Package storetest is the conformance suite of provider/store.Store: every
// implementation runs it (store_test.go runs it against memory and Pebble).
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/provider/store"
)

// Harness opens stores for the suite.
type Harness struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) store.Store
	// Reopen closes s and opens the same storage again. Nil for stores
	// that do not persist; the persistence tests are then skipped.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Unlimited is a MaxBytes that never refuses.
const Unlimited = ^uint64(0)

// Blob returns deterministic test data of n bytes.
func Blob(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// Writer is the key the suite's writes are signed with.
var Writer, _ = core.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

// ChainID is the chain the suite's leaves are signed for.
const ChainID = "storetest"

// Write builds the write of data at seq, its leaf signed by Writer for
// bucket 1 on ChainID (the store keeps the signature without checking it).
func Write(seq uint64, data []byte) store.Write {
	return SignedWrite(Writer, ChainID, 1, seq, data)
}

// SignedWrite builds the write of data at seq of bucket b, its leaf signed
// by k for b on chainID.
func SignedWrite(k core.PrivateKey, chainID string, b core.BucketID, seq uint64, data []byte) store.Write {
	lf := core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))}
	sl, err := core.SignLeaf(k, chainID, b, lf)
	if err != nil {
		panic(err) // a valid chain id and bucket always sign
	}
	return store.Write{Leaf: sl, Data: bytes.NewReader(data), MaxBytes: Unlimited}
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	open := func(t *testing.T) store.Store {
		s := h.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("AppendAndRead", func(t *testing.T) { testAppendAndRead(t, open(t)) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, open(t)) })
	t.Run("RootAfter", func(t *testing.T) { testRootAfter(t, open(t)) })
	t.Run("SeqConflicts", func(t *testing.T) { testSeqConflicts(t, open(t)) })
	t.Run("Nonces", func(t *testing.T) { testNonces(t, open(t)) })
	t.Run("Quota", func(t *testing.T) { testQuota(t, open(t)) })
	t.Run("BadData", func(t *testing.T) { testBadData(t, open(t)) })
	t.Run("Bytes", func(t *testing.T) { testBytes(t, open(t)) })
	t.Run("Dedup", func(t *testing.T) { testDedup(t, open(t)) })
	t.Run("BlobReads", func(t *testing.T) { testBlobReads(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("ConcurrentOneBucket", func(t *testing.T) { testConcurrentOneBucket(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, h.New(t)) })
	t.Run("Reopen", func(t *testing.T) {
		if h.Reopen == nil {
			t.Skip("store does not persist")
		}
		testReopen(t, h)
	})
}

func wantKind(t *testing.T, err error, k core.Kind) {
	t.Helper()
	if core.KindOf(err) != k {
		t.Fatalf("error %v: kind %v, want %v", err, core.KindOf(err), k)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var emptyRoot = func() mmr.Hash {
	m, _ := mmr.New(mmr.NewMemStore())
	r, _ := m.Root()
	return r
}()

func testEmpty(t *testing.T, s store.Store) {
	st := must[store.State](t)(s.State(7))
	if st.LeafCount != 0 || st.StartSeq != 0 || st.Bytes != 0 || st.Root != emptyRoot || st.Bucket != 7 {
		t.Fatalf("empty state %+v", st)
	}
	if bs := must[[]core.BucketID](t)(s.Buckets()); len(bs) != 0 {
		t.Fatalf("buckets %v", bs)
	}
	if ls := must[[]core.SignedLeaf](t)(s.Leaves(7, 0, 10)); len(ls) != 0 {
		t.Fatalf("leaves %v", ls)
	}
	if r := must[mmr.Hash](t)(s.RootAt(7, 0)); r != emptyRoot {
		t.Fatalf("root at 0: %s", r)
	}
	_, err := s.RootAt(7, 1)
	wantKind(t, err, core.NotFound)
	_, err = s.Leaf(7, 0)
	wantKind(t, err, core.NotFound)
	_, err = s.Proof(7, 0, 1)
	wantKind(t, err, core.NotFound)
	_, err = s.OpenBlob(7, core.Sum256(nil))
	wantKind(t, err, core.NotFound)
	_, err = s.Append(0, Write(0, []byte("x")))
	wantKind(t, err, core.Invalid)
}

func testAppendAndRead(t *testing.T, s store.Store) {
	const b = core.BucketID(3)
	ref, _ := mmr.New(mmr.NewMemStore())
	sizes := []int{0, 1, 100, 4096, 70000, 5, 5, 1 << 20, 17, 256 << 10, 3}
	var total uint64
	var leaves []core.SignedLeaf
	for i, n := range sizes {
		data := Blob(i, n)
		w := SignedWrite(Writer, ChainID, b, uint64(i), data)
		a := must[store.Appended](t)(s.Append(b, w))
		ref.Append(w.Leaf.Bytes())
		root, _ := ref.Root()
		if a.Existing || a.Leaf != w.Leaf.Leaf || a.LeafIndex != uint64(i) || a.LeafCount != uint64(i+1) || a.Root != root {
			t.Fatalf("append %d: %+v, want root %s", i, a, root)
		}
		total += uint64(n)
		leaves = append(leaves, w.Leaf)
	}
	st := must[store.State](t)(s.State(b))
	root, _ := ref.Root()
	if st.LeafCount != uint64(len(sizes)) || st.Bytes != total || st.Root != root || st.NextSeq() != uint64(len(sizes)) {
		t.Fatalf("state %+v, want %d leaves %d bytes root %s", st, len(sizes), total, root)
	}
	if bs := must[[]core.BucketID](t)(s.Buckets()); len(bs) != 1 || bs[0] != b {
		t.Fatalf("buckets %v", bs)
	}
	got := must[[]core.SignedLeaf](t)(s.Leaves(b, 2, 4))
	if fmt.Sprint(got) != fmt.Sprint(leaves[2:6]) {
		t.Fatalf("leaves 2..6: %v, want %v", got, leaves[2:6])
	}
	got = must[[]core.SignedLeaf](t)(s.Leaves(b, 9, 100))
	if fmt.Sprint(got) != fmt.Sprint(leaves[9:]) {
		t.Fatalf("leaves 9..: %v", got)
	}
	for i, lf := range leaves {
		l := must[core.SignedLeaf](t)(s.Leaf(b, uint64(i)))
		if l != lf {
			t.Fatalf("leaf %d: %v want %v", i, l, lf)
		}
		if err := l.Verify(ChainID, b); err != nil {
			t.Fatalf("leaf %d: the writer's signature does not round-trip: %v", i, err)
		}
		blob := must[*store.Blob](t)(s.OpenBlob(b, lf.ContentHash))
		data, err := io.ReadAll(blob)
		blob.Close()
		if err != nil || !bytes.Equal(data, Blob(i, sizes[i])) {
			t.Fatalf("blob %d: %d bytes, err %v", i, len(data), err)
		}
	}
	for n := uint64(1); n <= uint64(len(leaves)); n++ {
		r := must[mmr.Hash](t)(s.RootAt(b, n))
		if want, _ := ref.RootAt(n); r != want {
			t.Fatalf("root at %d: %s, want %s", n, r, want)
		}
		for i := uint64(0); i < n; i++ {
			p := must[*mmr.InclusionProof](t)(s.Proof(b, i, n))
			if err := mmr.VerifyInclusion(r, n, i, mmr.LeafHash(leaves[i].Bytes()), p); err != nil {
				t.Fatalf("proof of %d at %d: %v", i, n, err)
			}
		}
		for old := uint64(0); old <= n; old++ {
			p := must[*mmr.ConsistencyProof](t)(s.ConsistencyProof(b, old, n))
			oldRoot := must[mmr.Hash](t)(s.RootAt(b, old))
			if err := mmr.VerifyConsistency(oldRoot, old, r, n, p); err != nil {
				t.Fatalf("consistency %d -> %d: %v", old, n, err)
			}
		}
	}
	_, err := s.Proof(b, 3, 3)
	wantKind(t, err, core.Invalid)
	_, err = s.ConsistencyProof(b, 5, 4)
	wantKind(t, err, core.Invalid)
	_, err = s.ConsistencyProof(b, 1, uint64(len(leaves)+1))
	wantKind(t, err, core.NotFound)
	_, err = s.Leaves(b, 0, -1)
	wantKind(t, err, core.Invalid)
}

func testIdempotent(t *testing.T, s store.Store) {
	const b = core.BucketID(1)
	var first []store.Appended
	for i := range 5 {
		first = append(first, must[store.Appended](t)(s.Append(b, Write(uint64(i), Blob(i, 10+i)))))
	}
	before := must[store.State](t)(s.State(b))
	for i := range 5 {
		w := Write(uint64(i), Blob(i, 10+i))
		w.Data = nil // a retry need not be read again
		a := must[store.Appended](t)(s.Append(b, w))
		want := first[i]
		want.Existing = true
		if a != want {
			t.Fatalf("retry of %d: %+v, want %+v", i, a, want)
		}
	}
	if after := must[store.State](t)(s.State(b)); after != before {
		t.Fatalf("retries changed the state: %+v -> %+v", before, after)
	}
	// The same leaf signed by another writer is the same write: the
	// first signature stays.
	other, _ := core.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	first0 := must[core.SignedLeaf](t)(s.Leaf(b, 0))
	w := SignedWrite(other, ChainID, b, 0, Blob(0, 10))
	if a := must[store.Appended](t)(s.Append(b, w)); !a.Existing {
		t.Fatalf("re-signed leaf appended anew: %+v", a)
	}
	if got := must[core.SignedLeaf](t)(s.Leaf(b, 0)); got != first0 {
		t.Fatalf("re-signed leaf replaced the first signature: %+v, want %+v", got, first0)
	}
}

func testSeqConflicts(t *testing.T, s store.Store) {
	const b = core.BucketID(2)
	must[store.Appended](t)(s.Append(b, Write(0, []byte("zero"))))
	must[store.Appended](t)(s.Append(b, Write(1, []byte("one"))))
	_, err := s.Append(b, Write(1, []byte("other")))
	wantKind(t, err, core.Conflict)
	_, err = s.Append(b, Write(5, []byte("five")))
	wantKind(t, err, core.Conflict)
	var gap *core.BehindError
	if !errors.As(err, &gap) || gap.LeafCount != 2 || gap.Seq != 5 {
		t.Fatalf("gap error %v", err)
	}
	if st := must[store.State](t)(s.State(b)); st.LeafCount != 2 {
		t.Fatalf("refusals changed the state: %+v", st)
	}
}

func testNonces(t *testing.T, s store.Store) {
	const b = core.BucketID(4)
	exp := time.Now().Add(time.Minute).Unix()
	n := &store.Nonce{Writer: core.AccountID{1}, Value: [16]byte{9}, Expiry: exp}
	w := Write(0, []byte("a"))
	w.Nonce = n
	must[store.Appended](t)(s.Append(b, w))
	// The same signed write again is a replay, though it would change nothing.
	w = Write(0, []byte("a"))
	w.Nonce = n
	_, err := s.Append(b, w)
	wantKind(t, err, core.Unauthorized)
	// A retry with a fresh nonce gets the first answer.
	w.Nonce = &store.Nonce{Writer: n.Writer, Value: [16]byte{10}, Expiry: exp}
	if a := must[store.Appended](t)(s.Append(b, w)); !a.Existing {
		t.Fatal("retry was not reported as existing")
	}
	// A new write with a used nonce is a replay.
	w = Write(1, []byte("b"))
	w.Nonce = n
	_, err = s.Append(b, w)
	wantKind(t, err, core.Unauthorized)
	// Another writer, or another bucket, with the same nonce value is not.
	w.Nonce = &store.Nonce{Writer: core.AccountID{2}, Value: n.Value, Expiry: exp}
	must[store.Appended](t)(s.Append(b, w))
	w = Write(0, []byte("c"))
	w.Nonce = n
	must[store.Appended](t)(s.Append(b+1, w))
	// Pruning before the expiry keeps it; after, forgets it.
	if k, err := s.PruneNonces(time.Unix(exp, 0)); err != nil || k != 0 {
		t.Fatalf("prune at expiry dropped %d (%v)", k, err)
	}
	w = Write(2, []byte("d"))
	w.Nonce = n
	_, err = s.Append(b, w)
	wantKind(t, err, core.Unauthorized)
	if k, err := s.PruneNonces(time.Unix(exp+1, 0)); err != nil || k != 3 {
		t.Fatalf("prune after expiry dropped %d, want 3 (%v)", k, err)
	}
	w = Write(2, []byte("d"))
	w.Nonce = n
	must[store.Appended](t)(s.Append(b, w))

	// Read nonces: used once, refused again until they expire.
	rn := store.Nonce{Writer: core.AccountID{5}, Value: [16]byte{11}, Expiry: exp}
	if err := s.UseNonce(b, rn); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.UseNonce(b, rn), core.Unauthorized)
	if err := s.UseNonce(b+1, rn); err != nil {
		t.Fatalf("the same nonce for another bucket: %v", err)
	}
	// The last write's nonce and the two read nonces.
	if k, err := s.PruneNonces(time.Unix(exp+1, 0)); err != nil || k != 3 {
		t.Fatalf("prune of read nonces dropped %d, want 3 (%v)", k, err)
	}
	if err := s.UseNonce(b, rn); err != nil {
		t.Fatalf("nonce after its expiry was pruned: %v", err)
	}
}

func testQuota(t *testing.T, s store.Store) {
	const b = core.BucketID(5)
	w := Write(0, Blob(1, 60))
	w.MaxBytes = 100
	must[store.Appended](t)(s.Append(b, w))
	w = Write(1, Blob(2, 41))
	w.MaxBytes = 100
	_, err := s.Append(b, w)
	wantKind(t, err, core.Invalid)
	var q *store.QuotaError
	if !errors.As(err, &q) || q.Used != 60 || q.Size != 41 || q.Max != 100 {
		t.Fatalf("quota error %v", err)
	}
	w = Write(1, Blob(2, 40))
	w.MaxBytes = 100
	must[store.Appended](t)(s.Append(b, w))
	w = Write(2, nil)
	w.MaxBytes = 100
	must[store.Appended](t)(s.Append(b, w)) // an empty blob always fits
	if st := must[store.State](t)(s.State(b)); st.Bytes != 100 || st.LeafCount != 3 {
		t.Fatalf("state %+v", st)
	}
}

func testBadData(t *testing.T, s store.Store) {
	const b = core.BucketID(6)
	data := Blob(3, 1000)
	w := Write(0, data)
	w.Data = bytes.NewReader(Blob(4, 1000))
	_, err := s.Append(b, w)
	wantKind(t, err, core.Corrupt)
	w = Write(0, data)
	w.Data = bytes.NewReader(data[:999])
	_, err = s.Append(b, w)
	wantKind(t, err, core.Invalid)
	w = Write(0, data)
	w.Data = io.MultiReader(bytes.NewReader(data[:10]), errReader{core.E("test", core.Unavailable, errors.New("peer hung up"))})
	_, err = s.Append(b, w)
	wantKind(t, err, core.Unavailable)
	w = Write(0, data)
	w.Data = nil
	_, err = s.Append(b, w)
	wantKind(t, err, core.Invalid)
	if st := must[store.State](t)(s.State(b)); st.LeafCount != 0 {
		t.Fatalf("refused writes changed the state: %+v", st)
	}
	if ok := must[bool](t)(s.HasBlob(b, core.Sum256(data))); ok {
		t.Fatal("a refused blob was stored")
	}
	// The seq is still free, and the MMR is intact.
	a := must[store.Appended](t)(s.Append(b, Write(0, data)))
	ref, _ := mmr.New(mmr.NewMemStore())
	ref.Append(a.Leaf.Bytes())
	if r, _ := ref.Root(); a.Root != r {
		t.Fatalf("root after refusals %s, want %s", a.Root, r)
	}
	w = Write(1, Blob(1, 10))
	w.Leaf.Size = store.DefaultMaxBlobSize + 1
	_, err = s.Append(b, w)
	wantKind(t, err, core.Invalid)
}

// testBytes: a blob given as Write.Bytes is checked as one given as Data
// (wrong bytes: Corrupt; wrong length: Invalid), and once appended the
// store holds its own copy: the caller may reuse the buffer.
func testBytes(t *testing.T, s store.Store) {
	const b = core.BucketID(7)
	data := Blob(5, 1000)
	for _, tc := range []struct {
		bytes []byte
		kind  core.Kind
	}{{Blob(6, 1000), core.Corrupt}, {data[:999], core.Invalid}, {append(bytes.Clone(data), 0), core.Invalid}} {
		w := Write(0, data)
		w.Data, w.Bytes = nil, tc.bytes
		_, err := s.Append(b, w)
		wantKind(t, err, tc.kind)
	}
	buf := bytes.Clone(data)
	w := Write(0, data)
	w.Data, w.Bytes = errReader{errors.New("read Data though Bytes was set")}, buf
	must[store.Appended](t)(s.Append(b, w))
	clear(buf)
	wantBlob(t, s, b, data)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// testDedup: a blob shared by two buckets is stored once, but each bucket
// must supply (and so prove it has) the bytes itself: a leaf naming a hash
// that only another bucket holds is refused without its data.
func testDedup(t *testing.T, s store.Store) {
	data := Blob(8, 5000)
	h := core.Sum256(data)
	must[store.Appended](t)(s.Append(10, Write(0, data)))
	if _, err := s.OpenBlob(11, h); core.KindOf(err) != core.NotFound {
		t.Fatalf("bucket 11 reads bucket 10's blob: %v", err)
	}
	if ok := must[bool](t)(s.HasBlob(10, h)); !ok {
		t.Fatal("HasBlob: false after append")
	}
	if ok := must[bool](t)(s.HasBlob(11, h)); ok {
		t.Fatal("HasBlob: bucket 11 holds bucket 10's blob")
	}
	w := Write(0, data)
	w.Data = nil // stored for bucket 10 only: not enough for bucket 11
	_, err := s.Append(11, w)
	wantKind(t, err, core.Invalid)
	if _, err := s.OpenBlob(11, h); core.KindOf(err) != core.NotFound {
		t.Fatalf("a refused append lets bucket 11 read bucket 10's blob: %v", err)
	}
	w = Write(0, Blob(9, 5000))
	w.Leaf.ContentHash = h // bytes that do not hash to the shared blob
	_, err = s.Append(11, w)
	wantKind(t, err, core.Corrupt)
	must[store.Appended](t)(s.Append(11, Write(0, data)))
	if ok := must[bool](t)(s.HasBlob(11, h)); !ok {
		t.Fatal("HasBlob: false after bucket 11 supplied the bytes")
	}
	blob := must[*store.Blob](t)(s.OpenBlob(11, h))
	defer blob.Close()
	if got, _ := io.ReadAll(blob); !bytes.Equal(got, data) {
		t.Fatal("deduplicated blob reads back wrong")
	}
	if blob.Size() != int64(len(data)) {
		t.Fatalf("blob size %d", blob.Size())
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const buckets, writes = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, buckets*3)
	for b := 1; b <= buckets; b++ {
		wg.Add(2)
		go func() { // a writer: each write sent twice, as racing retries
			defer wg.Done()
			for i := range writes {
				for range 2 {
					if _, err := s.Append(core.BucketID(b), Write(uint64(i), Blob(b*1000+i, 100+i))); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		go func() { // a reader proving whatever is committed
			defer wg.Done()
			for range writes {
				st, err := s.State(core.BucketID(b))
				if err != nil {
					errs <- err
					return
				}
				for i := uint64(0); i < st.LeafCount; i++ {
					p, err := s.Proof(core.BucketID(b), i, st.LeafCount)
					if err != nil {
						errs <- err
						return
					}
					lf, _ := s.Leaf(core.BucketID(b), i)
					if err := mmr.VerifyInclusion(st.Root, st.LeafCount, i, mmr.LeafHash(lf.Bytes()), p); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for b := 1; b <= buckets; b++ {
		if st := must[store.State](t)(s.State(core.BucketID(b))); st.LeafCount != writes {
			t.Fatalf("bucket %d: %d leaves", b, st.LeafCount)
		}
	}
}

// testConcurrentOneBucket: writers with consecutive seqs in flight to one
// bucket at once (which a store may commit as a group) each get the
// answer of their own leaf, and the log ends as if they had been appended
// one by one. A write that arrives before the one it follows gets a seq
// gap and is sent again, as a client does.
func testConcurrentOneBucket(t *testing.T, s store.Store) {
	const b, writers, writes = core.BucketID(14), 4, 40
	seqs := make(chan uint64)
	errs := make(chan error, writers)
	answers := make([]store.Appended, writes)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range seqs {
				for {
					a, err := s.Append(b, SignedWrite(Writer, ChainID, b, seq, Blob(int(seq), 500+int(seq))))
					var gap *core.BehindError
					if errors.As(err, &gap) {
						runtime.Gosched()
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					answers[seq] = a
					break
				}
			}
		}()
	}
	for i := range uint64(writes) {
		seqs <- i
	}
	close(seqs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ref, _ := mmr.New(mmr.NewMemStore())
	for i, a := range answers {
		w := SignedWrite(Writer, ChainID, b, uint64(i), Blob(i, 500+i))
		ref.Append(w.Leaf.Bytes())
		root, _ := ref.Root()
		if a.Existing || a.Leaf != w.Leaf.Leaf || a.LeafIndex != uint64(i) || a.LeafCount != uint64(i+1) || a.Root != root {
			t.Fatalf("write %d answered %+v, want root %s", i, a, root)
		}
		wantBlob(t, s, b, Blob(i, 500+i))
	}
	root, _ := ref.Root()
	if st := must[store.State](t)(s.State(b)); st.LeafCount != writes || st.Root != root {
		t.Fatalf("state %+v, want %d leaves and root %s", st, writes, root)
	}
}

func testClosed(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Append(1, Write(0, []byte("x")))
	wantKind(t, err, core.Unavailable)
	_, err = s.State(1)
	wantKind(t, err, core.Unavailable)
	_, err = s.OpenBlob(1, core.H256{})
	wantKind(t, err, core.Unavailable)
}

func testReopen(t *testing.T, h Harness) {
	s := h.New(t)
	const b = core.BucketID(9)
	for i := range 7 {
		must[store.Appended](t)(s.Append(b, Write(uint64(i), Blob(i, 300))))
	}
	n := &store.Nonce{Writer: core.AccountID{3}, Value: [16]byte{1}, Expiry: time.Now().Add(time.Hour).Unix()}
	w := Write(7, Blob(7, 300))
	w.Nonce = n
	must[store.Appended](t)(s.Append(b, w))
	before := must[store.State](t)(s.State(b))
	rn := store.Nonce{Writer: core.AccountID{4}, Value: [16]byte{2}, Expiry: time.Now().Add(time.Hour).Unix()}
	if err := s.UseNonce(b, rn); err != nil {
		t.Fatal(err)
	}
	first := must[core.SignedLeaf](t)(s.Leaf(b, 2))
	s = h.Reopen(t, s)
	t.Cleanup(func() { s.Close() })
	after := must[store.State](t)(s.State(b))
	if after != before {
		t.Fatalf("state after reopen %+v, want %+v", after, before)
	}
	if got := must[core.SignedLeaf](t)(s.Leaf(b, 2)); got != first || got.Verify(ChainID, 1) != nil {
		t.Fatalf("signed leaf after reopen %+v, want %+v", got, first)
	}
	wantKind(t, s.UseNonce(b, rn), core.Unauthorized) // read nonces survive a restart
	w = Write(8, Blob(8, 300))
	w.Nonce = n
	_, err := s.Append(b, w)
	wantKind(t, err, core.Unauthorized) // nonces survive a restart
	w.Nonce = nil
	a := must[store.Appended](t)(s.Append(b, w))
	ref, _ := mmr.New(mmr.NewMemStore())
	for i := range 9 {
		ref.Append(Write(uint64(i), Blob(i, 300)).Leaf.Bytes())
	}
	if r, _ := ref.Root(); a.Root != r {
		t.Fatalf("root after reopen and append %s, want %s", a.Root, r)
	}
	p := must[*mmr.InclusionProof](t)(s.Proof(b, 3, 9))
	if err := mmr.VerifyInclusion(a.Root, 9, 3, mmr.LeafHash(Write(3, Blob(3, 300)).Leaf.Bytes()), p); err != nil {
		t.Fatal(err)
	}
	// Blobs written before and after the reopen read back whole.
	for i := range 9 {
		wantBlob(t, s, b, Blob(i, 300))
	}
}

// wantBlob reads bucket b's blob of data through OpenBlob and checks it.
func wantBlob(t *testing.T, s store.Store, b core.BucketID, data []byte) {
	t.Helper()
	blob := must[*store.Blob](t)(s.OpenBlob(b, core.Sum256(data)))
	defer blob.Close()
	got, err := io.ReadAll(blob)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob of %d bytes reads back %d bytes (%v)", len(data), len(got), err)
	}
}

// testBlobReads: an open blob is a reader, a seeker and a reader at
// offsets over exactly its bytes (HTTP range requests use all three), and
// blobs written one after another, open at once, do not bleed into each
// other.
func testBlobReads(t *testing.T, s store.Store) {
	const b = core.BucketID(13)
	datas := [][]byte{Blob(1, 3<<20+17), Blob(2, 1), Blob(3, 70000)}
	for i, d := range datas {
		must[store.Appended](t)(s.Append(b, SignedWrite(Writer, ChainID, b, uint64(i), d)))
	}
	var open []*store.Blob
	for _, d := range datas {
		blob := must[*store.Blob](t)(s.OpenBlob(b, core.Sum256(d)))
		defer blob.Close()
		open = append(open, blob)
		if blob.Size() != int64(len(d)) {
			t.Fatalf("blob size %d, want %d", blob.Size(), len(d))
		}
	}
	for i, d := range datas {
		blob := open[i]
		for _, off := range []int64{0, int64(len(d)) / 2, int64(len(d)) - 1} {
			buf := make([]byte, min(4096, int64(len(d))-off))
			if n, err := blob.ReadAt(buf, off); n != len(buf) || (err != nil && err != io.EOF) || !bytes.Equal(buf, d[off:off+int64(len(buf))]) {
				t.Fatalf("blob %d: ReadAt(%d) = %d, %v", i, off, n, err)
			}
		}
		if n, err := blob.ReadAt(make([]byte, 1), int64(len(d))); n != 0 || err != io.EOF {
			t.Fatalf("blob %d: ReadAt past the end = %d, %v: want 0, EOF", i, n, err)
		}
		if _, err := blob.Seek(-1, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if rest, err := io.ReadAll(blob); err != nil || !bytes.Equal(rest, d[len(d)-1:]) {
			t.Fatalf("blob %d: the last byte after Seek: %x, %v", i, rest, err)
		}
		if _, err := blob.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if all, err := io.ReadAll(blob); err != nil || !bytes.Equal(all, d) {
			t.Fatalf("blob %d: %d bytes after Seek to the start, %v", i, len(all), err)
		}
	}
}

func testRootAfter(t *testing.T, s store.Store) {
	const b = core.BucketID(12)
	var ws []store.Write
	for i := range 11 {
		ws = append(ws, Write(uint64(i), Blob(i, 10+i)))
	}
	leaves := func(from, to int) []core.Leaf {
		var out []core.Leaf
		for _, w := range ws[from:to] {
			out = append(out, w.Leaf.Leaf)
		}
		return out
	}
	// From empty, then from every prefix: the preview equals the root after
	// really appending, and previewing changes nothing.
	for n := 0; n <= len(ws); n++ {
		if n > 0 {
			must[store.Appended](t)(s.Append(b, ws[n-1]))
		}
		before := must[store.State](t)(s.State(b))
		for to := n; to <= len(ws); to++ {
			got := must[mmr.Hash](t)(s.RootAfter(b, leaves(n, to)))
			ref, _ := mmr.New(mmr.NewMemStore())
			for _, lf := range leaves(0, to) {
				ref.Append(lf.Bytes())
			}
			if want, _ := ref.Root(); got != want {
				t.Fatalf("RootAfter(%d..%d) = %s, want %s", n, to, got, want)
			}
		}
		if after := must[store.State](t)(s.State(b)); after != before {
			t.Fatalf("RootAfter changed the state: %+v -> %+v", before, after)
		}
	}
	_, err := s.RootAfter(b, leaves(3, 5))
	wantKind(t, err, core.Conflict)
	bad := leaves(0, 2)
	bad[0].Seq = 11
	_, err = s.RootAfter(b, bad)
	wantKind(t, err, core.Conflict)
}
