package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/cockroachdb/pebble"
)

// reader reads committed or buffered state. A missing key gives ok=false.
type reader interface {
	get(key string) (val []byte, ok bool)
}

// pebbleReader is what reads committed state: the database, or a
// snapshot of it that queries read without the app's lock.
type pebbleReader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// dbReader reads the committed state in Pebble. A storage failure is a
// broken invariant for a replicated state machine: it panics.
type dbReader struct{ db pebbleReader }

func (r dbReader) get(key string) ([]byte, bool) {
	v, closer, err := r.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		panic(fmt.Sprintf("chain: storage read %q: %v", key, err))
	}
	out := bytes.Clone(v)
	closer.Close()
	return out, true
}

// overlay buffers writes over a parent reader: a transaction's writes over
// its block's, a block's over the committed state.
type overlay struct {
	parent reader
	writes map[string]entry
}

type entry struct {
	val     []byte
	deleted bool
}

func newOverlay(parent reader) *overlay {
	return &overlay{parent: parent, writes: map[string]entry{}}
}

func (o *overlay) get(key string) ([]byte, bool) {
	if e, ok := o.writes[key]; ok {
		if e.deleted {
			return nil, false
		}
		return e.val, true
	}
	return o.parent.get(key)
}

func (o *overlay) set(key string, val []byte) { o.writes[key] = entry{val: val} }
func (o *overlay) del(key string)             { o.writes[key] = entry{deleted: true} }

// mergeInto applies o's writes to dst.
func (o *overlay) mergeInto(dst *overlay) {
	for k, e := range o.writes {
		dst.writes[k] = e
	}
}

// sortedKeys returns the written keys in byte order.
func (o *overlay) sortedKeys() []string {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// scan calls fn for each committed key with the prefix, in order, until fn
// returns false.
func scan(db pebbleReader, prefix string, fn func(key string, val []byte) bool) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: prefixEnd([]byte(prefix))})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(string(it.Key()), it.Value()) {
			break
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}
