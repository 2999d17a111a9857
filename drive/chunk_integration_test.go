package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/faultnet"
)

// A file of LargeFileSize bytes or more is cut in large chunks, a smaller
// one in small chunks, whether or not the upload knows the size; a client
// that cuts differently (an older one, or one with other settings) reads
// either, since a manifest lists each chunk's size.
func TestLargeFilesGoInLargeChunksAndEitherCutReads(t *testing.T) {
	n := startNet(t)
	const small, large, from = 64 << 10, 256 << 10, 1 << 20
	c := newClient(t, n, clientOpts{cfg: func(c *drive.Config) {
		c.ChunkSize, c.LargeChunkSize, c.LargeFileSize = small, large, from
		c.WriteWindowBytes, c.DownloadWindowBytes = 512<<10, 512<<10 // two large chunks: the windows in bytes bind
	}})
	old := newClient(t, n, clientOpts{cfg: func(c *drive.Config) { c.ChunkSize, c.LargeChunkSize, c.LargeFileSize = small, small, 1<<62 }})
	ctx := context.Background()
	data := randomBytes(5, from+from/2)
	for i, tc := range []struct {
		name   string
		c      *drive.Client
		data   []byte
		hide   bool // the upload cannot tell the size
		chunks int
	}{
		{"large, size known", c, data, false, len(data) / large},
		{"large, size unknown: large chunks past the first LargeFileSize bytes", c, data, true, from/small + (len(data)-from)/large},
		{"small", c, data[:from-1], false, from / small},
		{"large, cut by a client with small chunks only", old, data, false, len(data) / small},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tc.data)
			if tc.hide {
				r = struct{ io.Reader }{r} // no Len: size unknown
			}
			d, p := fmt.Sprintf("d%d", i), "/f"
			if _, err := tc.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: d, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
				t.Fatal(err)
			}
			res, err := tc.c.UploadFile(ctx, d, p, r, drive.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r, _ := tc.c.CommitChanges(ctx, d); r.Err() != nil { // the other client reads the root on chain
				t.Fatal(r.Err())
			}
			if res.Chunks != tc.chunks || res.Size != uint64(len(tc.data)) {
				t.Errorf("%d bytes in %d chunks, want %d in %d", res.Size, res.Chunks, len(tc.data), tc.chunks)
			}
			for _, reader := range []*drive.Client{c, old} {
				if got := download(t, reader, d, p); !bytes.Equal(got, tc.data) {
					t.Fatal("the bytes read back differ")
				}
			}
		})
	}
}

// A provider slower than the others, but answering, stays in the upload:
// when its queue is full (a window behind the quorum) the next write waits
// for room instead of dropping it as too slow, so it gets every write, as
// the others do. (The grace, which bounds that wait for a provider that
// stops answering, is long here, so only a drop on a full queue would
// leave it out.) The assertion is on the writes each provider received.
func TestASlowerHealthyProviderIsNotDroppedAsTooSlow(t *testing.T) {
	n := startNet(t)
	ft := faultnet.New(nil, 4)
	c := newClient(t, n, clientOpts{transport: ft, cfg: func(c *drive.Config) {
		c.WriteWindow, c.GraceFloor, c.FinishGrace = 2, time.Minute, time.Minute
	}})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	ps := n.Manifest().Providers
	for i, p := range ps {
		f := faultnet.Fault{Match: writes} // counts writes
		if i == 1 {
			f.Delay = 10 * time.Millisecond
		}
		ft.Set(hostOf(p.URL), f)
	}
	res, err := c.UploadFile(ctx, "d", "/f", bytes.NewReader(randomBytes(6, 24*64<<10)), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if _, w := ft.Requests(hostOf(p.URL)); uint64(w) != res.Writes {
			t.Errorf("provider %d (delayed: %v) got %d writes of the put's %d", i, i == 1, w, res.Writes)
		}
	}
}

// A write that overtakes the one before it by more than the provider holds
// it (here every write at an even seq reaches one provider 600 ms late,
// past its 250 ms hold) is answered "behind"; the upload sends it again
// once the write before it has ended instead of copying leaves to the
// provider from the others, and the provider still gets every write. The
// assertion is on requests: no blob is read from any provider.
func TestAWriteOvertakingItsPredecessorIsSentAgainAfterIt(t *testing.T) {
	n := startNet(t)
	ft := faultnet.New(nil, 5)
	c := newClient(t, n, clientOpts{transport: ft, cfg: func(c *drive.Config) { c.GraceFloor, c.FinishGrace = time.Minute, time.Minute }})
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "d", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	evenSeq := func(r *http.Request) bool {
		seq, err := strconv.ParseUint(path.Base(r.URL.Path), 10, 64)
		return writes(r) && err == nil && seq%2 == 0
	}
	reads := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/") }
	ps := n.Manifest().Providers
	for i, p := range ps {
		f := faultnet.Fault{Match: reads} // counts blob reads
		if i == 1 {
			f = faultnet.Fault{Match: evenSeq, Delay: 600 * time.Millisecond}
		}
		ft.Set(hostOf(p.URL), f)
	}
	res, err := c.UploadFile(ctx, "d", "/f", bytes.NewReader(randomBytes(7, 4*64<<10)), drive.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if _, hit := ft.Requests(hostOf(p.URL)); i != 1 && hit != 0 {
			t.Errorf("provider %d served %d blob reads: the late provider was caught up by copying", i, hit)
		}
	}
	ft.Set(hostOf(ps[1].URL), faultnet.Fault{Match: writes}) // counts writes, delays none
	if _, err := c.UploadFile(ctx, "d", "/g", bytes.NewReader(randomBytes(8, 100)), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, w := ft.Requests(hostOf(ps[1].URL)); w == 0 {
		t.Fatalf("the provider that was late is out of the uploads (%d writes of the first put)", res.Writes)
	}
}
