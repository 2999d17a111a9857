package drive_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/cairn-storage/cairn/drive"
)

// BenchmarkReadTail reads the last 1 MiB of a 64 MiB file (1 MiB chunks,
// the default configuration) through a real network: "skip" as the
// gateways did before DownloadRange (the whole file downloaded and
// verified, every byte before the offset discarded) and "range" with
// DownloadRange (the last chunk alone fetched). SetBytes is the 1 MiB
// read, so MB/s compares the two directly.
func BenchmarkReadTail(b *testing.B) {
	const size, tail = 64 << 20, 1 << 20
	n := startNet(b)
	c := benchClient(b, n, nil)
	name := benchDrive(b, c)
	ctx := context.Background()
	if _, err := c.UploadFile(ctx, name, "/big", bytes.NewReader(randomBytes(12, size)), drive.UploadOptions{}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		read func() (int64, error)
	}{
		{"skip", func() (int64, error) {
			w := &skipWriter{skip: size - tail}
			_, err := c.DownloadFile(ctx, name, "/big", w)
			return w.n, err
		}},
		{"range", func() (int64, error) { return c.DownloadRange(ctx, name, "/big", size-tail, tail, io.Discard) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(tail)
			for b.Loop() {
				if got, err := tc.read(); err != nil || got != tail {
					b.Fatalf("%d bytes, %v", got, err)
				}
			}
		})
	}
}

// skipWriter discards the first skip bytes written to it and counts the
// rest, as the gateways' copies did.
type skipWriter struct {
	skip, n int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	drop := min(s.skip, int64(len(p)))
	s.skip -= drop
	s.n += int64(len(p)) - drop
	return len(p), nil
}
