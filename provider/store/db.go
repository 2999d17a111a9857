package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// NewMemory returns a Store in memory. It forgets everything on Close.
func NewMemory(o Options) Store {
	s, err := open(newMemKV(), &memBlobs{}, o)
	if err != nil {
		panic(err) // an empty memKV always opens
	}
	return s
}

// db is the Store over any kv.
type db struct {
	kv    kv
	blobs blobFiles // blob bytes; kv holds where they lie
	opts  Options

	closeMu sync.RWMutex // held for reading by every call, for writing by Close
	closed  bool

	mu   sync.Mutex
	logs map[core.BucketID]*bucketLog

	nonceMu sync.Mutex // makes UseNonce's check and record one step
}

// bucketLog is one bucket's log: its committed state, its MMR, and the
// appends staged past the committed state, waiting in groups for their
// batch to commit (group.go).
type bucketLog struct {
	id    core.BucketID
	wmu   sync.Mutex // serialises staging, and each group's outcome
	mu    sync.RWMutex
	state State // committed; guarded by mu, changed only under wmu too
	nodes *nodeStore
	mmr   *mmr.MMR // appended to under wmu; the pointer is replaced under mu (see tree)
	err   error    // set if the log could not be reopened after a failed commit

	// Guarded by wmu.
	staged       []stagedLeaf        // leaves from state.NextSeq() on, in seq order
	tent         State               // the state after every staged leaf
	stagedNonces map[string]struct{} // nonce keys of staged writes
	stagedBlobs  map[core.H256]int   // blobs staged for this bucket, with their count
	open         *group              // the group new appends join; nil if none
	busy         bool                // a group is being committed
	moved        chan struct{}       // closed when the next seq moves (hold.go); nil if none waits
}

// emptyRoot is the root of an MMR with no leaves.
var emptyRoot = mmr.BagPeaks(0, nil)

