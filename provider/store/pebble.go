package store

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"github.com/cairn-storage/cairn/core"
)

// OpenPebble opens (creating if needed) a store in dir: a Pebble database
// holding everything but blob bytes, which lie in segment files under
// dir/blobs (segments.go).
func OpenPebble(dir string, o Options) (Store, error) {
	cache := pebble.NewCache(64 << 20)
	defer cache.Unref() // the DB holds its own reference
	opts := &pebble.Options{
		Cache: cache,
		// Blobs are up to a few MiB each: a larger memtable flushes less often.
		MemTableSize: 64 << 20,
		Logger:       quietLogger{},
	}
	// Point reads dominate (MMR nodes for proofs, leaves, blobs): bloom
	// filters spare them a look into every level. Hashes and blobs do
	// not compress.
	opts.Levels = make([]pebble.LevelOptions, 7)
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].Compression = pebble.NoCompression
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, core.E("store.OpenPebble", core.Internal, err)
	}
	segs, err := openSegments(filepath.Join(dir, blobDir), o.NoSync)
	if err != nil {
		db.Close()
		return nil, core.E("store.OpenPebble", core.Internal, err)
	}
	s, err := open(&pebbleKV{db: db}, segs, o)
	if err != nil {
		db.Close()
		segs.close()
		return nil, err
	}
	return s, nil
}

// blobDir is where a Pebble store keeps its blob segments, under its
// directory.
const blobDir = "blobs"

type pebbleKV struct {
	db *pebble.DB
}

func (p *pebbleKV) get(key []byte) ([]byte, error) {
	v, c, err := p.view(key)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return bytes.Clone(v), nil
}

func (p *pebbleKV) view(key []byte) ([]byte, io.Closer, error) {
	v, c, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, errNoKey
	}
	return v, c, err
}

func (p *pebbleKV) has(key []byte) (bool, error) {
	_, c, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, c.Close()
}

func (p *pebbleKV) scan(prefix []byte, fn func(k, v []byte) bool) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}

func (p *pebbleKV) apply(b *batch, sync bool) error {
	pb := p.db.NewBatch()
	defer pb.Close()
	for _, op := range b.ops {
		var err error
		switch op.kind {
		case opSet:
			err = pb.Set(op.key, op.val, nil)
		case opDeleteRange:
			err = pb.DeleteRange(op.key, op.val, nil)
		}
		if err != nil {
			return err
		}
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	return pb.Commit(opts)
}

func (p *pebbleKV) close() error { return p.db.Close() }

// quietLogger drops Pebble's informational lines; errors still surface as
// returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
