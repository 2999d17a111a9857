package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"strconv"
	"strings"

	"github.com/rclone/gofakes3"
)

// CreateMultipartUpload begins an upload whose parts wait in the
// temporary area.
func (b *Backend) CreateMultipartUpload(ctx context.Context, bucket, key string, meta map[string]string) (gofakes3.UploadID, error) {
	t, err := b.target(ctx, bucket, key)
	if err != nil {
		return "", err
	}
	if t.dir {
		return "", gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "a key ending in \"/\" is a folder and holds no bytes")
	}
	return b.parts.begin(&upload{target: t, bucket: bucket, meta: meta, parts: map[int]part{}})
}

// UploadPart streams one part to a file of the temporary area. A size
// past MaxPartSize, or past what the area may still hold, is refused
// before a byte is read.
func (b *Backend) UploadPart(ctx context.Context, bucket, key string, id gofakes3.UploadID, n int, size int64, body io.Reader) (string, error) {
	u, err := b.parts.get(id, bucket, key)
	if err != nil {
		return "", err
	}
	if size < 0 || size > b.cfg.MaxPartSize {
		return "", gofakes3.ErrorMessagef(gofakes3.ErrEntityTooLarge, "a part is at most %d bytes", b.cfg.MaxPartSize)
	}
	p, err := b.parts.write(id, u, n, size, body)
	if err != nil {
		return "", err
	}
	return p.etag, nil
}

// CompleteMultipartUpload checks the parts listed against those received,
// then streams them in order into the drive as one file, computing the
// whole object's MD5 (kept as its ETag for later HEADs and listings). It
// answers S3's multipart ETag, the MD5 of the parts' MD5s and their count.
func (b *Backend) CompleteMultipartUpload(ctx context.Context, bucket, key string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest) (gofakes3.VersionID, string, error) {
	u, err := b.parts.get(id, bucket, key)
	if err != nil {
		return "", "", err
	}
	files, size, etag, err := b.parts.seal(id, u, in)
	if err != nil {
		return "", "", err
	}
	r := &partsReader{files: files}
	defer r.Close()
	if _, err := b.upload(ctx, u.target, u.meta, r, size, md5.New()); err != nil {
		b.parts.unseal(u)
		return "", "", err
	}
	b.parts.end(id)
	return "", etag, nil
}

// AbortMultipartUpload forgets an upload and removes its parts; an
// unknown upload is no error, so an abort may be retried.
func (b *Backend) AbortMultipartUpload(ctx context.Context, bucket, key string, id gofakes3.UploadID) error {
	if _, err := b.parts.get(id, bucket, key); err != nil {
		return nil
	}
	b.parts.end(id)
	return nil
}

// seal checks the parts listed (ascending numbers, each received with
// that ETag) and marks the upload busy, so no part changes while it is
// read. It returns the part files in order, their total size and S3's
// multipart ETag.
func (a *partArea) seal(id gofakes3.UploadID, u *upload, in *gofakes3.CompleteMultipartUploadRequest) ([]string, int64, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u.busy {
		return nil, 0, "", gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, "the upload is being completed")
	}
	if len(in.Parts) == 0 {
		return nil, 0, "", gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, "no parts listed")
	}
	var (
		files []string
		size  int64
		sums  []byte
	)
	for i, cp := range in.Parts {
		if i > 0 && cp.PartNumber <= in.Parts[i-1].PartNumber {
			return nil, 0, "", gofakes3.ErrInvalidPartOrder
		}
		p, ok := u.parts[cp.PartNumber]
		if !ok || strings.Trim(cp.ETag, `"`) != strings.Trim(p.etag, `"`) {
			return nil, 0, "", gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "part %d was not received with ETag %s", cp.PartNumber, cp.ETag)
		}
		files = append(files, a.partFile(id, cp.PartNumber))
		size += p.size
		sums = append(sums, p.md5...)
	}
	u.busy = true
	all := md5.Sum(sums)
	return files, size, `"` + hex.EncodeToString(all[:]) + "-" + strconv.Itoa(len(in.Parts)) + `"`, nil
}

func (a *partArea) unseal(u *upload) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u.busy = false
}
