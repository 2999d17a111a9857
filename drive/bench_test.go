package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/faultnet"
)

// benchDrives numbers the drives benchmarks create (names must be unique).
var benchDrives int

// benchDrive creates a Manual drive (no checkpoint in the timing) and
// returns its name.
func benchDrive(b *testing.B, c *drive.Client) string {
	b.Helper()
	benchDrives++
	name := fmt.Sprintf("bench-%d", benchDrives)
	if _, err := c.CreateDrive(context.Background(), drive.CreateDriveOptions{Name: name, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		b.Fatal(err)
	}
	return name
}

// benchClient is a client with the default configuration (256 KiB chunks,
// the default grace and windows) sending through transport (nil: direct).
func benchClient(b *testing.B, n *devnet.Network, transport *faultnet.Transport) *drive.Client {
	b.Helper()
	o := clientOpts{cfg: func(c *drive.Config) { *c = drive.DefaultConfig() }}
	if transport != nil {
		o.transport = transport
	}
	return newClient(b, n, o)
}

// BenchmarkUpload uploads files through a real network (an embedded chain
// and three providers over Pebble, all on this machine). SetBytes makes
// the harness report MB/s of file data; each chunk is written to all
// three providers, each of which fsyncs it. 64 MiB is a large file (1 MiB
// chunks by default); the others go in 256 KiB chunks.
func BenchmarkUpload(b *testing.B) {
	n := startNet(b)
	for _, size := range []int{1 << 20, 16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("put/%dMiB", size>>20), func(b *testing.B) {
			c := benchClient(b, n, nil)
			name := benchDrive(b, c)
			data := randomBytes(9, size)
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if _, err := c.UploadFile(context.Background(), name, fmt.Sprintf("/f%d", i), bytes.NewReader(data), drive.UploadOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkDownload reads files back through the same network: 16 MiB
// one chunk at a time (window 1, as before issue 10) and with the default
// windows of chunks in flight spread over the three providers, and 64 MiB
// (a large file: large chunks) with the default windows; each chunk is
// verified before it is written.
func BenchmarkDownload(b *testing.B) {
	n := startNet(b)
	c := benchClient(b, n, nil)
	name := benchDrive(b, c)
	files := map[int][]byte{16 << 20: randomBytes(9, 16<<20), 64 << 20: randomBytes(10, 64<<20)}
	for size, data := range files {
		if _, err := c.UploadFile(context.Background(), name, fmt.Sprintf("/g%d", size>>20), bytes.NewReader(data), drive.UploadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if r, _ := c.CommitChanges(context.Background(), name); r.Err() != nil { // fresh readers see the root on chain
		b.Fatal(r.Err())
	}
	for _, tc := range []struct{ size, window int }{{16 << 20, 1}, {16 << 20, drive.DefaultConfig().DownloadWindow}, {64 << 20, drive.DefaultConfig().DownloadWindow}} {
		b.Run(fmt.Sprintf("get/%dMiB/window=%d", tc.size>>20, tc.window), func(b *testing.B) {
			r := newClient(b, n, clientOpts{cfg: func(c *drive.Config) { *c = drive.DefaultConfig(); c.DownloadWindow = tc.window }})
			b.SetBytes(int64(tc.size))
			for b.Loop() {
				if _, err := r.DownloadFile(context.Background(), name, fmt.Sprintf("/g%d", tc.size>>20), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHungProvider measures a put and a get of 4 MiB with one of the
// three providers hung (faultnet Hang: it accepts every request and never
// answers) side by side with the healthy case, in one run on one network,
// and reports both rates and their ratio (issue 10's goal: within 1.2x).
// The clients are warm: the hung one has already found the provider
// unresponsive, as a client does after a few requests (its record is
// kept between runs in the health file); the first requests' cost is the
// grace (puts) and FirstByteTimeout (gets), once.
func BenchmarkHungProvider(b *testing.B) {
	n := startNet(b)
	const size = 4 << 20
	data := randomBytes(11, size)
	ctx := context.Background()
	hang := faultnet.New(nil, 1)
	healthy, hung := benchClient(b, n, nil), benchClient(b, n, hang)
	dh, dx := benchDrive(b, healthy), benchDrive(b, hung)
	hang.Set(hostOf(n.Manifest().Providers[1].URL), faultnet.Fault{Hang: true})
	put := func(c *drive.Client, d, p string) time.Duration {
		start := time.Now()
		if _, err := c.UploadFile(ctx, d, p, bytes.NewReader(data), drive.UploadOptions{}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	get := func(c *drive.Client, d, p string) time.Duration {
		start := time.Now()
		if _, err := c.DownloadFile(ctx, d, p, io.Discard); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := range 4 { // warm up: the hung client learns, both fill their caches
		put(healthy, dh, fmt.Sprintf("/w%d", i))
		put(hung, dx, fmt.Sprintf("/w%d", i))
		get(healthy, dh, "/w0")
		get(hung, dx, "/w0")
	}
	for _, op := range []string{"put", "get"} {
		b.Run(op, func(b *testing.B) {
			var th, tx time.Duration
			i := 0
			for b.Loop() {
				p := fmt.Sprintf("/%s%d", op, i)
				if op == "put" {
					th += put(healthy, dh, p)
					tx += put(hung, dx, p)
				} else {
					th += get(healthy, dh, "/w0")
					tx += get(hung, dx, "/w0")
				}
				i++
			}
			mbps := func(d time.Duration) float64 { return float64(size) * float64(i) / 1e6 / d.Seconds() }
			b.ReportMetric(mbps(th), "healthy-MB/s")
			b.ReportMetric(mbps(tx), "hung-MB/s")
			b.ReportMetric(tx.Seconds()/th.Seconds(), "hung/healthy")
		})
	}
}
