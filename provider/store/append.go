package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Append is Store.Append: check the write, then stage it under the
// bucket's write lock (refuse a used nonce, place the seq after the log's
// committed and staged leaves - a repeat is answered at once, or once the
// group holding it commits -, check the quota, write the blob's bytes and
// add the leaf, its MMR nodes, the new state and the nonce to the bucket's
// open group), then wait until the group's batch has committed (group.go).
// Concurrent appends to one bucket so share one blob sync and one synced
// batch, and none is answered before its batch is durable. Every step
// returns errors of op "store.Append".
func (d *db) Append(b core.BucketID, w Write) (Appended, error) {
	const op = "store.Append"
	leave, err := d.enter(op)
	if err != nil {
		return Appended{}, err
	}
	defer leave()
	if err := d.checkWrite(b, w.Leaf.Leaf); err != nil {
		return Appended{}, err
	}
	l := d.log(b, true)
	res, g, first, lead, err := d.stageHeld(l, w) // hold.go
	if err != nil || g == nil {
		return res, err
	}
	if first {
		d.lead(l, g, lead)
	}
	<-g.done
	if g.err != nil {
		return Appended{}, g.err
	}
	return res, nil
}

// stage adds w to l's open group (first: w opened it) and returns w's
// answer, which holds once the group commits. A write that already landed
// is answered with no group; one already staged, with the group that
// holds it.
func (d *db) stage(l *bucketLog, w Write) (res Appended, g *group, first bool, err error) {
	const op = "store.Append"
	lf := w.Leaf.Leaf
	if l.err != nil {
		return Appended{}, nil, false, core.E(op, core.Internal, l.err)
	}
	nk, err := d.unusedNonce(l, w.Nonce)
	if err != nil {
		return Appended{}, nil, false, err
	}
	st := l.tentative()
	if res, held, landed, err := d.placeSeq(l, st, lf); err != nil || landed {
		return res, held, false, err
	}
	if err := checkQuota(st, lf.Size, w.MaxBytes); err != nil {
		return Appended{}, nil, false, err
	}
	if st.LeafCount >= mmr.MaxLeafCount {
		return Appended{}, nil, false, core.Errorf(op, core.Invalid, "bucket %s: the log is full", l.id)
	}
	g, first = l.open, l.open == nil
	if first {
		g = newGroup()
	}
	wrote, err := d.stageBlob(g, l, w, lf)
	if err != nil {
		return Appended{}, nil, false, err
	}
	ns, err := d.stageLeaf(g, l, st, w.Leaf)
	if err != nil {
		return Appended{}, nil, false, err
	}
	if nk != nil {
		g.bt.set(nk, nil)
		g.nonces = append(g.nonces, string(nk))
		l.stagedNonces[string(nk)] = struct{}{}
	}
	g.syncBlobs = g.syncBlobs || wrote
	l.open = g
	return Appended{Leaf: lf, LeafIndex: st.LeafCount, LeafCount: ns.LeafCount, Root: ns.Root}, g, first, nil
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
// is recorded already or staged with another write. A nonce is refused
// even for a write that already landed: a retry is signed afresh, so only
// a replay reuses a nonce. No nonce: no key.
func (d *db) unusedNonce(l *bucketLog, n *Nonce) ([]byte, error) {
	const op = "store.Append"
	if n == nil {
		return nil, nil
	}
	nk := nonceKey(l.id, *n)
	_, seen := l.stagedNonces[string(nk)]
	if !seen {
		var err error
		if seen, err = d.kv.has(nk); err != nil {
			return nil, core.E(op, core.Internal, err)
		}
	}
	if seen {
		return nil, core.Errorf(op, core.Unauthorized, "nonce %x of %s was already used", n.Value, n.Writer.Short())
	}
	return nk, nil
}

// placeSeq checks lf.Seq against the log's state st, staged leaves
// included. The next free seq goes on (false, nil). A taken seq holding
// the same leaf is a write that already landed or is staged: (its first
// answer with Existing set, the group staging it or nil, true, nil); the
// first signature stays, whoever signed the repeat. A taken seq holding
// another leaf, a seq below start_seq, or one past the next free seq (a
// *core.BehindError) is kind Conflict.
func (d *db) placeSeq(l *bucketLog, st State, lf core.Leaf) (Appended, *group, bool, error) {
	const op = "store.Append"
	next := st.NextSeq()
	switch {
	case lf.Seq < st.StartSeq:
		return Appended{}, nil, false, core.Errorf(op, core.Conflict, "seq %d is below the log's start_seq %d", lf.Seq, st.StartSeq)
	case lf.Seq > next:
		return Appended{}, nil, false, core.E(op, core.Conflict, &core.BehindError{Seq: lf.Seq, LeafCount: next})
	case lf.Seq == next:
		return Appended{}, nil, false, nil
	}
	index := lf.Seq - st.StartSeq
	var have core.Leaf
	var root mmr.Hash
	var held *group
	if c := l.committed().LeafCount; index >= c {
		sl := l.staged[index-c]
		have, root, held = sl.leaf, sl.root, sl.g
	} else {
		sl, err := d.leafAt(l.id, index)
		if err != nil {
			return Appended{}, nil, false, core.E(op, core.KindOf(err), err)
		}
		have = sl.Leaf
		if root, err = l.tree().RootAt(index + 1); err != nil {
			return Appended{}, nil, false, core.E(op, core.Internal, err)
		}
	}
	if have != lf {
		return Appended{}, nil, false, core.Errorf(op, core.Conflict, "seq %d already holds blob %s of %d bytes, not %s of %d bytes", lf.Seq, have.ContentHash, have.Size, lf.ContentHash, lf.Size)
	}
	return Appended{Leaf: lf, LeafIndex: index, LeafCount: index + 1, Root: root, Existing: true}, held, true, nil
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
// the blob files (not yet synced: the group's commit does that before its
// batch) and adds their location and the blob's entry in bucket l's blob
// list to g's batch, unless l's own log already holds or stages a leaf
// with that hash. The data may be skipped only then, because only then
// were its bytes verified for this bucket. A blob stored for another
// bucket is not enough: a peer could list someone else's content hash in
// its own bucket's log and then read it through this one. Bytes another
// bucket already stored are not written twice. It reports whether it
// wrote bytes.
func (d *db) stageBlob(g *group, l *bucketLog, w Write, lf core.Leaf) (bool, error) {
	const op = "store.Append"
	h := lf.ContentHash
	if l.stagedBlobs[h] > 0 {
		return false, nil // a staged write verified it; if that write fails, this one fails with it
	}
	inBucket, err := d.kv.has(bucketBlobKey(l.id, h))
	if err != nil {
		return false, core.E(op, core.Internal, err)
	}
	if inBucket {
		return false, nil
	}
	if w.Data == nil && w.Bytes == nil {
		return false, core.Errorf(op, core.Invalid, "no data for blob %s, which bucket %s does not hold", h, l.id)
	}
	blob, err := readBlob(w, lf)
	if err != nil {
		return false, core.E(op, core.KindOf(err), err)
	}
	haveBlob, err := d.kv.has(blobKey(h))
	if err != nil {
		return false, core.E(op, core.Internal, err)
	}
	wrote := false
	if !haveBlob {
		loc, err := d.blobs.write(blob)
		if err != nil {
			return false, core.E(op, core.Internal, fmt.Errorf("writing blob %s: %w", h, err))
		}
		g.bt.set(blobKey(h), encodeBlobLoc(loc))
		wrote = true
	}
	g.bt.set(bucketBlobKey(l.id, h), nil)
	g.blobs = append(g.blobs, h)
	l.stagedBlobs[h]++
	return wrote, nil
}

// stageLeaf appends sl's leaf hash to the log's MMR, adds the signed leaf,
// the MMR nodes that made and the log's new state to g's batch, and stages
// the leaf in l; it returns the new state. The nodes wait in l.nodes until
// the group commits or fails.
func (d *db) stageLeaf(g *group, l *bucketLog, st State, sl core.SignedLeaf) (State, error) {
	b, lf := l.id, sl.Leaf
	m := l.tree()
	from := l.nodes.Size()
	if _, err := m.AppendHash(mmr.LeafHash(lf.Bytes())); err != nil {
		return State{}, core.E("store.Append", core.Internal, err) // not full (stage checked): cannot happen
	}
	g.bt.set(leafKey(b, st.LeafCount), encodeLeaf(sl))
	for pos := from; pos < l.nodes.Size(); pos++ {
		h, _ := l.nodes.Get(pos) // pending: in memory
		g.bt.set(nodeKey(b, pos), h[:])
	}
	root, _ := m.Root()
	ns := State{Bucket: b, StartSeq: st.StartSeq, LeafCount: st.LeafCount + 1, Bytes: st.Bytes + lf.Size, Root: root}
	g.bt.set(stateKey(b), encodeState(ns))
	g.leaves++
	g.nodeEnd = l.nodes.Size()
	g.ns = ns
	l.staged = append(l.staged, stagedLeaf{leaf: lf, root: root, g: g})
	l.tent = ns
	l.wake()
	return ns, nil
}

// readBlob reads exactly lf.Size bytes, from w.Bytes if set (no copy)
// else from w.Data, and checks their hash. lf.Size is within
// Options.MaxBlobSize (checkWrite).
func readBlob(w Write, lf core.Leaf) ([]byte, error) {
	const op = "store.readBlob"
	if w.Bytes != nil {
		if uint64(len(w.Bytes)) != lf.Size {
			return nil, core.Errorf(op, core.Invalid, "blob is %d bytes, not its size %d", len(w.Bytes), lf.Size)
		}
		return checkHash(w.Bytes, lf)
	}
	data := make([]byte, lf.Size)
	if _, err := io.ReadFull(w.Data, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, core.Errorf(op, core.Invalid, "blob is shorter than its size %d", lf.Size)
		}
		if k := core.KindOf(err); k != core.Other {
			return nil, core.E(op, k, err)
		}
		return nil, core.E(op, core.Invalid, fmt.Errorf("reading blob: %w", err))
	}
	return checkHash(data, lf)
}

func checkHash(data []byte, lf core.Leaf) ([]byte, error) {
	if sum := core.H256(sha256.Sum256(data)); sum != lf.ContentHash {
		return nil, core.Errorf("store.readBlob", core.Corrupt, "blob hashes to %s, not %s", sum, lf.ContentHash)
	}
	return data, nil
}
