package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// Storage is one provider's blob API as the file system uses it; the
// adapter over providerclient signs writes and reads with the client's key.
type Storage interface {
	// Write appends data as the blob of leaf (signed by the bucket writer
	// who wrote it, which may be another writer when a lagging provider is
	// caught up) at leaf.Seq of the bucket's log and returns the leaf once
	// the provider holds it durably. A repeated write of the same blob at
	// the same seq succeeds again.
	Write(ctx context.Context, bucket core.BucketID, leaf core.SignedLeaf, data []byte) (core.Leaf, error)
	// Blob streams a blob by its SHA-256. The reader verifies the bytes:
	// where they do not hash to hash, it ends with an error of kind Corrupt
	// instead of io.EOF (the drive checks only the length).
	Blob(ctx context.Context, bucket core.BucketID, hash core.H256) (io.ReadCloser, error)
	// Leaves lists up to limit leaves of the log from seq from on.
	Leaves(ctx context.Context, bucket core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error)
	// Commitment is the provider's signed commitment to the bucket's log
	// (how far it goes, for the next seq).
	Commitment(ctx context.Context, bucket core.BucketID) (core.SignedCommitment, error)
	// Used is the sum of the leaf sizes of the bucket's log as the provider
	// reports it (unsigned: only for the quota check before an upload).
	Used(ctx context.Context, bucket core.BucketID) (uint64, error)
}

// StorageDialer returns the Storage API at a provider's base URL.
type StorageDialer func(baseURL string) (Storage, error)

func (c *Client) storage(url string) (Storage, error) {
	c.mu.Lock()
	s := c.stores[url]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := c.dial(url)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.stores[url] = s
	c.mu.Unlock()
	return s, nil
}

// session appends blobs to a bucket's log on every primary at once. Each
// provider has a worker that writes in seq order from a short queue; a
// blob is acknowledged once `required` providers hold it. A provider that
// falls behind (hung, dead, or refusing) is dropped from the session and
// catches up later by replica sync, so it never stalls the upload; the
// session fails only when fewer than `required` providers remain.
type session struct {
	c        *Client
	bucket   core.BucketID
	ctx      context.Context
	cancel   context.CancelFunc
	chainID  string // leaves are signed for it
	required int
	workers  []*worker
	next     uint64
	inflight []*pendingWrite
	inBytes  int64 // bytes of inflight
	wg       sync.WaitGroup
	written  uint64 // bytes acknowledged
	progress func(uint64)
	room     uint64    // bytes a quorum can still take at the start (unknownRoom: not known)
	sent     uint64    // bytes queued
	started  time.Time // for the grace: a fraction of the time the quorum took
	orphans  *orphans  // blobs a failed upload left, reused while the content is the same
	puts     uint64    // blobs queued (reused orphans included)
	skipped  bool      // a provider was left out as unresponsive
	bufs     *bufPool  // chunk bodies, reused once every provider took them
}

type worker struct {
	p       providers.Info
	st      Storage
	queue   chan *pendingWrite
	dropped atomic.Bool
	err     atomic.Value // error that dropped it
	idle    atomic.Bool  // its queue is closed and empty: it has nothing left to write
	acked   atomic.Int32 // writes it took in this session
	// ctx is the session's, cancelled alone when drain cuts this
	// provider off.
	ctx    context.Context
	cancel context.CancelFunc
	queued atomic.Int64  // bytes handed to it and not yet done with
	room   chan struct{} // a note that it finished a write (enqueue waits on it)
}

// done says the worker is through with pw, however it ended.
func (w *worker) done(pw *pendingWrite) {
	w.queued.Add(-int64(len(pw.data)))
	select {
	case w.room <- struct{}{}:
	default:
	}
}

type pendingWrite struct {
	leaf  core.SignedLeaf // signed once, sent to every provider
	data  []byte
	acks  atomic.Int32
	fails atomic.Int32
	done  chan struct{}
	once  sync.Once
	need  int32
	total int32
	// pool, if set, takes data back once no worker holds it (release).
	pool    *bufPool
	holders atomic.Int32 // workers that have not released data yet
	tainted atomic.Bool  // a send failed: its transport may still read data
}

