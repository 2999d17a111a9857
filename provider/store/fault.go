package store

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-storage/cairn/core"
)

// DropBlob makes blob h's bytes unreachable in the store in dir, and
// changes nothing else: its location is deleted from the index (the bytes
// stay in their segment, unindexed, like a crash's leftovers), and the
// logs that reference the blob keep their leaves, so the store then holds
// a leaf whose data is gone, as after a lost disk sector. It is a fault
// injector for tests; the store must not be open (stop the provider
// first). It returns kind not_found if the store holds no such blob.
func DropBlob(dir string, h core.H256) error {
	return alterBlob("store.DropBlob", dir, h, func(db *pebble.DB, key []byte, _ blobLoc) error {
		return db.Delete(key, pebble.Sync)
	})
}

// CorruptBlob flips one byte in the middle of blob h's bytes in its
// segment in the store in dir, keeping its length and its leaves: the
// store then serves bytes that no longer hash to the leaf's content hash,
// as after a bit rot. Like DropBlob it is a fault injector for tests; the
// store must not be open. It returns kind not_found if the store holds no
// such blob, and kind invalid for an empty blob (nothing to flip).
func CorruptBlob(dir string, h core.H256) error {
	const op = "store.CorruptBlob"
	return alterBlob(op, dir, h, func(_ *pebble.DB, _ []byte, l blobLoc) error {
		if l.length == 0 {
			return core.Errorf(op, core.Invalid, "blob %s is empty", h)
		}
		f, err := os.OpenFile(filepath.Join(dir, blobDir, segmentName(l.segment)), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		at := int64(l.offset + l.length/2)
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, at); err != nil {
			return err
		}
		b[0] ^= 0x55
		if _, err := f.WriteAt(b, at); err != nil {
			return err
		}
		return f.Sync()
	})
}

// alterBlob opens the index of the store in dir, hands blob h's key and
// location to change, and closes the index.
func alterBlob(op, dir string, h core.H256, change func(db *pebble.DB, key []byte, l blobLoc) error) error {
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
	l, err := decodeBlobLoc(v)
	c.Close()
	if err != nil {
		db.Close()
		return core.E(op, core.Corrupt, err)
	}
	if err := change(db, blobKey(h), l); err != nil {
		db.Close()
		return core.E(op, core.KindOf(err), err)
	}
	if err := db.Close(); err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}
