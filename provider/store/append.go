package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Append is Store.Append: check the write, refuse a used nonce, place the
// seq in the log (a repeat answers at once), check the quota, then stage
// the blob, the leaf, its MMR nodes, the new state and the nonce in one
// batch and commit it. Every step returns errors of op "store.Append".
func (d *db) Append(b core.BucketID, w Write) (Appended, error) {
	const op = "store.Append"
	leave, err := d.enter(op)
	if err != nil {
		return Appended{}, err
	}
	defer leave()
	lf := w.Leaf.Leaf
	if err := d.checkWrite(b, lf); err != nil {
		return Appended{}, err
	}
	l := d.log(b, true)
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.err != nil {
		return Appended{}, core.E(op, core.Internal, l.err)
	}
	nk, err := d.unusedNonce(b, w.Nonce)
	if err != nil {
		return Appended{}, err
	}
	st := l.committed()
	if res, landed, err := d.placeSeq(l, st, lf); err != nil || landed {
		return res, err
	}
	if err := checkQuota(st, lf.Size, w.MaxBytes); err != nil {
		return Appended{}, err
	}
	var bt batch
	wrote, err := d.stageBlob(&bt, b, w.Data, lf)
	if err != nil {
		return Appended{}, err
	}
	ns, err := d.stageLeaf(&bt, l, st, w.Leaf)
	if err != nil {
		return Appended{}, err
	}
	if nk != nil {
		bt.set(nk, nil)
	}
	if err := d.commit(l, &bt, ns, wrote); err != nil {
		return Appended{}, err
	}
	return Appended{Leaf: lf, LeafIndex: st.LeafCount, LeafCount: ns.LeafCount, Root: ns.Root}, nil
}

// checkWrite refuses what no log could take: bucket 0, a blob over the
// store's size limit (checked before anything is read or allocated).
func (d *db) checkWrite(b core.BucketID, lf core.Leaf) error {
	const op = "store.Append"
	if b == 0 {
		return core.Errorf(op, core.Invalid, "bucket id 0 is not a bucket")
	}
	if lf.Size > d.opts.MaxBlobSize {
		return core.Errorf(op, core.Invalid, "blob of %d bytes is over the store's limit of %d", lf.Size, d.opts.MaxBlobSize)
	}
	return nil
}

// unusedNonce returns the key to record n under, or kind Unauthorized if n
// is recorded already. A nonce is refused even for a write that already
// landed: a retry is signed afresh, so only a replay reuses a nonce. No
// nonce: no key.
func (d *db) unusedNonce(b core.BucketID, n *Nonce) ([]byte, error) {
	const op = "store.Append"
	if n == nil {
		return nil, nil
	}
	nk := nonceKey(b, *n)
	seen, err := d.kv.has(nk)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	if seen {
		return nil, core.Errorf(op, core.Unauthorized, "nonce %x of %s was already used", n.Value, n.Writer.Short())
	}
	return nk, nil
}

// placeSeq checks lf.Seq against the log's committed state st. The next
// free seq goes on (false, nil). A taken seq holding the same leaf is a
// write that already landed: (its first answer with Existing set, true,
// nil); the first signature stays, whoever signed the repeat. A taken seq
// holding another leaf, a seq below start_seq, or one past the next free
// seq (a *SeqGapError) is kind Conflict.
func (d *db) placeSeq(l *bucketLog, st State, lf core.Leaf) (Appended, bool, error) {
	const op = "store.Append"
	next := st.NextSeq()
	switch {
	case lf.Seq < st.StartSeq:
		return Appended{}, false, core.Errorf(op, core.Conflict, "seq %d is below the log's start_seq %d", lf.Seq, st.StartSeq)
	case lf.Seq > next:
		return Appended{}, false, core.E(op, core.Conflict, &SeqGapError{Seq: lf.Seq, Next: next})
	case lf.Seq == next:
		return Appended{}, false, nil
	}
	index := lf.Seq - st.StartSeq
	have, err := d.leafAt(l.id, index)
	if err != nil {
		return Appended{}, false, core.E(op, core.KindOf(err), err)
	}
	if have.Leaf != lf {
		return Appended{}, false, core.Errorf(op, core.Conflict, "seq %d already holds blob %s of %d bytes, not %s of %d bytes", lf.Seq, have.ContentHash, have.Size, lf.ContentHash, lf.Size)
	}
	root, err := l.tree().RootAt(index + 1)
	if err != nil {
		return Appended{}, false, core.E(op, core.Internal, err)
	}
	return Appended{Leaf: lf, LeafIndex: index, LeafCount: index + 1, Root: root, Existing: true}, true, nil
}

// checkQuota refuses a blob of size that would take the log past maxBytes
// (kind Invalid with a *QuotaError), overflow included.
func checkQuota(st State, size, maxBytes uint64) error {
	if st.Bytes+size < st.Bytes || st.Bytes+size > maxBytes {
		return core.E("store.Append", core.Invalid, &QuotaError{Used: st.Bytes, Size: size, Max: maxBytes})
	}
	return nil
}