// release is called once by each worker (or for it, when it was dropped
// before the write reached it) when it is done with w's data; sent says
// a request carrying it failed. The last one hands data back to the pool,
// unless a request failed: an HTTP transport may go on reading a body
// after an error, so that buffer is left to the collector.
func (w *pendingWrite) release(failedSend bool) {
	if failedSend {
		w.tainted.Store(true)
	}
	if w.holders.Add(-1) != 0 || w.pool == nil {
		return
	}
	if !w.tainted.Load() {
		w.pool.put(w.data)
	}
}

func (w *pendingWrite) settle(ok bool) {
	if ok {
		if w.acks.Add(1) == w.need {
			w.once.Do(func() { close(w.done) })
		}
		return
	}
	if w.fails.Add(1) > w.total-w.need {
		w.once.Do(func() { close(w.done) })
	}
}

func (w *pendingWrite) ok() bool { return w.acks.Load() >= w.need }

func (c *Client) newSession(ctx context.Context, bucket core.BucketID) (*session, error) {
	const op = "drive.write"
	ps, required, err := c.pool.Threshold(ctx, bucket)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	if len(ps) == 0 {
		return nil, core.Errorf(op, core.NotFound, "bucket %s has no active primary provider", bucket)
	}
	if required > len(ps) {
		// The bucket's on-chain quorum is above its primaries: no write
		// could ever be checkpointed, so none is started.
		return nil, core.Errorf(op, core.NoQuorum, "bucket %s needs %d agreeing providers and has %d primaries", bucket, required, len(ps))
	}
	c.mu.Lock()
	_, cached := c.nextSeq[bucket]
	c.mu.Unlock()
	next, room, err := c.seqFor(ctx, bucket)
	if err != nil {
		return nil, err
	}
	var orph *orphans
	if !cached { // a failed upload forgets the seq: look for what it left
		if orph = c.findOrphans(ctx, bucket, next); orph != nil {
			next = orph.from
		}
	}
	chainID, err := c.chain.ChainID(ctx)
	if err != nil {
		return nil, core.E(op, core.KindOf(err), err)
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &session{c: c, bucket: bucket, ctx: sctx, cancel: cancel, next: next, chainID: chainID,
		required: required, room: room, started: time.Now(), orphans: orph, bufs: newBufPool(2 * c.cfg.WriteWindowBytes)}
	// A provider the pool knows to be unresponsive gets no writes at all,
	// and no wait. It catches up by replica sync once it answers again.
	_, skip := c.responsive(ps, required)
	s.skipped = len(skip) > 0
	for _, p := range ps {
		w := &worker{p: p, queue: make(chan *pendingWrite, c.cfg.WriteWindow), room: make(chan struct{}, 1)}
		w.ctx, w.cancel = context.WithCancel(sctx)
		if slices.ContainsFunc(skip, func(q providers.Info) bool { return q.Account == p.Account }) {
			h, _ := c.pool.Health(p.Account)
			w.drop(core.Errorf(op, core.Unavailable, "provider %s skipped: %d failures in a row (%s)", p.Account.Short(), h.ConsecutiveFailures, h.LastError))
		} else if p.URL == "" {
			w.drop(core.Errorf(op, core.Unavailable, "no usable endpoint %q", p.Endpoint))
		} else if st, err := c.storage(p.URL); err != nil {
			w.drop(err)
		} else {
			w.st = st
		}
		s.workers = append(s.workers, w)
		s.wg.Add(1)
		go s.run(w)
	}
	return s, nil
}

func (w *worker) drop(err error) {
	if w.dropped.CompareAndSwap(false, true) {
		w.err.Store(err)
	}
}

// run sends w's queue to its provider, up to WritesPerProvider writes at
// once, started in seq order: a provider holds a write that arrives just
// before its predecessor (store.Options.HoldAhead) and commits the writes
// in flight as one group, so a window of them shares its syncs.
func (s *session) run(w *worker) {
	defer s.wg.Done()
	defer w.idle.Store(true)
	var sends sync.WaitGroup
	defer sends.Wait() // before idle: nothing is left in flight
	slots := make(chan struct{}, s.c.cfg.WritesPerProvider)
	prev := make(chan struct{}) // closed when the send before ends
	close(prev)
	for pw := range w.queue {
		if w.dropped.Load() {
			pw.settle(false)
			pw.release(false)
			w.done(pw)
			continue
		}
		slots <- struct{}{}
		sends.Add(1)
		mine := make(chan struct{})
		go func(prev <-chan struct{}) {
			defer sends.Done()
			defer close(mine)
			s.send(w, pw, prev)
			<-slots
		}(prev)
		prev = mine
	}
}

// send writes pw to w's provider (catching it up first if it answers
// that it is behind) and settles pw with the outcome. prev is closed once
// the send of the write before it has ended: a provider that answers
// "behind" may only have been missing that one, still in flight (an older
// provider holds no early write; a newer one holds it only so long), so
// the write is tried once more after it before the provider is caught up.
func (s *session) send(w *worker, pw *pendingWrite, prev <-chan struct{}) {
	defer w.done(pw)
	if w.dropped.Load() { // an earlier write failed while this one waited
		pw.settle(false)
		pw.release(false)
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, s.c.cfg.WriteTimeout)
	defer cancel()
	start := time.Now()
	leaf, err := w.st.Write(ctx, s.bucket, pw.leaf, pw.data)
	var behind *core.BehindError
	if errors.As(err, &behind) && behind.LeafCount < pw.leaf.Seq && !closed(prev) {
		select {
		case <-prev:
			leaf, err = w.st.Write(ctx, s.bucket, pw.leaf, pw.data)
		case <-ctx.Done():
		}
	}
	if errors.As(err, &behind) && behind.LeafCount < pw.leaf.Seq && pw.leaf.Seq-behind.LeafCount <= maxCatchUp {
		// The provider missed earlier writes (it was down, or an
		// upload failed after some providers took a blob). Copy the
		// missing leaves from a provider that has them, then retry.
		if err = s.catchUp(ctx, w, behind.LeafCount, pw.leaf.Seq); err == nil {
			leaf, err = w.st.Write(ctx, s.bucket, pw.leaf, pw.data)
		}
	}
	if err == nil && leaf != pw.leaf.Leaf {
		err = core.Errorf("drive.write", core.Corrupt, "provider %s stored %+v for %+v", w.p.Account.Short(), leaf, pw.leaf)
	}
	if err != nil {
		if w.ctx.Err() == nil && !w.dropped.Load() {
			if failing(err) {
				// The provider's own failure (not the session's end, nor a
				// refusal of this request): the pool's record says so, and
				// later puts skip it.
				s.c.pool.Record(w.p.Account, time.Since(start), err)
			}
			s.c.log.Warn("provider dropped from upload; it will catch up by sync", "bucket", s.bucket, "provider", w.p.Account.Short(), "seq", pw.leaf.Seq, "err", err)
		}
		w.drop(err)
		pw.settle(false)
		pw.release(true)
		return
	}
	s.c.pool.Record(w.p.Account, time.Since(start), nil)
	w.acked.Add(1)
	pw.settle(true)
	pw.release(false)
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// maxCatchUp bounds how many missing leaves an upload copies to a lagging
// provider itself; a provider further behind is left to replica sync.
const maxCatchUp = 1024

// catchUp copies leaves [from, to) to w's provider from another provider
// of the session, verifying each blob against its leaf's hash. The
// provider checks each write against its own log, so a source that lies
// cannot make two providers' logs differ silently: the write is refused.
func (s *session) catchUp(ctx context.Context, w *worker, from, to uint64) error {
	const op = "drive.catchUp"
	for seq := from; seq < to; {
		var leaves []core.SignedLeaf
		var src Storage
		for _, o := range s.workers {
			if o == w || o.st == nil || o.dropped.Load() {
				continue
			}
			ls, err := o.st.Leaves(ctx, s.bucket, seq, int(min(to-seq, 256)))
			if err == nil && len(ls) > 0 && ls[0].Seq == seq {
				leaves, src = ls, o.st
				break
			}
		}
		if src == nil {
			return core.Errorf(op, core.Unavailable, "no provider can supply leaf %d", seq)
		}
		for _, l := range leaves {
			if l.Seq != seq || seq >= to {
				break
			}
			data, err := readBlob(ctx, src, s.bucket, l.Leaf)
			if err != nil {
				return err
			}
			// The leaf goes on with its writer's signature as read: the
			// provider checks it, whoever signed it.
			if _, err := w.st.Write(ctx, s.bucket, l, data); err != nil {
				return err
			}
			seq++
		}
	}
	s.c.log.Info("caught a lagging provider up", "bucket", s.bucket, "provider", w.p.Account.Short(), "from", from, "to", to)
	return nil
}

func readBlob(ctx context.Context, st Storage, bucket core.BucketID, l core.Leaf) ([]byte, error) {
	rc, err := st.Blob(ctx, bucket, l.ContentHash)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(l.Size)+1))
	if err != nil {
		return nil, core.E("drive.catchUp", core.Unavailable, err)
	}
	if uint64(len(data)) != l.Size || core.Sum256(data) != l.ContentHash {
		return nil, core.Errorf("drive.catchUp", core.Corrupt, "blob of leaf %d does not match its hash", l.Seq)
	}
	return data, nil
}

