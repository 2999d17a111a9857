package drive

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/cairn-storage/cairn/core"
)

// chunkSizes cuts n bytes read from r (size as the upload knows it) and
// returns the chunks' sizes.
func chunkSizes(t *testing.T, c *Client, r io.Reader, size int64) []int {
	t.Helper()
	k := c.newChunker(r, size, newBufPool(1<<20))
	var out []int
	for {
		b, err := k.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, len(b))
		k.pool.put(b)
	}
}

func TestChunkerCutsLargeFilesInLargeChunks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ChunkSize, cfg.LargeChunkSize, cfg.LargeFileSize = 4, 16, 40
	c := &Client{cfg: cfg}
	for _, tc := range []struct {
		name  string
		n     int
		known bool
		want  []int
	}{
		{"empty", 0, true, nil},
		{"small, known", 10, true, []int{4, 4, 2}},
		{"just below the large size, known", 39, true, []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 3}},
		{"the large size, known: large from the start", 40, true, []int{16, 16, 8}},
		{"large, known", 50, true, []int{16, 16, 16, 2}},
		{"small, unknown", 10, false, []int{4, 4, 2}},
		{"large, unknown: large once the large size is read", 70, false, []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 16, 14}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{7}, tc.n)
			size := int64(-1)
			if tc.known {
				size = int64(tc.n)
			}
			// OneByteReader: short reads must not cut short chunks.
			got := chunkSizes(t, c, iotest.OneByteReader(bytes.NewReader(data)), size)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("chunks %v, want %v", got, tc.want)
			}
			if again := chunkSizes(t, c, bytes.NewReader(data), size); !slices.Equal(again, got) {
				t.Fatalf("the same bytes cut as %v, then %v: a retry would not reuse its orphans", got, again)
			}
		})
	}
}

func TestChunkerPassesReadErrorsOn(t *testing.T) {
	boom := errors.New("disk on fire")
	c := &Client{cfg: DefaultConfig()}
	k := c.newChunker(iotest.ErrReader(boom), -1, newBufPool(1<<20))
	if _, err := k.next(); !errors.Is(err, boom) {
		t.Fatalf("next: %v, want %v", err, boom)
	}
}

func TestBufPoolReusesUpToItsBound(t *testing.T) {
	p := newBufPool(2 << 10)
	a, b, c := p.get(1<<10), p.get(1<<10), p.get(1<<10)
	p.put(a)
	p.put(b)
	p.put(c) // over the bound: left to the collector
	if p.kept != 2<<10 {
		t.Fatalf("kept %d bytes, want %d", p.kept, 2<<10)
	}
	if got := p.get(1 << 10); &got[0] != &b[0] {
		t.Error("a buffer given back was not reused")
	}
	if got := p.get(512); len(got) != 512 || cap(got) != 512 {
		t.Errorf("get(512) gave len %d cap %d: sizes do not mix", len(got), cap(got))
	}
}

func TestManifestChunkSizeBounded(t *testing.T) {
	h := core.Sum256([]byte("x"))
	for _, tc := range []struct {
		size uint64
		ok   bool
	}{{maxChunk, true}, {maxChunk + 1, false}, {1 << 62, false}} {
		b, _ := encodeNode(FileManifest{Version: 1, Size: tc.size, Chunks: []ChunkRef{{CID: CIDOf(h, true), Size: tc.size}}})
		if _, err := decodeManifest(b); (err == nil) != tc.ok {
			t.Errorf("chunk of %d bytes: %v, want ok=%v", tc.size, err, tc.ok)
		} else if err != nil && !errors.Is(err, core.Corrupt) {
			t.Errorf("chunk of %d bytes: %v, want kind Corrupt", tc.size, err)
		}
	}
}
