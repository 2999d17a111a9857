package drive

import (
	"context"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/core"
)

// ErrOffset is the error of a read that starts beyond the end of a file.
var ErrOffset = core.Errorf("fs", core.Invalid, "offset beyond the end of the file")

// DownloadRange streams n bytes of the file at p, from offset off, into w
// (n < 0: to the end of the file; a range past the end stops at it). Only
// the chunks that overlap the range are fetched, each verified whole
// against its hash as DownloadFile does. An offset beyond the file's size
// is Invalid; at exactly the size the range is empty. It returns the bytes
// written.
func (c *Client) DownloadRange(ctx context.Context, ref, p string, off, n int64, w io.Writer) (int64, error) {
	const op = "drive.DownloadRange"
	bucket, m, err := c.fileManifest(ctx, op, ref, p)
	if err != nil {
		return 0, err
	}
	s, err := rangeOf(m, off, n)
	if err != nil {
		return 0, core.E(op, core.KindOf(err), fmt.Errorf("%q: %w", p, err))
	}
	got, err := c.download(ctx, bucket, s, w)
	return int64(got), err
}

// fileManifest finds the file at p and reads its manifest.
func (c *Client) fileManifest(ctx context.Context, op, ref, p string) (bucket core.BucketID, m *FileManifest, err error) {
	e, err := c.Stat(ctx, ref, p)
	if err != nil {
		return bucket, nil, err
	}
	if e.Kind != KindFile {
		return bucket, nil, perr(op, p, ErrIsDir, "")
	}
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return bucket, nil, err
	}
	m, err = c.loadManifest(ctx, d.Bucket, e.CID)
	return d.Bucket, m, err
}

// rangeOf is the span of the n bytes of m's file from off (n < 0: to the
// end): the chunks that overlap it, found by the prefix sum of their
// sizes, with the bytes to skip in the first. Chunks may differ in size.
func rangeOf(m *FileManifest, off, n int64) (span, error) {
	size := m.Size // decodeManifest checked the chunks add up to it
	if off < 0 || uint64(off) > size {
		return span{}, fmt.Errorf("offset %d, the file has %d bytes: %w", off, size, ErrOffset)
	}
	from := uint64(off)
	want := size - from
	if n >= 0 && uint64(n) < want {
		want = uint64(n)
	}
	if want == 0 {
		return span{}, nil
	}
	first, skip := -1, uint64(0)
	var at uint64 // offset of chunk i
	for i, c := range m.Chunks {
		next := at + c.Size
		if first < 0 && next > from {
			first, skip = i, from-at
		}
		if first >= 0 && next >= from+want {
			return span{chunks: m.Chunks[first : i+1], skip: skip, n: want}, nil
		}
		at = next
	}
	return span{}, core.Errorf("drive.range", core.Corrupt, "the chunks add up to %d bytes, the manifest says %d", at, size)
}