func (s *session) live() int {
	n := 0
	for _, w := range s.workers {
		if !w.dropped.Load() {
			n++
		}
	}
	return n
}

// noQuorum explains why a write cannot reach its quorum. When every
// provider that dropped out refused for the same permanent reason (the
// signer may not write, the request is invalid), that reason is the
// error's kind, so a non-member is told "unauthorized", not "no quorum".
func (s *session) noQuorum(why string) error {
	var causes []error
	kinds := map[core.Kind]bool{}
	for _, w := range s.workers {
		if e, ok := w.err.Load().(error); ok {
			causes = append(causes, fmt.Errorf("%s: %w", w.p.Account.Short(), e))
			kinds[core.KindOf(e)] = true
		}
	}
	kind := core.NoQuorum
	if len(kinds) == 1 {
		for k := range kinds {
			if k == core.Unauthorized || k == core.Invalid {
				kind = k
			}
		}
	}
	return core.E("drive.write", kind, fmt.Errorf("%s: %d of %d providers still taking writes, %d needed: %w", why, s.live(), len(s.workers), s.required, errors.Join(causes...)))
}

// put queues one blob and returns its leaf. It waits for the oldest
// write once the window is full.
func (s *session) put(data []byte) (core.Leaf, error) { return s.putOwned(data, nil) }

