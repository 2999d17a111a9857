package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func mustOpenState(t *testing.T, path string) *stateStore {
	t.Helper()
	st, err := openState(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A version-1 file is read once and rewritten as a journal with the same
// dirty flags, pending roots and results.
func TestStateMigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	writeV1State(t, path, 3)
	for round := 0; round < 2; round++ { // the second open reads the journal
		st := mustOpenState(t, path)
		if got := st.dirtyBuckets(); len(got) != 3 {
			t.Fatalf("round %d: dirty %v, want 3 buckets", round, got)
		}
		st.read(func(p *persisted) {
			if pr := p.PendingRoot[2]; pr.RootCID != "bafy-root-2" || pr.Leaf.Seq != 2 {
				t.Fatalf("round %d: pending root %+v", round, pr)
			}
			if r := p.LastResult[3]; r == nil || r.Kind != Submitted || r.Height != 3 {
				t.Fatalf("round %d: last result %+v", round, r)
			}
		})
		b, _ := os.ReadFile(path)
		if !bytes.HasPrefix(b, []byte(journalMagic)) {
			t.Fatalf("round %d: not migrated: %.40q", round, b)
		}
	}
}

// Persisting one bucket's change appends one line, however many buckets
// the file holds, and a change that changes nothing writes nothing.
func TestStateUpdateAppendsOneLine(t *testing.T) {
	for _, n := range []int{10, 1000} {
		path := filepath.Join(t.TempDir(), "state.json")
		writeV1State(t, path, n)
		st := mustOpenState(t, path)
		before := fileSize(t, path)
		if err := st.updateBucket(1, func(p *persisted) { p.Dirty[1]++ }); err != nil {
			t.Fatal(err)
		}
		grew := fileSize(t, path) - before
		if grew <= 0 || grew > 1024 {
			t.Fatalf("%d buckets: the file grew by %d bytes, want one line", n, grew)
		}
		if err := st.updateBucket(1, func(p *persisted) {}); err != nil {
			t.Fatal(err)
		}
		if got := fileSize(t, path) - before; got != grew {
			t.Fatalf("%d buckets: a no-op update wrote %d bytes", n, got-grew)
		}
	}
}

// A line a crash left half written is ignored, and cut off by the next
// update; a complete line that does not check is corruption.
func TestStateJournalDamage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		damage  func([]byte) []byte
		corrupt bool
	}{
		{"torn last line", func(b []byte) []byte { return append(b, `0badc0de {"bucket":9,"st`...) }, false},
		{"zeros after a crash", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, false},
		{"flipped byte in a line", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"dirty":`))
			b[i+8]++
			return b
		}, true},
		{"line of another format", func(b []byte) []byte { return append(b, "hello\n"...) }, true},
		{"foreign file", func([]byte) []byte { return []byte("{not json") }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			st := mustOpenState(t, path)
			if err := st.updateBucket(5, func(p *persisted) { p.Dirty[5] = 41 }); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, tt.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			st2, err := openState(path)
			if tt.corrupt {
				if !errors.Is(err, core.Corrupt) {
					t.Fatalf("open: %v, want corrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := st2.updateBucket(6, func(p *persisted) { p.Dirty[6] = 1 }); err != nil {
				t.Fatal(err)
			}
			b, _ = os.ReadFile(path)
			if _, n, err := decodeJournal(b); err != nil || n != len(b) {
				t.Fatalf("after the update %d of %d bytes are lines (%v): the torn tail was not cut off", n, len(b), err)
			}
			st3 := mustOpenState(t, path)
			st3.read(func(p *persisted) {
				if p.Dirty[5] != 41 || p.Dirty[6] != 1 || len(p.Dirty) != 2 {
					t.Fatalf("dirty %v, want 5:41 and 6:1", p.Dirty)
				}
			})
		})
	}
}

// The journal is compacted when it carries too much dead weight, and
// another process that followed it by appending reads the compacted file
// whole.
func TestStateJournalCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	a, b := mustOpenState(t, path), mustOpenState(t, path)
	if err := b.updateBucket(2, func(p *persisted) { p.PendingRoot[2] = PendingRoot{RootCID: "kept"} }); err != nil {
		t.Fatal(err)
	}
	b.read(func(*persisted) {}) // b has caught up before a compacts
	var max int64
	for i := 0; i < 3000; i++ {
		if err := a.updateBucket(1, func(p *persisted) { p.Dirty[1]++ }); err != nil {
			t.Fatal(err)
		}
		max = maxInt64(max, fileSize(t, path))
	}
	if limit := int64(compactSlack + 4096); max > limit {
		t.Fatalf("the journal reached %d bytes for two buckets, want compaction below %d", max, limit)
	}
	b.read(func(p *persisted) {
		if p.Dirty[1] != 3000 || p.PendingRoot[2].RootCID != "kept" {
			t.Fatalf("after compaction b reads dirty %v, pending %v", p.Dirty, p.PendingRoot)
		}
	})
	if err := b.updateBucket(2, func(p *persisted) { delete(p.PendingRoot, 2) }); err != nil {
		t.Fatal(err)
	}
	mustOpenState(t, path).read(func(p *persisted) {
		if p.Dirty[1] != 3000 || len(p.PendingRoot) != 0 {
			t.Fatalf("reopened: dirty %v, pending %v", p.Dirty, p.PendingRoot)
		}
	})
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// A state file removed under a running client is written afresh by its
// next update, not appended to a file that is gone.
func TestStateFileRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st := mustOpenState(t, path)
	if err := st.updateBucket(1, func(p *persisted) { p.Dirty[1] = 1 }); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := st.updateBucket(2, func(p *persisted) { p.Dirty[2] = 1 }); err != nil {
		t.Fatal(err)
	}
	if got := mustOpenState(t, path).dirtyBuckets(); len(got) != 2 {
		t.Fatalf("dirty %v, want both buckets", got)
	}
}

// FuzzDecodeJournal: any file content decodes (or, for the whole load,
// migrates) to a state or an error, never a panic; a decoded state written out again (compacted) decodes to
// the same lines.
func FuzzDecodeJournal(f *testing.F) {
	f.Add([]byte(journalHeader))
	f.Add([]byte(journalHeader + `0badc0de {"bucket":1`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever a state file holds (a journal, a version-1 document to
		// migrate, anything else) loads or is refused without a panic.
		st := &stateStore{path: "state.json"}
		if err := st.load(data, 1); err == nil {
			if _, _, err := decodeJournal(st.j.snapshot(newHead())); err != nil {
				t.Fatalf("a loaded state does not write a journal that decodes: %v", err)
			}
		}
		j, n, err := decodeJournal(data)
		if err != nil {
			return
		}
		if n > len(data) {
			t.Fatalf("%d bytes decoded of %d", n, len(data))
		}
		snap := j.snapshot(j.head)
		j2, n2, err := decodeJournal(snap)
		if err != nil || n2 != len(snap) {
			t.Fatalf("the snapshot of a decoded journal does not decode: %v (%d of %d bytes)", err, n2, len(snap))
		}
		if !bytes.Equal(j2.snapshot(j2.head), snap) {
			t.Fatal("snapshot changed by a round trip")
		}
	})
}

// A compacted file that gets the inode number of the file it replaced
// (file systems reuse them) is still read whole by another process: the
// epoch in its first line tells the two apart. The reuse is staged by
// giving the reader the new file's inode as the one it read.
func TestStateJournalReplacedWithTheSameInode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	a, b := mustOpenState(t, path), mustOpenState(t, path)
	if err := a.updateBucket(1, func(p *persisted) { p.Dirty[1] = 1 }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ { // b appends lines a has not read
		if err := b.updateBucket(2, func(p *persisted) { p.PendingRoot[2] = PendingRoot{RootCID: strings.Repeat("x", i)} }); err != nil {
			t.Fatal(err)
		}
	}
	a.mu.Lock()
	a.legacy = true // a's next update writes the file whole: a new file
	a.mu.Unlock()
	if err := a.updateBucket(1, func(p *persisted) { p.Dirty[1] = 2 }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	// As if the new file had the old one's number and b had read as many
	// bytes of it as it holds: without the epoch b would see nothing new.
	b.ino, b.off = inodeOf(fi), fi.Size()
	b.mu.Unlock()
	b.read(func(p *persisted) {
		if p.Dirty[1] != 2 || p.PendingRoot[2].RootCID != strings.Repeat("x", 39) {
			t.Fatalf("b reads dirty %v, pending %v after the file was replaced", p.Dirty, p.PendingRoot)
		}
	})
}
