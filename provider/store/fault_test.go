package store

import (
	"bytes"
	"io"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// The fault injectors change one blob's bytes on disk and nothing else:
// the leaf stays, a dropped blob is gone, a corrupted one keeps its length
// and no longer hashes to the leaf.
func TestBlobFaults(t *testing.T) {
	data := []byte("a blob a provider will lose or rot")
	for _, tc := range []struct {
		name  string
		fault func(dir string, h core.H256) error
		check func(t *testing.T, got []byte, err error)
	}{
		{name: "drop", fault: DropBlob, check: func(t *testing.T, got []byte, err error) {
			if err == nil {
				t.Errorf("dropped blob still reads %q", got)
			}
		}},
		{name: "corrupt", fault: CorruptBlob, check: func(t *testing.T, got []byte, err error) {
			if err == nil && (len(got) != len(data) || core.Sum256(got) == core.Sum256(data)) {
				t.Errorf("corrupted blob reads %q: want the same length and other bytes", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenPebble(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(1, write(0, data)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			h := core.Sum256(data)
			if err := tc.fault(dir, core.Sum256([]byte("no such blob"))); core.KindOf(err) != core.NotFound {
				t.Errorf("%s of a blob the store lacks: %v, want not_found", tc.name, err)
			}
			if err := tc.fault(dir, h); err != nil {
				t.Fatal(err)
			}
			s, err = OpenPebble(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if l, err := s.Leaf(1, 0); err != nil || l.ContentHash != h {
				t.Fatalf("leaf after %s: %+v, %v; want it kept", tc.name, l, err)
			}
			var got []byte
			b, err := s.OpenBlob(1, h)
			if err == nil {
				got, err = io.ReadAll(b)
				b.Close()
			}
			if bytes.Equal(got, data) {
				t.Fatalf("after %s the blob still reads back intact", tc.name)
			}
			tc.check(t, got, err)
		})
	}
}
