package drive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// blobCounter is a RoundTripper that records which blobs are fetched (the
// last element of each GET .../blobs/<hash>).
type blobCounter struct {
	mu   sync.Mutex
	got  map[string]bool
	next http.RoundTripper
}

func (b *blobCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
		b.mu.Lock()
		b.got[path.Base(r.URL.Path)] = true
		b.mu.Unlock()
	}
	return b.next.RoundTrip(r)
}

// take returns the blobs fetched since the last take and forgets them.
func (b *blobCounter) take() map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.got
	b.got = map[string]bool{}
	return got
}

// mixedFile is a file cut in chunks of two sizes: 16 small ones of 64 KiB
// (the upload cannot tell the size, so the first LargeFileSize bytes go in
// small chunks), then large ones of 256 KiB, the last one short.
type mixedFile struct {
	data   []byte
	bounds []int    // chunk i is data[bounds[i]:bounds[i+1]]
	hashes []string // hex SHA-256 of each chunk, as blob paths name them
}

func newMixedFile() mixedFile {
	const small, large, from = 64 << 10, 256 << 10, 1 << 20
	f := mixedFile{data: randomBytes(21, from+2*large+100<<10)}
	for at := 0; at < len(f.data); {
		f.bounds = append(f.bounds, at)
		size := small
		if at >= from {
			size = large
		}
		at = min(at+size, len(f.data))
	}
	f.bounds = append(f.bounds, len(f.data))
	for i := range len(f.bounds) - 1 {
		h := sha256.Sum256(f.data[f.bounds[i]:f.bounds[i+1]])
		f.hashes = append(f.hashes, core.H256(h).String())
	}
	return f
}

// overlapping is the chunks [off, off+n) overlaps, by hash.
func (f mixedFile) overlapping(off, n int) map[string]bool {
	want := map[string]bool{}
	for i := range f.hashes {
		if n > 0 && f.bounds[i] < off+n && f.bounds[i+1] > off {
			want[f.hashes[i]] = true
		}
	}
	return want
}

