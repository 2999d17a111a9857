package store

import (
	"errors"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-storage/cairn/core"
)

// DropBlob deletes the bytes of blob h from the Pebble store in dir, and
// nothing else: the logs that reference the blob keep their leaves, so the
// store then holds a leaf whose data is gone, as after a lost disk sector.
// It is a fault injector for tests; the store must not be open (stop the
// provider first). It returns kind not_found if the store holds no such
// blob.
func DropBlob(dir string, h core.H256) error {
	const op = "store.DropBlob"
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}, ErrorIfNotExists: true})
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	_, c, err := db.Get(blobKey(h))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		db.Close()
		return core.Errorf(op, core.NotFound, "no blob %s in %s", h, dir)
	case err != nil:
		db.Close()
		return core.E(op, core.Internal, err)
	}
	c.Close()
	if err := db.Delete(blobKey(h), pebble.Sync); err != nil {
		db.Close()
		return core.E(op, core.Internal, err)
	}
	if err := db.Close(); err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}
