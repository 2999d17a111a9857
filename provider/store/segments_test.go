package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-storage/cairn/core"
)

// failingBlobs is blobFiles whose sync fails while fail is set.
type failingBlobs struct {
	memBlobs
	fail  bool
	syncs int
}

func (f *failingBlobs) sync() error {
	f.syncs++
	if f.fail {
		return errors.New("disk gone")
	}
	return nil
}

// An append whose blob bytes cannot be made durable indexes nothing: the
// batch is never applied, the seq stays free, and a later append (the
// disk back) lands there. An append that writes no new bytes (the bucket
// holds the blob already) needs no blob sync.
func TestBlobSyncFailsBeforeIndex(t *testing.T) {
	kv, blobs := newMemKV(), &failingBlobs{}
	d, err := open(kv, blobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Append(1, write(0, []byte("zero"))); err != nil {
		t.Fatal(err)
	}
	blobs.fail = true
	lost := []byte("never durable")
	if _, err := d.Append(1, write(1, lost)); core.KindOf(err) != core.Internal {
		t.Fatalf("append whose blob sync failed: %v, want internal", err)
	}
	if _, err := kv.get(blobKey(core.Sum256(lost))); !errors.Is(err, errNoKey) {
		t.Fatalf("blob index entry written though its bytes were not synced: %v", err)
	}
	if st, _ := d.State(1); st.LeafCount != 1 {
		t.Fatalf("state after failed blob sync: %+v", st)
	}
	syncs := blobs.syncs
	if _, err := d.Append(1, write(1, []byte("zero"))); err != nil { // the bucket holds these bytes
		t.Fatalf("append of a blob the bucket holds, with blob sync failing: %v", err)
	}
	if blobs.syncs != syncs {
		t.Fatal("an append that wrote no blob bytes synced the blob files")
	}
	blobs.fail = false
	if _, err := d.Append(1, write(2, lost)); err != nil {
		t.Fatal(err)
	}
	b, err := d.OpenBlob(1, core.Sum256(lost))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, _ := io.ReadAll(b); !bytes.Equal(got, lost) {
		t.Fatalf("blob reads %q", got)
	}
}

// What a crash leaves behind, bytes at the end of a segment that no index
// entry names, is never read: after a reopen every indexed blob reads back
// whole, new blobs go to a new segment (the old one is never appended to),
// and they read back whole too.
func TestSegmentOrphansAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenPebble(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	blobs := [][]byte{[]byte("first blob"), bytes.Repeat([]byte("second "), 1000)}
	for i, data := range blobs[:1] {
		if _, err := s.Append(1, write(uint64(i), data)); err != nil {
			t.Fatal(err)
		}
	}
	// A write whose bytes reached the segment before the process died,
	// but whose batch never committed.
	d := s.(*db)
	if _, err := d.blobs.write([]byte("orphan bytes of a write that never committed")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenPebble(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(1, write(1, blobs[1])); err != nil {
		t.Fatal(err)
	}
	for i, data := range blobs {
		b, err := s.OpenBlob(1, core.Sum256(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blob %d after reopen: %q, %v", i, got, err)
		}
	}
	segs, err := filepath.Glob(filepath.Join(dir, blobDir, "*"+segmentSuffix))
	if err != nil || len(segs) != 2 {
		t.Fatalf("segments %v (%v): want the first run's and a new one", segs, err)
	}
	if st, _ := s.State(1); st.LeafCount != 2 {
		t.Fatalf("state %+v: the orphan bytes became a leaf", st)
	}
}

// A blob whose segment lost its tail (a truncated file) is corrupt, not
// short data served as if whole.
func TestSegmentTruncatedIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenPebble(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 4096)
	if _, err := s.Append(1, write(0, data)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Truncate(filepath.Join(dir, blobDir, segmentName(0)), 100); err != nil {
		t.Fatal(err)
	}
	s, err = OpenPebble(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.OpenBlob(1, core.Sum256(data)); core.KindOf(err) != core.Corrupt {
		t.Fatalf("blob in a truncated segment: %v, want corrupt", err)
	}
}

// A store written in an earlier on-disk format (blob bytes inside Pebble)
// is refused with an error that names both formats, and is left as it was.
func TestOpenRefusesOldFormat(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(versionKey, []byte("cairn-provider-store/2"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenPebble(dir, Options{})
	if core.KindOf(err) != core.Invalid || !strings.Contains(err.Error(), "cairn-provider-store/2") || !strings.Contains(err.Error(), formatVersion) {
		t.Fatalf("open of a version 2 store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, blobDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refusing an old store created its blob directory: %v", err)
	}
}

func TestBlobLocRoundTrip(t *testing.T) {
	for _, l := range []blobLoc{{}, {segment: 3, offset: 1 << 40, length: 1 << 20}} {
		got, err := decodeBlobLoc(encodeBlobLoc(l))
		if err != nil || got != l {
			t.Errorf("%+v round-trips to %+v, %v", l, got, err)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 23), make([]byte, 25), encodeBlobLoc(blobLoc{offset: ^uint64(0), length: 2})} {
		if _, err := decodeBlobLoc(b); err == nil {
			t.Errorf("decodeBlobLoc(%x) accepted", b)
		}
	}
}
