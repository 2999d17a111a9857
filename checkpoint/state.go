package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/core"
)

// PendingRoot is a drive root waiting for the checkpoint that will carry it
// on chain: the root directory's blob is the write-log leaf Leaf.
type PendingRoot struct {
	Drive   core.DriveID `json:"drive"`
	RootCID string       `json:"root_cid"`
	Leaf    core.Leaf    `json:"leaf"`
}

// persisted is the state in memory, and the content of a version-1 state
// file (one JSON document, read once to migrate it to the journal).
type persisted struct {
	Version     int                                `json:"version"`
	Dirty       map[core.BucketID]uint64           `json:"dirty"` // bucket -> change generation
	PendingRoot map[core.BucketID]PendingRoot      `json:"pending_roots"`
	LastResult  map[core.BucketID]*Result          `json:"last_results"`
	Conflicts   map[core.AccountID]int             `json:"conflicts"` // recorded divergences per provider
	Challenges  map[core.ChallengeID]openChallenge `json:"open_challenges"`
	// Equivocations this manager reported (or found already on chain).
	Equivocations []Equivocation `json:"equivocations,omitempty"`
}

type openChallenge struct {
	Bucket   core.BucketID  `json:"bucket"`
	Provider core.AccountID `json:"provider"`
	Deadline int64          `json:"deadline"`
}

// stateStore keeps persisted in memory and, when path is set, on disk in
// the journal of journal.go: an update appends the changed key's line and
// fsyncs it, so its cost does not grow with the number of buckets; a
// crash leaves every complete line (a torn last one is ignored).
//
// Several cairn processes of one account share the file (a long-running
// `checkpoint watch` and a `put` in another terminal): every update runs
// under an exclusive flock on PATH.lock and first applies what other
// processes appended since (or reads the file again if one compacted it),
// and reads catch up the same way, so no process works from, or writes
// back, a stale copy. A version-1 file (one JSON document) is read once
// and rewritten as a journal.
type stateStore struct {
	mu   sync.Mutex
	path string
	j    *journal
	s    *persisted // &j.p
	ino  uint64     // the file whose lines j holds
	off  int64      // bytes of it applied (complete lines only)
	// legacy: j was read from a version-1 file, to be rewritten as a
	// journal by the next update.
	legacy bool
}

func newState() persisted {
	return persisted{
		Version:     1,
		Dirty:       map[core.BucketID]uint64{},
		PendingRoot: map[core.BucketID]PendingRoot{},
		LastResult:  map[core.BucketID]*Result{},
		Conflicts:   map[core.AccountID]int{},
		Challenges:  map[core.ChallengeID]openChallenge{},
	}
}