func open(k kv, bf blobFiles, o Options) (*db, error) {
	const op = "store.open"
	d := &db{kv: k, blobs: bf, opts: o.withDefaults(), logs: make(map[core.BucketID]*bucketLog)}
	v, err := k.get(versionKey)
	switch {
	case errors.Is(err, errNoKey):
		var b batch
		b.set(versionKey, []byte(formatVersion))
		if err := k.apply(&b, true); err != nil {
			return nil, core.E(op, core.Internal, err)
		}
	case err != nil:
		return nil, core.E(op, core.Internal, err)
	case string(v) != formatVersion:
		return nil, core.Errorf(op, core.Invalid, "store format %q, want %q", v, formatVersion)
	}
	var scanErr error
	err = k.scan(statePrefix, func(key, val []byte) bool {
		st, ok := decodeState(val)
		if len(key) != 9 || !ok {
			scanErr = core.Errorf(op, core.Corrupt, "bad log state record %x", key)
			return false
		}
		st.Bucket = core.BucketID(binary.BigEndian.Uint64(key[1:]))
		l, err := d.openLog(st)
		if err != nil {
			scanErr = err
			return false
		}
		d.logs[st.Bucket] = l
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	return d, nil
}

// openLog builds the in-memory side of a log from its committed state and
// checks that the stored MMR has exactly the nodes the state implies.
func (d *db) openLog(st State) (*bucketLog, error) {
	const op = "store.openLog"
	size := mmr.SizeOfLeafCount(st.LeafCount)
	ns := &nodeStore{kv: d.kv, bucket: st.Bucket, committed: size}
	if size > 0 {
		if ok, err := d.kv.has(nodeKey(st.Bucket, size-1)); err != nil || !ok {
			return nil, core.Errorf(op, core.Corrupt, "bucket %s: %d leaves but MMR node %d is missing (%v)", st.Bucket, st.LeafCount, size-1, err)
		}
	}
	if ok, _ := d.kv.has(nodeKey(st.Bucket, size)); ok {
		return nil, core.Errorf(op, core.Corrupt, "bucket %s: MMR node %d exists past %d leaves", st.Bucket, size, st.LeafCount)
	}
	m, err := mmr.New(ns)
	if err != nil {
		return nil, core.E(op, core.Corrupt, fmt.Errorf("bucket %s: %w", st.Bucket, err))
	}
	st.Root, _ = m.Root()
	return newBucketLog(st, ns, m), nil
}

// enter guards a call against Close.
func (d *db) enter(op string) (func(), error) {
	d.closeMu.RLock()
	if d.closed {
		d.closeMu.RUnlock()
		return nil, core.Errorf(op, core.Unavailable, "store is closed")
	}
	return d.closeMu.RUnlock, nil
}

// log returns bucket's log, creating an empty one in memory if create.
func (d *db) log(b core.BucketID, create bool) *bucketLog {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.logs[b]
	if l == nil && create {
		ns := &nodeStore{kv: d.kv, bucket: b}
		m, _ := mmr.New(ns) // an empty store always opens
		l = newBucketLog(State{Bucket: b, Root: emptyRoot}, ns, m)
		d.logs[b] = l
	}
	return l
}

func newBucketLog(st State, ns *nodeStore, m *mmr.MMR) *bucketLog {
	return &bucketLog{id: st.Bucket, state: st, nodes: ns, mmr: m,
		stagedNonces: make(map[string]struct{}), stagedBlobs: make(map[core.H256]int)}
}

// tree returns the log's MMR. The pointer is read under mu because Append
// replaces the MMR after a failed commit while readers may be proving.
func (l *bucketLog) tree() *mmr.MMR {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mmr
}

func (l *bucketLog) committed() State {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.state
}

func (d *db) State(b core.BucketID) (State, error) {
	leave, err := d.enter("store.State")
	if err != nil {
		return State{}, err
	}
	defer leave()
	if l := d.log(b, false); l != nil {
		return l.committed(), nil
	}
	return State{Bucket: b, Root: emptyRoot}, nil
}

func (d *db) Buckets() ([]core.BucketID, error) {
	leave, err := d.enter("store.Buckets")
	if err != nil {
		return nil, err
	}
	defer leave()
	d.mu.Lock()
	var out []core.BucketID
	for id, l := range d.logs {
		if l.committed().LeafCount > 0 {
			out = append(out, id)
		}
	}
	d.mu.Unlock()
	slices.Sort(out)
	return out, nil
}

func (d *db) leafAt(b core.BucketID, index uint64) (core.SignedLeaf, error) {
	v, err := d.kv.get(leafKey(b, index))
	if errors.Is(err, errNoKey) {
		return core.SignedLeaf{}, core.Errorf("store.leaf", core.Corrupt, "bucket %s: leaf %d is missing", b, index)
	}
	if err != nil {
		return core.SignedLeaf{}, core.E("store.leaf", core.Internal, err)
	}
	sl, err := decodeLeaf(v)
	if err != nil {
		return core.SignedLeaf{}, core.E("store.leaf", core.Corrupt, fmt.Errorf("bucket %s leaf %d: %w", b, index, err))
	}
	return sl, nil
}

func (d *db) Leaf(b core.BucketID, seq uint64) (core.SignedLeaf, error) {
	const op = "store.Leaf"
	leave, err := d.enter(op)
	if err != nil {
		return core.SignedLeaf{}, err
	}
	defer leave()
	st, _ := d.stateOf(b)
	if seq < st.StartSeq || seq >= st.NextSeq() {
		return core.SignedLeaf{}, core.Errorf(op, core.NotFound, "bucket %s: no leaf at seq %d (log holds [%d, %d))", b, seq, st.StartSeq, st.NextSeq())
	}
	return d.leafAt(b, seq-st.StartSeq)
}

func (d *db) stateOf(b core.BucketID) (State, *bucketLog) {
	if l := d.log(b, false); l != nil {
		return l.committed(), l
	}
	return State{Bucket: b, Root: emptyRoot}, nil
}

func (d *db) Leaves(b core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error) {
	const op = "store.Leaves"
	leave, err := d.enter(op)
	if err != nil {
		return nil, err
	}
	defer leave()
	if limit < 0 {
		return nil, core.Errorf(op, core.Invalid, "negative limit %d", limit)
	}
	st, _ := d.stateOf(b)
	if from < st.StartSeq {
		from = st.StartSeq
	}
	end := st.NextSeq()
	if from >= end {
		return []core.SignedLeaf{}, nil
	}
	if n := end - from; n > uint64(limit) {
		end = from + uint64(limit)
	}
	out := make([]core.SignedLeaf, 0, end-from)
	for seq := from; seq < end; seq++ {
		lf, err := d.leafAt(b, seq-st.StartSeq)
		if err != nil {
			return nil, err
		}
		out = append(out, lf)
	}
	return out, nil
}

// prefix checks that the log holds leafCount leaves.
func (d *db) prefix(op string, b core.BucketID, leafCount uint64) (*bucketLog, error) {
	st, l := d.stateOf(b)
	if leafCount > st.LeafCount {
		return nil, core.Errorf(op, core.NotFound, "bucket %s: log holds %d leaves, not %d", b, st.LeafCount, leafCount)
	}
	return l, nil
}

func (d *db) RootAt(b core.BucketID, leafCount uint64) (mmr.Hash, error) {
	const op = "store.RootAt"
	leave, err := d.enter(op)
	if err != nil {
		return mmr.Hash{}, err
	}
	defer leave()
	l, err := d.prefix(op, b, leafCount)
	if err != nil {
		return mmr.Hash{}, err
	}
	if l == nil {
		return emptyRoot, nil
	}
	h, err := l.tree().RootAt(leafCount)
	if err != nil {
		return mmr.Hash{}, core.E(op, core.Internal, err)
	}
	return h, nil
}

func (d *db) RootAfter(b core.BucketID, leaves []core.Leaf) (mmr.Hash, error) {
	const op = "store.RootAfter"
	leave, err := d.enter(op)
	if err != nil {
		return mmr.Hash{}, err
	}
	defer leave()
	st, l := d.stateOf(b)
	for i, lf := range leaves {
		if lf.Seq != st.NextSeq()+uint64(i) {
			return mmr.Hash{}, core.Errorf(op, core.Conflict, "leaf %d has seq %d; the log continues at %d", i, lf.Seq, st.NextSeq()+uint64(i))
		}
	}
	// An MMR over the committed nodes and a scratch tail: what is read
	// comes from the store, what is appended stays here.
	scratch := &scratchNodes{committed: mmr.SizeOfLeafCount(st.LeafCount)}
	if l != nil {
		scratch.base = l.nodes
	}
	m, err := mmr.New(scratch)
	if err != nil {
		return mmr.Hash{}, core.E(op, core.Internal, err)
	}
	for _, lf := range leaves {
		if _, err := m.AppendHash(mmr.LeafHash(lf.Bytes())); err != nil {
			return mmr.Hash{}, core.E(op, core.Invalid, err)
		}
	}
	root, _ := m.Root()
	return root, nil
}

// scratchNodes is an mmr.Store reading the first committed nodes of a log
// and keeping appended ones in memory.
type scratchNodes struct {
	base      *nodeStore // nil for a log with no nodes
	committed uint64
	tail      []mmr.Hash
}

func (s *scratchNodes) Get(pos uint64) (mmr.Hash, error) {
	if pos < s.committed {
		return s.base.Get(pos)
	}
	if i := pos - s.committed; i < uint64(len(s.tail)) {
		return s.tail[i], nil
	}
	return mmr.Hash{}, fmt.Errorf("scratch node %d: %w", pos, mmr.ErrNotFound)
}

func (s *scratchNodes) Append(nodes []mmr.Hash) error {
	s.tail = append(s.tail, nodes...)
	return nil
}

func (s *scratchNodes) Size() uint64 { return s.committed + uint64(len(s.tail)) }

func (d *db) Proof(b core.BucketID, leafIndex, leafCount uint64) (*mmr.InclusionProof, error) {
	const op = "store.Proof"
	leave, err := d.enter(op)
	if err != nil {
		return nil, err
	}
	defer leave()
	if leafIndex >= leafCount {
		return nil, core.Errorf(op, core.Invalid, "leaf %d is not below leaf count %d", leafIndex, leafCount)
	}
	l, err := d.prefix(op, b, leafCount)
	if err != nil {
		return nil, err
	}
	p, err := l.tree().Proof(leafIndex, leafCount)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	return p, nil
}

func (d *db) ConsistencyProof(b core.BucketID, oldCount, newCount uint64) (*mmr.ConsistencyProof, error) {
	const op = "store.ConsistencyProof"
	leave, err := d.enter(op)
	if err != nil {
		return nil, err
	}
	defer leave()
	if oldCount > newCount {
		return nil, core.Errorf(op, core.Invalid, "old leaf count %d is past new leaf count %d", oldCount, newCount)
	}
	l, err := d.prefix(op, b, newCount)
	if err != nil {
		return nil, err
	}
	if l == nil { // 0 -> 0 on a bucket with no log
		return &mmr.ConsistencyProof{}, nil
	}
	p, err := l.tree().ConsistencyProof(oldCount, newCount)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	return p, nil
}

func (d *db) HasBlob(b core.BucketID, h core.H256) (bool, error) {
	leave, err := d.enter("store.HasBlob")
	if err != nil {
		return false, err
	}
	defer leave()
	ok, err := d.kv.has(bucketBlobKey(b, h))
	if err != nil {
		return false, core.E("store.HasBlob", core.Internal, err)
	}
	return ok, nil
}

func (d *db) OpenBlob(b core.BucketID, h core.H256) (*Blob, error) {
	const op = "store.OpenBlob"
	leave, err := d.enter(op)
	if err != nil {
		return nil, err
	}
	defer leave()
	ok, err := d.kv.has(bucketBlobKey(b, h))
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	if !ok {
		return nil, core.Errorf(op, core.NotFound, "bucket %s holds no blob %s", b, h)
	}
	v, err := d.kv.get(blobKey(h))
	if errors.Is(err, errNoKey) {
		return nil, core.Errorf(op, core.Corrupt, "bucket %s references blob %s, which is missing", b, h)
	}
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	loc, err := decodeBlobLoc(v)
	if err != nil {
		return nil, core.E(op, core.Corrupt, fmt.Errorf("blob %s: %w", h, err))
	}
	blob, err := d.blobs.open(loc)
	if err != nil {
		return nil, core.E(op, core.Corrupt, fmt.Errorf("blob %s: %w", h, err))
	}
	return blob, nil
}

func (d *db) UseNonce(b core.BucketID, n Nonce) error {
	const op = "store.UseNonce"
	leave, err := d.enter(op)
	if err != nil {
		return err
	}
	defer leave()
	k := nonceKey(b, n)
	d.nonceMu.Lock()
	defer d.nonceMu.Unlock()
	if seen, err := d.kv.has(k); err != nil {
		return core.E(op, core.Internal, err)
	} else if seen {
		return core.Errorf(op, core.Unauthorized, "nonce %x of %s was already used", n.Value, n.Writer.Short())
	}
	var bt batch
	bt.set(k, nil)
	// Not fsynced: the nonce must survive a restart of the process, and a
	// lost one after a power cut only lets a read be repeated.
	if err := d.kv.apply(&bt, false); err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}

func (d *db) PruneNonces(t time.Time) (int, error) {
	const op = "store.PruneNonces"
	leave, err := d.enter(op)
	if err != nil {
		return 0, err
	}
	defer leave()
	end := binary.BigEndian.AppendUint64([]byte{'n'}, uint64(t.Unix()))
	n := 0
	err = d.kv.scan(noncePrefix, func(k, _ []byte) bool {
		if string(k) >= string(end) {
			return false
		}
		n++
		return true
	})
	if err != nil || n == 0 {
		return 0, err
	}
	var bt batch
	bt.deleteRange(noncePrefix, end)
	if err := d.kv.apply(&bt, false); err != nil {
		return 0, core.E(op, core.Internal, err)
	}
	return n, nil
}

func (d *db) Close() error {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := errors.Join(d.kv.close(), d.blobs.close())
	if err != nil {
		return core.E("store.Close", core.Internal, err)
	}
	return nil
}

// nodeStore is a bucket's MMR nodes as an mmr.Store. Appended nodes wait in
// pending until their group's batch commits, so the MMR's nodes reach disk
// in the same batch as the leaf that made them.
type nodeStore struct {
	kv        kv
	bucket    core.BucketID
	mu        sync.RWMutex
	committed uint64     // nodes on disk
	pending   []mmr.Hash // nodes appended since, not yet committed
}

func (s *nodeStore) Get(pos uint64) (mmr.Hash, error) {
	s.mu.RLock()
	committed := s.committed
	if pos >= committed {
		defer s.mu.RUnlock()
		if i := pos - committed; i < uint64(len(s.pending)) {
			return s.pending[i], nil
		}
		return mmr.Hash{}, fmt.Errorf("bucket %s node %d: %w", s.bucket, pos, mmr.ErrNotFound)
	}
	s.mu.RUnlock()
	v, err := s.kv.get(nodeKey(s.bucket, pos))
	if err != nil {
		if errors.Is(err, errNoKey) {
			err = mmr.ErrNotFound
		}
		return mmr.Hash{}, fmt.Errorf("bucket %s node %d: %w", s.bucket, pos, err)
	}
	if len(v) != len(mmr.Hash{}) {
		return mmr.Hash{}, fmt.Errorf("bucket %s node %d is %d bytes: %w", s.bucket, pos, len(v), mmr.ErrCorrupt)
	}
	return mmr.Hash(v), nil
}

func (s *nodeStore) Append(nodes []mmr.Hash) error {
	s.mu.Lock()
	s.pending = append(s.pending, nodes...)
	s.mu.Unlock()
	return nil
}

func (s *nodeStore) Size() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed + uint64(len(s.pending))
}

// commitTo marks the nodes up to size as on disk; later ones stay pending.
func (s *nodeStore) commitTo(size uint64) {
	s.mu.Lock()
	n := size - s.committed
	s.pending = append(s.pending[:0], s.pending[n:]...)
	s.committed = size
	s.mu.Unlock()
}

func (s *nodeStore) discard() {
	s.mu.Lock()
	s.pending = s.pending[:0]
	s.mu.Unlock()
}
