package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
)

// benchDrives numbers the drives benchmarks create (names must be unique).
var benchDrives int

// BenchmarkUpload uploads and downloads files through a real network (an
// embedded chain and three providers over Pebble, all on this machine),
// Manual strategy so no checkpoint is in the timing. SetBytes makes the
// harness report MB/s of file data; each chunk is written to all three
// providers, each of which fsyncs it.
func BenchmarkUpload(b *testing.B) {
	n := startNet(b)
	for _, size := range []int{1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("put/%dMiB", size>>20), func(b *testing.B) {
			c := newClient(b, n, clientOpts{cfg: func(c *drive.Config) { c.ChunkSize = 256 << 10 }})
			ctx := context.Background()
			benchDrives++
			name := fmt.Sprintf("bench-%d", benchDrives)
			if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: name, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
				b.Fatal(err)
			}
			data := randomBytes(9, size)
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if _, err := c.UploadFile(ctx, name, fmt.Sprintf("/f%d", i), bytes.NewReader(data), drive.UploadOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	b.Run("get/16MiB", func(b *testing.B) {
		c := newClient(b, n, clientOpts{})
		ctx := context.Background()
		data := randomBytes(9, 16<<20)
		benchDrives++
		name := fmt.Sprintf("bench-%d", benchDrives)
		if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: name, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.UploadFile(ctx, name, "/g", bytes.NewReader(data), drive.UploadOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := c.DownloadFile(ctx, name, "/g", io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