// putChunks writes the chunks k cuts from a file and lists them in m.
func (s *session) putChunks(k *chunker, m *FileManifest) error {
	for {
		buf, err := k.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return core.E("drive.UploadFile", core.Invalid, err)
		}
		leaf, err := s.putOwned(buf, s.bufs)
		if err != nil {
			s.bufs.put(buf) // refused before any provider got it
			return err
		}
		m.Chunks = append(m.Chunks, ChunkRef{CID: CIDOf(leaf.ContentHash, true), Size: leaf.Size})
		m.Size += leaf.Size
	}
}

// putOwned is put of a buffer of pool, given back once every provider is
// done with it (pool nil: the collector's).
func (s *session) putOwned(data []byte, pool *bufPool) (core.Leaf, error) {
	for len(s.inflight) >= s.c.cfg.WriteWindow || (len(s.inflight) > 0 && s.inBytes+int64(len(data)) > s.c.cfg.WriteWindowBytes) {
		if err := s.settleOldest(); err != nil {
			return core.Leaf{}, err
		}
	}
	if s.live() < s.required {
		return core.Leaf{}, s.noQuorum("too many providers failed")
	}
	hash, size := core.Sum256(data), uint64(len(data))
	if !s.reuse(hash, size) { // a reused orphan is in the logs already: no new room
		if err := s.reserve(size); err != nil {
			return core.Leaf{}, err
		}
		s.sent += size
	}
	s.puts++
	sl, err := core.SignLeaf(s.c.signer, s.chainID, s.bucket, core.Leaf{Seq: s.next, ContentHash: hash, Size: size})
	if err != nil {
		return core.Leaf{}, core.E("drive.write", core.KindOf(err), err)
	}
	pw := &pendingWrite{leaf: sl, pool: pool,
		data: data, done: make(chan struct{}), need: int32(s.required), total: int32(len(s.workers))}
	pw.holders.Store(pw.total)
	s.next++
	for _, w := range s.workers {
		if w.dropped.Load() || !s.enqueue(w, pw) {
			pw.settle(false)
			pw.release(false)
		}
	}
	s.inflight = append(s.inflight, pw)
	s.inBytes += int64(len(data))
	return pw.leaf.Leaf, nil
}

