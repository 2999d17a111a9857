package chain

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// TestReadCacheMirrorsCommittedState: reads through the cache give what
// Pebble holds after each commit (sets, overwrites, deletes, keys read
// as absent then written), and the cache stays within its bound.
func TestReadCacheMirrorsCommittedState(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const max = 4*entryOverhead + 64
	c := newReadCache(dbReader{db}, max)
	commit := func(o *overlay) {
		b := db.NewBatch()
		for k, e := range o.writes {
			if e.deleted {
				b.Delete([]byte(k), nil)
			} else {
				b.Set([]byte(k), e.val, nil)
			}
		}
		if err := b.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		c.committed(o)
	}
	keys := []string{"a", "b", "c", "long", "never"}
	check := func(step string) {
		t.Helper()
		for _, k := range keys {
			want, wantOK := dbReader{db}.get(k)
			for range 2 { // a miss, then a hit
				got, ok := c.get(k)
				if ok != wantOK || !bytes.Equal(got, want) {
					t.Fatalf("%s: %q = %q, %v; Pebble has %q, %v", step, k, got, ok, want, wantOK)
				}
			}
		}
		if c.bytes > max {
			t.Fatalf("%s: cache holds %d bytes, bound %d", step, c.bytes, max)
		}
	}
	for _, step := range []struct {
		name string
		set  map[string]string
		del  []string
	}{
		{name: "empty"},
		{name: "first writes", set: map[string]string{"a": "1", "b": "2"}},
		{name: "overwrite a cached key, write one read as absent", set: map[string]string{"a": "10", "c": "3"}},
		{name: "delete a cached key", del: []string{"b"}},
		{name: "a value near the bound", set: map[string]string{"long": string(bytes.Repeat([]byte("x"), max-entryOverhead-10))}},
		{name: "write back a deleted key, delete another", set: map[string]string{"b": "20"}, del: []string{"a"}},
		{name: "a value above the bound", set: map[string]string{"long": string(bytes.Repeat([]byte("y"), 2*max))}},
	} {
		o := newOverlay(c)
		for k, v := range step.set {
			o.set(k, []byte(v))
		}
		for _, k := range step.del {
			o.del(k)
		}
		commit(o)
		if step.name != "a value above the bound" {
			check(step.name)
			continue
		}
		// A value larger than the bound is still served right, and
		// leaves the cache holding only it.
		if got, ok := c.get("long"); !ok || len(got) != 2*max {
			t.Fatalf("%s: long = %d bytes, %v", step.name, len(got), ok)
		}
		if len(c.vals) != 1 {
			t.Fatalf("%s: %d entries", step.name, len(c.vals))
		}
	}
}
