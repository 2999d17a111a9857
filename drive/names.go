package drive

import (
	"sync"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// driveNames remembers the id each name of the signer's drives had at the
// last listing, so resolving a name costs one query of that drive rather
// than a listing of all the signer's drives (a client with 1,000 drives
// read all 1,000 at every put by name). A remembered id is only a hint:
// ResolveDrive checks the drive it reads still has that owner and name,
// and lists again when it does not (deleted, or another drive's id).
// The zero value is ready.
type driveNames struct {
	mu  sync.Mutex
	ids map[string]core.DriveID
}

func (n *driveNames) lookup(name string) (core.DriveID, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.ids[name]
	return id, ok
}

func (n *driveNames) forget(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.ids, name)
}

// learn replaces what is remembered with a listing sorted by id: a name
// that several drives share resolves to the lowest id, as a listing does.
func (n *driveNames) learn(ds []wire.Drive) {
	ids := make(map[string]core.DriveID, len(ds))
	for _, d := range ds {
		if _, dup := ids[d.Name]; !dup {
			ids[d.Name] = d.ID
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = ids
}