func openState(path string) (*stateStore, error) {
	st := &stateStore{path: path}
	st.reset(newJournal())
	if path == "" {
		return st, nil
	}
	if err := st.reload(true); err != nil {
		return nil, err
	}
	if st.legacy { // migrate now, so the old format is read once
		if err := st.update(nil, func(*persisted) {}); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *stateStore) reset(j *journal) {
	st.j, st.s = j, &j.p
}

// reload applies what was appended to the file since we last read it, or
// reads it whole if it was replaced (compacted, migrated) or with force.
// A missing file is an empty state. Callers hold st.mu.
func (st *stateStore) reload(force bool) error {
	const op = "checkpoint.state"
	f, err := os.Open(st.path)
	if os.IsNotExist(err) {
		st.ino = 0 // the next update writes the file afresh
		return nil
	}
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	ino := inodeOf(fi)
	if !force && ino == st.ino && fi.Size() >= st.off && st.sameHead(f) {
		if fi.Size() == st.off {
			return nil
		}
		tail := make([]byte, fi.Size()-st.off) // the file's own size, not a claim
		if _, err := f.ReadAt(tail, st.off); err != nil {
			return core.E(op, core.Internal, err)
		}
		n, err := st.j.apply(tail)
		st.off += int64(n)
		if err != nil {
			return core.Errorf(op, core.Corrupt, "%s: %v", filepath.Base(st.path), err)
		}
		return nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	return st.load(data, ino)
}

// load replaces the state with the file's content data.
func (st *stateStore) load(data []byte, ino uint64) error {
	const op = "checkpoint.state"
	j, n, err := decodeJournal(data)
	legacy := false
	if err != nil && !bytes.HasPrefix(data, []byte(journalMagic)) {
		j, err = decodeV1(data)
		n, legacy = len(data), true
	}
	if err != nil {
		return core.Errorf(op, core.Corrupt, "%s is not a checkpoint state file: %v", filepath.Base(st.path), err)
	}
	st.reset(j)
	// A file without an epoch (legacy, or version 2 before epochs) is
	// rewritten by the next update, which gives it one.
	st.ino, st.off, st.legacy = ino, int64(n), legacy || len(j.head) <= len(journalHeader)
	return nil
}

// sameHead reports whether f still starts with the first line we read:
// same epoch, so the same file (callers hold st.mu).
func (st *stateStore) sameHead(f *os.File) bool {
	head := st.j.head
	if len(head) <= len(journalHeader) {
		return false // no epoch to tell files apart: read it whole
	}
	b := make([]byte, len(head))
	if _, err := f.ReadAt(b, 0); err != nil {
		return false
	}
	return bytes.Equal(b, head)
}

// decodeV1 reads a version-1 state file (one JSON document).
func decodeV1(data []byte) (*journal, error) {
	var p persisted
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1", p.Version)
	}
	fresh := newState()
	if p.Dirty == nil {
		p.Dirty = fresh.Dirty
	}
	if p.PendingRoot == nil {
		p.PendingRoot = fresh.PendingRoot
	}
	if p.LastResult == nil {
		p.LastResult = fresh.LastResult
	}
	if p.Conflicts == nil {
		p.Conflicts = fresh.Conflicts
	}
	if p.Challenges == nil {
		p.Challenges = fresh.Challenges
	}
	return fromPersisted(p)
}

func inodeOf(fi os.FileInfo) uint64 {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

// lockFile takes the exclusive cross-process lock; the returned function
// releases it.
func (st *stateStore) lockFile() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(st.path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(st.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// updateBucket runs f on the current state and persists bucket's part of
// the result (f must change nothing else).
func (st *stateStore) updateBucket(bucket core.BucketID, f func(*persisted)) error {
	return st.update(&bucket, f)
}

// updateGlobal runs f on the current state and persists its global part
// (conflicts, challenges, equivocations; f must change no bucket).
func (st *stateStore) updateGlobal(f func(*persisted)) error {
	return st.update(nil, f)
}

// update runs f and persists the line of one key (bucket, or the global
// part when nil), atomically with respect to other processes sharing the
// file.
func (st *stateStore) update(bucket *core.BucketID, f func(*persisted)) error {
	const op = "checkpoint.state"
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.path == "" {
		f(st.s)
		return nil
	}
	unlock, err := st.lockFile()
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	defer unlock()
	if err := st.reload(false); err != nil {
		return err
	}
	f(st.s)
	line, err := st.j.recordLine(st.s, bucket)
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	if st.legacy || st.ino == 0 || st.j.needsCompaction(st.off+int64(len(line))) {
		err = st.rewrite()
	} else if line != nil {
		err = st.appendLine(line)
	}
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}

// appendLine appends one line and fsyncs it, first cutting off a torn
// line a crashed writer left (we hold the lock: no writer is running).
func (st *stateStore) appendLine(line []byte) error {
	f, err := os.OpenFile(st.path, os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Truncate(st.off); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(line, st.off); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	st.off += int64(len(line))
	return f.Close()
}

// rewrite replaces the file with the live lines (temp file, fsync,
// rename): compaction, migration and the file's first write.
func (st *stateStore) rewrite() error {
	head := newHead()
	data := st.j.snapshot(head)
	if err := core.WriteFileAtomic(st.path, data, 0o600); err != nil {
		return err
	}
	st.j.head = head
	fi, err := os.Stat(st.path)
	if err != nil {
		return err
	}
	st.ino, st.off, st.legacy = inodeOf(fi), int64(len(data)), false
	return nil
}

// read runs f on the current state, catching up first with what other
// processes wrote. A file that became unreadable keeps the last good copy.
func (st *stateStore) read(f func(*persisted)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.path != "" {
		_ = st.reload(false)
	}
	f(st.s)
}

func (st *stateStore) dirtyBuckets() []core.BucketID {
	var out []core.BucketID
	st.read(func(p *persisted) {
		for b := range p.Dirty {
			out = append(out, b)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
