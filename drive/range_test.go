package drive

import (
	"errors"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// rangeOf picks the chunks a range overlaps by the prefix sum of their
// sizes, which may differ, and never panics on a manifest whose chunks do
// not add up to its size.
func TestRangeOf(t *testing.T) {
	m := &FileManifest{Size: 10 + 10 + 40 + 5, Chunks: []ChunkRef{{"a", 10}, {"b", 10}, {"c", 40}, {"d", 5}}}
	for _, tc := range []struct {
		name    string
		m       *FileManifest
		off, n  int64
		chunks  string // CIDs of the chunks fetched, in order
		skip, w uint64
		kind    core.Kind // of the error; Other: none
	}{
		{"whole", m, 0, -1, "abcd", 0, 65, core.Other},
		{"inside one chunk", m, 22, 5, "c", 2, 5, core.Other},
		{"across a boundary", m, 15, 10, "bc", 5, 10, core.Other},
		{"ends at a boundary", m, 10, 10, "b", 0, 10, core.Other},
		{"starts at a boundary", m, 20, 41, "cd", 0, 41, core.Other},
		{"past the end stops at it", m, 62, 100, "d", 2, 3, core.Other},
		{"the last byte", m, 64, -1, "d", 4, 1, core.Other},
		{"empty", m, 3, 0, "", 0, 0, core.Other},
		{"at the size: empty", m, 65, -1, "", 0, 0, core.Other},
		{"beyond the size", m, 66, 1, "", 0, 0, core.Invalid},
		{"negative offset", m, -1, 1, "", 0, 0, core.Invalid},
		{"chunks short of the size", &FileManifest{Size: 30, Chunks: []ChunkRef{{"a", 10}}}, 12, 1, "", 0, 0, core.Corrupt},
		{"no chunks", &FileManifest{Size: 0}, 0, -1, "", 0, 0, core.Other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := rangeOf(tc.m, tc.off, tc.n)
			if core.KindOf(err) != tc.kind {
				t.Fatalf("error %v, want kind %v", err, tc.kind)
			}
			if tc.kind == core.Invalid && !errors.Is(err, ErrOffset) {
				t.Errorf("error %v is not ErrOffset", err)
			}
			var got string
			for _, c := range s.chunks {
				got += c.CID
			}
			if got != tc.chunks || s.skip != tc.skip || s.n != tc.w {
				t.Errorf("chunks %q skip %d n %d, want %q %d %d", got, s.skip, s.n, tc.chunks, tc.skip, tc.w)
			}
		})
	}
}

// SeekOffset follows io.Seeker: from the start, the current offset or the
// end; past the end allowed, before the start or an unknown whence
// Invalid (and the offset unchanged).
func TestSeekOffset(t *testing.T) {
	for _, tc := range []struct {
		cur, size, offset int64
		whence            int
		want              int64
		kind              core.Kind
	}{
		{5, 100, 7, 0, 7, core.Other},
		{5, 100, 7, 1, 12, core.Other},
		{5, 100, -7, 2, 93, core.Other},
		{5, 100, 10, 2, 110, core.Other},
		{5, 100, -6, 1, 5, core.Invalid},
		{5, 100, -101, 2, 5, core.Invalid},
		{5, 100, 0, 3, 5, core.Invalid},
	} {
		got, err := SeekOffset(tc.cur, tc.size, tc.offset, tc.whence)
		if got != tc.want || core.KindOf(err) != tc.kind {
			t.Errorf("SeekOffset(%d, %d, %d, %d) = %d, %v; want %d, kind %v", tc.cur, tc.size, tc.offset, tc.whence, got, err, tc.want, tc.kind)
		}
	}
}
