package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"

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
}

type openChallenge struct {
	Bucket   core.BucketID  `json:"bucket"`
	Provider core.AccountID `json:"provider"`
	Deadline int64          `json:"deadline"`
}

// stateStore keeps persisted in memory and, when path is set, on disk
// after every change (temp file, fsync, rename: a crash leaves the old or
// the new file, never a torn one).
type stateStore struct {
	mu   sync.Mutex
	path string
	s    persisted
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
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return st, nil
	}
	if err != nil {
		return nil, core.E("checkpoint.openState", core.Internal, err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil || p.Version != 1 {
		return nil, core.Errorf("checkpoint.openState", core.Corrupt, "%s is not a checkpoint state file (version 1): %v", filepath.Base(path), err)
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
	st.s = p
	return st, nil
}

// update runs f under the lock and persists the result.
func (st *stateStore) update(f func(*persisted)) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
	if st.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(&st.s, "", "  ")
	if err != nil {
		return core.E("checkpoint.state", core.Internal, err)
	}
	if err := core.WriteFileAtomic(st.path, b, 0o600); err != nil {
		return core.E("checkpoint.state", core.Internal, err)
	}
	return nil
}

func (st *stateStore) read(f func(*persisted)) {
	st.mu.Lock()
	defer st.mu.Unlock()
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