// setupRange uploads a mixedFile to a new drive through a client that
// counts the blobs it fetches.
func setupRange(t *testing.T) (*drive.Client, *blobCounter, mixedFile) {
	t.Helper()
	n := startNet(t)
	count := &blobCounter{got: map[string]bool{}, next: http.DefaultTransport}
	c := newClient(t, n, clientOpts{transport: count, cfg: func(c *drive.Config) {
		c.ChunkSize, c.LargeChunkSize, c.LargeFileSize = 64<<10, 256<<10, 1<<20
	}})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "r", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	f := newMixedFile()
	res, err := c.UploadFile(ctx, "r", "/f", struct{ io.Reader }{bytes.NewReader(f.data)}, drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Chunks != len(f.hashes) {
		t.Fatalf("uploaded in %d chunks, the test expects %d", res.Chunks, len(f.hashes))
	}
	return c, count, f
}

// DownloadRange and File.ReadAt give exactly the bytes of any range of a
// file of mixed chunk sizes, fetching exactly the chunks the range
// overlaps; a range past the end stops at it; an offset past the end is
// Invalid.
func TestDownloadRangeGivesTheBytesAndFetchesOnlyTheirChunks(t *testing.T) {
	c, count, f := setupRange(t)
	ctx := context.Background()
	file, err := c.Open(ctx, "r", "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if file.Size() != int64(len(f.data)) {
		t.Fatalf("Size %d, want %d", file.Size(), len(f.data))
	}
	var buf bytes.Buffer
	if _, err := c.DownloadRange(ctx, "r", "/f", 0, -1, &buf); err != nil || !bytes.Equal(buf.Bytes(), f.data) {
		t.Fatalf("whole file: %v, equal %v", err, bytes.Equal(buf.Bytes(), f.data))
	}
	count.take() // the directory nodes and the manifest are cached from here on
	size := len(f.data)
	rapid.Check(t, func(rt *rapid.T) {
		off := rapid.IntRange(0, size).Draw(rt, "off")
		n := rapid.IntRange(-1, size+1).Draw(rt, "n")
		end := size
		if n >= 0 {
			end = min(off+n, size)
		}
		var buf bytes.Buffer
		got, err := c.DownloadRange(ctx, "r", "/f", int64(off), int64(n), &buf)
		if err != nil || got != int64(end-off) || !bytes.Equal(buf.Bytes(), f.data[off:end]) {
			rt.Fatalf("DownloadRange(%d, %d): %d bytes, %v; equal %v", off, n, got, err, bytes.Equal(buf.Bytes(), f.data[off:end]))
		}
		if fetched, want := count.take(), f.overlapping(off, end-off); !equalSets(fetched, want) {
			rt.Fatalf("DownloadRange(%d, %d) fetched %d blobs, want the %d chunks it overlaps", off, n, len(fetched), len(want))
		}
		p := make([]byte, max(n, 0))
		k, err := file.ReadAt(p, int64(off))
		atEnd := min(off+len(p), size)
		if k != atEnd-off || !bytes.Equal(p[:k], f.data[off:atEnd]) || (k < len(p)) != errors.Is(err, io.EOF) {
			rt.Fatalf("ReadAt(%d bytes, %d): %d bytes, %v", len(p), off, k, err)
		}
		count.take()
	})
	for _, off := range []int64{int64(size) + 1, -1} {
		if _, err := c.DownloadRange(ctx, "r", "/f", off, 1, io.Discard); !errors.Is(err, core.Invalid) || !errors.Is(err, drive.ErrOffset) {
			t.Errorf("offset %d: %v, want invalid (ErrOffset)", off, err)
		}
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// A File reads on from where it is, jumps to the end without fetching
// what comes before, goes back, and reads on within MaxSkip of its
// stream; Close ends its download (goleak, in TestMain, checks).
func TestFileSeekThenRead(t *testing.T) {
	c, count, f := setupRange(t)
	file, err := c.Open(context.Background(), "r", "/f")
	if err != nil {
		t.Fatal(err)
	}
	count.take()
	size := int64(len(f.data))
	read := func(off int64, whence, n int) []byte {
		t.Helper()
		at, err := file.Seek(off, whence)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, n)
		k, err := io.ReadFull(file, p)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read %d at %d: %v", n, at, err)
		}
		if want := f.data[at:min(at+int64(n), size)]; !bytes.Equal(p[:k], want) {
			t.Fatalf("read %d at %d: %d bytes, differ from the file's", n, at, k)
		}
		return p[:k]
	}
	read(-100, io.SeekEnd, 100)
	if got, want := count.take(), f.overlapping(int(size)-100, 100); !equalSets(got, want) {
		t.Errorf("the last 100 bytes fetched %d blobs, want %d (the last chunk)", len(got), len(want))
	}
	if k, err := file.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v; want 0, EOF", k, err)
	}
	read(0, io.SeekStart, 1000)           // back: a new stream
	read(100<<10, io.SeekCurrent, 70<<10) // ahead, within MaxSkip: read on
	read(10, io.SeekCurrent, int(size))   // to the end
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Read(make([]byte, 1)); err == nil {
		t.Error("read after Close succeeded")
	}
}

// A File whose context ends frees its download even if nobody reads or
// closes it (a FUSE file never released, a request gone): the goroutine
// blocked writing into the pipe ends, which goleak checks in TestMain
// (devnettest.Main). Reading after the cancel would drain the pipe and
// let it end anyway, so the test neither reads nor closes.
func TestFileEndsWithItsContext(t *testing.T) {
	c, _, f := setupRange(t)
	ctx, cancel := context.WithCancel(context.Background())
	file, err := c.Open(ctx, "r", "/f")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 10)
	if _, err := io.ReadFull(file, p); err != nil || !bytes.Equal(p, f.data[:10]) {
		t.Fatalf("first read: %v", err)
	}
	cancel() // the download is blocked writing the rest of its chunks into the pipe
}
