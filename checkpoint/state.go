package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// PendingRoot is a drive root waiting for the checkpoint that will carry it
// on chain: the root directory's blob is the write-log leaf Leaf.
type PendingRoot struct {
	Drive   core.DriveID `json:"drive"`
	RootCID string       `json:"root_cid"`
	Leaf    core.Leaf    `json:"leaf"`
}

// persisted is the state file's content (version 1).
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

// stateStore keeps persisted in memory and, when path is set, on disk
// after every change (temp file, fsync, rename: a crash leaves the old or
// the new file, never a torn one).
//
// Several cairn processes of one account share the file (a long-running
// `checkpoint watch` and a `put` in another terminal): every update is a
// read-modify-write under an exclusive flock on PATH.lock that first
// reloads the file if another process changed it, and reads reload it too,
// so no process works from, or writes back, a stale copy.
type stateStore struct {
	mu   sync.Mutex
	path string
	s    persisted
	seen fileStamp // the file as last read or written by us
}

type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{mod: fi.ModTime(), size: fi.Size()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
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
	st := &stateStore{path: path, s: newState()}
	if path == "" {
		return st, nil
	}
	if err := st.reload(true); err != nil {
		return nil, err
	}
	return st, nil
}

// reload reads the file if it changed since we last saw it (always, with
// force). A missing file is an empty state. Callers hold st.mu.
func (st *stateStore) reload(force bool) error {
	const op = "checkpoint.state"
	fi, err := os.Stat(st.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	stamp := stampOf(fi)
	if !force && stamp == st.seen {
		return nil
	}
	b, err := os.ReadFile(st.path)
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil || p.Version != 1 {
		return core.Errorf(op, core.Corrupt, "%s is not a checkpoint state file (version 1): %v", filepath.Base(st.path), err)
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
	st.s, st.seen = p, stamp
	return nil
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

// update runs f on the current state and persists the result, atomically
// with respect to other processes sharing the file.
func (st *stateStore) update(f func(*persisted)) error {
	const op = "checkpoint.state"
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.path == "" {
		f(&st.s)
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
	f(&st.s)
	b, err := json.MarshalIndent(&st.s, "", "  ")
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	if err := core.WriteFileAtomic(st.path, b, 0o600); err != nil {
		return core.E(op, core.Internal, err)
	}
	if fi, err := os.Stat(st.path); err == nil {
		st.seen = stampOf(fi)
	}
	return nil
}

// read runs f on the current state, reloading it first if another process
// changed the file. A file that became unreadable keeps the last good copy.
func (st *stateStore) read(f func(*persisted)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.path != "" {
		_ = st.reload(false)
	}
	f(&st.s)
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