// stageBlob reads the blob from data and verifies it, writes its bytes to
// the blob files (not yet synced: commit does that before the batch) and
// adds their location and the blob's entry in bucket b's blob list to bt,
// unless b's own log already holds a leaf with that hash. The data may be
// skipped only then, because only then were its bytes verified for this
// bucket. A blob stored for another bucket is not enough: a peer could
// list someone else's content hash in its own bucket's log and then read
// it through this one. Bytes another bucket already stored are not
// written twice. It reports whether it wrote bytes.
func (d *db) stageBlob(bt *batch, b core.BucketID, data io.Reader, lf core.Leaf) (bool, error) {
	const op = "store.Append"
	inBucket, err := d.kv.has(bucketBlobKey(b, lf.ContentHash))
	if err != nil {
		return false, core.E(op, core.Internal, err)
	}
	if inBucket {
		return false, nil
	}
	if data == nil {
		return false, core.Errorf(op, core.Invalid, "no data for blob %s, which bucket %s does not hold", lf.ContentHash, b)
	}
	blob, err := readBlob(data, lf)
	if err != nil {
		return false, core.E(op, core.KindOf(err), err)
	}
	haveBlob, err := d.kv.has(blobKey(lf.ContentHash))
	if err != nil {
		return false, core.E(op, core.Internal, err)
	}
	wrote := false
	if !haveBlob {
		loc, err := d.blobs.write(blob)
		if err != nil {
			return false, core.E(op, core.Internal, fmt.Errorf("writing blob %s: %w", lf.ContentHash, err))
		}
		bt.set(blobKey(lf.ContentHash), encodeBlobLoc(loc))
		wrote = true
	}
	bt.set(bucketBlobKey(b, lf.ContentHash), nil)
	return wrote, nil
}

// stageLeaf appends sl's leaf hash to the log's MMR and adds the signed
// leaf, the MMR nodes that made and the log's new state to bt; it returns
// the new state. The nodes wait in l.nodes until commit writes them or
// discards them.
func (d *db) stageLeaf(bt *batch, l *bucketLog, st State, sl core.SignedLeaf) (State, error) {
	b, lf := l.id, sl.Leaf
	bt.set(leafKey(b, st.LeafCount), encodeLeaf(sl))
	m := l.tree()
	if _, err := m.AppendHash(mmr.LeafHash(lf.Bytes())); err != nil {
		l.nodes.discard()
		return State{}, core.E("store.Append", core.Invalid, err)
	}
	for i, h := range l.nodes.pending {
		bt.set(nodeKey(b, l.nodes.committed+uint64(i)), h[:])
	}
	root, _ := m.Root()
	ns := State{Bucket: b, StartSeq: st.StartSeq, LeafCount: st.LeafCount + 1, Bytes: st.Bytes + lf.Size, Root: root}
	bt.set(stateKey(b), encodeState(ns))
	return ns, nil
}

// commit makes the blob bytes staged for bt durable if syncBlobs, then
// applies bt in one batch (synced unless Options.NoSync) and makes ns the
// log's committed state. The bytes are synced first so that no index entry
// ever points at bytes a crash could lose; a crash between the two leaves
// bytes that nothing indexes. If the batch fails nothing was indexed:
// the staged MMR nodes are forgotten and the MMR's peaks rebuilt from what
// is stored; readers use the MMR without the append lock, so the rebuilt
// one is swapped in under l.mu. A log that cannot be rebuilt refuses
// further appends (l.err).
func (d *db) commit(l *bucketLog, bt *batch, ns State, syncBlobs bool) error {
	var err error
	if syncBlobs {
		err = d.blobs.sync()
	}
	if err == nil {
		err = d.kv.apply(bt, !d.opts.NoSync)
	}
	if err != nil {
		l.nodes.discard()
		if m, rerr := mmr.New(l.nodes); rerr != nil {
			l.err = fmt.Errorf("reopening the log after a failed commit: %w", rerr)
		} else {
			l.mu.Lock()
			l.mmr = m
			l.mu.Unlock()
		}
		return core.E("store.Append", core.Internal, err)
	}
	l.nodes.commit()
	l.mu.Lock()
	l.state = ns
	l.mu.Unlock()
	return nil
}

// readBlob reads exactly lf.Size bytes and checks their hash. lf.Size is
// within Options.MaxBlobSize (checkWrite).
func readBlob(r io.Reader, lf core.Leaf) ([]byte, error) {
	const op = "store.readBlob"
	data := make([]byte, lf.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, core.Errorf(op, core.Invalid, "blob is shorter than its size %d", lf.Size)
		}
		if k := core.KindOf(err); k != core.Other {
			return nil, core.E(op, k, err)
		}
		return nil, core.E(op, core.Invalid, fmt.Errorf("reading blob: %w", err))
	}
	if sum := core.H256(sha256.Sum256(data)); sum != lf.ContentHash {
		return nil, core.Errorf(op, core.Corrupt, "blob hashes to %s, not %s", sum, lf.ContentHash)
	}
	return data, nil
}