// enqueue hands pw to w's worker. A provider whose queue is full (a
// window of writes, or of bytes) is behind the others by a whole window:
// it is waited for, up to the grace (a healthy provider a little slower
// than the rest is not dropped for a moment's lag), then dropped as too
// slow, to catch up by sync.
func (s *session) enqueue(w *worker, pw *pendingWrite) bool {
	size := int64(len(pw.data))
	var timeout <-chan time.Time
	for {
		if q := w.queued.Load(); len(w.queue) < cap(w.queue) && (q == 0 || q+size <= s.c.cfg.WriteWindowBytes) {
			w.queued.Add(size)
			w.queue <- pw // only this goroutine sends: there is room
			return true
		}
		if timeout == nil {
			t := time.NewTimer(s.c.cfg.grace(time.Since(s.started)))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-w.room:
		case <-timeout:
			w.drop(core.Errorf("drive.write", core.Unavailable, "provider too slow: a window of writes still queued after the grace"))
			return false
		case <-s.ctx.Done():
			w.drop(core.E("drive.write", core.Unavailable, s.ctx.Err()))
			return false
		}
	}
}

func (s *session) settleOldest() error {
	pw := s.inflight[0]
	select {
	case <-pw.done:
	case <-s.ctx.Done():
		return core.E("drive.write", core.Unavailable, s.ctx.Err())
	}
	if !pw.ok() {
		return s.noQuorum(fmt.Sprintf("write %d", pw.leaf.Seq))
	}
	s.inflight = s.inflight[1:]
	s.inBytes -= int64(len(pw.data))
	s.written += pw.leaf.Size
	if s.progress != nil {
		s.progress(s.written)
	}
	return nil
}

// finish waits until every queued blob has its quorum, then stops the
// workers (cancelling writes still going to slow providers).
func (s *session) finish() error {
	var err error
	for len(s.inflight) > 0 && err == nil {
		err = s.settleOldest()
	}
	if err == nil {
		s.drain(time.Since(s.started))
	} else {
		s.close()
	}
	if err != nil {
		s.c.forgetSeq(s.bucket)
		return err
	}
	if s.skipped {
		// Not cached: the next put asks every primary for the next seq
		// again, which probes the providers left out (their records may
		// be stale) without waiting for them (highestCommitted).
		s.c.forgetSeq(s.bucket)
		return nil
	}
	room := s.room
	if room != unknownRoom {
		room -= s.sent
	}
	s.c.setSeq(s.bucket, s.next, room)
	return nil
}

// drain lets providers still working through their queue finish, so a
// provider a little slower than the quorum stays in step instead of
// needing a sync; then it stops the rest. A provider that has taken a
// write in this session is alive, just behind: it gets the grace
// (Config.grace of the time the quorum took). One that has taken none
// gets only the fraction of that time, without the floor: a provider hung
// since before the put answers nothing, and must not cost every put the
// floor while the record learns it is hung. A provider cut off after the
// grace counts one failure in the pool's record, one cut off after the
// fraction one miss: after a few of either in a row, puts skip it.
func (s *session) drain(quorumTook time.Duration) {
	for _, w := range s.workers {
		close(w.queue)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	short, long := s.c.cfg.fractionGrace(quorumTook), s.c.cfg.grace(quorumTook)
	cutOff := make([]bool, len(s.workers))
	cut := func(unprovenOnly bool, waited time.Duration) {
		for i, w := range s.workers {
			if w.idle.Load() || cutOff[i] || (unprovenOnly && w.acked.Load() > 0) {
				continue // done, or alive and given the longer grace
			}
			if unprovenOnly {
				// Maybe hung, maybe only slow to start on a busy machine:
				// a miss, not a failure (its status stays), but a few in
				// a row make it unresponsive (providers.Health), as the
				// Checkpoint Manager counts a straggler.
				s.c.pool.Miss(w.p.Account)
			} else { // hung or slow, whether or not it was dropped for it
				s.c.pool.Record(w.p.Account, waited, core.Errorf("drive.write", core.Unavailable, "still writing %s after the quorum", waited))
			}
			cutOff[i] = true
			w.cancel()
		}
	}
	t := time.NewTimer(short)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cut(true, short)
		t.Reset(long - short)
		select {
		case <-done:
		case <-t.C:
			cut(false, long)
			<-done
		}
	}
	s.cancel()
}

func (s *session) close() {
	s.cancel()
	for _, w := range s.workers {
		close(w.queue)
	}
	s.wg.Wait()
}

func (c *Client) setSeq(b core.BucketID, n, room uint64) {
	c.mu.Lock()
	c.nextSeq[b] = n
	c.room[b] = room
	c.mu.Unlock()
}

func (c *Client) forgetSeq(b core.BucketID) {
	c.mu.Lock()
	delete(c.nextSeq, b)
	delete(c.room, b)
	c.mu.Unlock()
}
