package providers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cairn-storage/cairn/core"
)

// healthFile is the health records on disk, beside the checkpoint state
// file (HOME/state/ACCOUNT.health.json). Several processes of one account
// share it: a save is a read-modify-write under an exclusive flock on
// PATH.lock that keeps the other processes' records of providers this one
// did not touch, and the write is atomic (core.WriteFileAtomic), so a crash
// leaves the old or the new file.
type healthFile struct {
	path string
}

// healthFileV1 is the file's content.
type healthFileV1 struct {
	Version int                       `json:"version"`
	Health  map[core.AccountID]Health `json:"health"`
}

// maxHealthFile bounds the file read back: a record is a few hundred bytes.
const maxHealthFile = 16 << 20

// load reads the file; a missing file is no records.
func (f *healthFile) load() (map[core.AccountID]Health, error) {
	const op = "providers.health"
	fi, err := os.Stat(f.path)
	if os.IsNotExist(err) {
		return map[core.AccountID]Health{}, nil
	}
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	if fi.Size() > maxHealthFile {
		return nil, core.Errorf(op, core.Corrupt, "%s is %d bytes, more than a health file holds", filepath.Base(f.path), fi.Size())
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	var v healthFileV1
	if err := json.Unmarshal(b, &v); err != nil || v.Version != 1 {
		return nil, core.Errorf(op, core.Corrupt, "%s is not a provider health file (version 1): %v", filepath.Base(f.path), err)
	}
	if v.Health == nil {
		v.Health = map[core.AccountID]Health{}
	}
	return v.Health, nil
}

// merge writes changed over the file's records, under the lock, and
// returns the records now in the file.
func (f *healthFile) merge(changed map[core.AccountID]Health) (map[core.AccountID]Health, error) {
	const op = "providers.health"
	unlock, err := f.lock()
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	defer unlock()
	hs, err := f.load()
	if err != nil {
		if core.KindOf(err) != core.Corrupt {
			return nil, err
		}
		hs = map[core.AccountID]Health{} // a torn or foreign file: start over
	}
	for a, h := range changed {
		hs[a] = h
	}
	b, err := json.MarshalIndent(healthFileV1{Version: 1, Health: hs}, "", "  ")
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	if err := core.WriteFileAtomic(f.path, b, 0o600); err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	return hs, nil
}

// lock takes the exclusive cross-process lock; the returned function
// releases it.
func (f *healthFile) lock() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(f.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		lf.Close()
	}, nil
}
