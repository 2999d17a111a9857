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
	return alterBlob("store.DropBlob", dir, h, func(db *pebble.DB, key, _ []byte) error {
		return db.Delete(key, pebble.Sync)
	})
}

// CorruptBlob flips one byte in the middle of blob h's bytes in the Pebble
// store in dir, keeping its length and its leaves: the store then serves
// bytes that no longer hash to the leaf's content hash, as after a bit
// rot. Like DropBlob it is a fault injector for tests; the store must not
// be open. It returns kind not_found if the store holds no such blob, and
// kind invalid for an empty blob (nothing to flip).
func CorruptBlob(dir string, h core.H256) error {
	const op = "store.CorruptBlob"
	return alterBlob(op, dir, h, func(db *pebble.DB, key, v []byte) error {
		if len(v) == 0 {
			return core.Errorf(op, core.Invalid, "blob %s is empty", h)
		}
		bad := append([]byte(nil), v...)
		bad[len(bad)/2] ^= 0x55
		return db.Set(key, bad, pebble.Sync)
	})
}

// alterBlob opens the store in dir, hands blob h's key and bytes to
// change, and closes the store.
func alterBlob(op, dir string, h core.H256, change func(db *pebble.DB, key, v []byte) error) error {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}, ErrorIfNotExists: true})
	if err != nil {
		return core.E(op, core.Internal, err)
	}
	v, c, err := db.Get(blobKey(h))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		db.Close()
		return core.Errorf(op, core.NotFound, "no blob %s in %s", h, dir)
	case err != nil:
		db.Close()
		return core.E(op, core.Internal, err)
	}
	v = append([]byte(nil), v...)
	c.Close()
	if err := change(db, blobKey(h), v); err != nil {
		db.Close()
		return core.E(op, core.KindOf(err), err)
	}
	if err := db.Close(); err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}
