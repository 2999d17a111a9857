package s3

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"maps"
	"mime"
	"net/http"
	"path"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// target is an object's drive and path, from its bucket and key.
type target struct {
	ref  string // the drive's decimal id
	path string
	dir  bool // the key ends in "/": a folder marker
	key  string
}

func (b *Backend) target(ctx context.Context, bucket, key string) (target, error) {
	ref, err := b.drive(ctx, bucket)
	if err != nil {
		return target{}, err
	}
	p, dir, err := objectPath(key)
	if err != nil {
		return target{}, err
	}
	return target{ref: ref, path: p, dir: dir, key: key}, nil
}

// stat finds the object's file; a directory, or a folder marker's
// directory, is a zero-byte object only through its marker key.
func (b *Backend) stat(ctx context.Context, t target) (drive.DirectoryEntry, error) {
	e, err := b.c.Stat(ctx, t.ref, t.path)
	if err != nil {
		if core.KindOf(err) == core.NotFound || errors.Is(err, drive.ErrNotDir) {
			return e, gofakes3.KeyNotFound(t.key)
		}
		return e, s3Error(err, t.key)
	}
	if (e.Kind == drive.KindDir) != t.dir {
		return e, gofakes3.KeyNotFound(t.key)
	}
	return e, nil
}

// object describes a file (or a folder marker) as S3 does: its MD5 as
// the ETag when known, else an id of its content that is not MD5-shaped,
// its stored metadata, the drive's modification time.
func (b *Backend) object(t target, e drive.DirectoryEntry) *gofakes3.Object {
	o := &gofakes3.Object{Name: t.key, Contents: noBody{}, Metadata: map[string]string{}}
	rec, known := b.meta.Get(e.CID)
	maps.Copy(o.Metadata, rec.Meta)
	o.Metadata["Last-Modified"] = e.Modified.UTC().Format(http.TimeFormat)
	if o.Metadata["Content-Type"] == "" {
		o.Metadata["Content-Type"] = contentType(t.key)
	}
	if e.Kind == drive.KindFile {
		o.Size = int64(min(e.Size, 1<<62))
	}
	if sum, err := hex.DecodeString(rec.MD5); known && err == nil && len(sum) == md5.Size {
		o.Hash = sum
	} else {
		id := sha256.Sum256([]byte(e.CID))
		o.Hash = id[:]
	}
	return o
}

func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// HeadObject describes an object without reading it.
func (b *Backend) HeadObject(ctx context.Context, bucket, key string) (*gofakes3.Object, error) {
	t, err := b.target(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	e, err := b.stat(ctx, t)
	if err != nil {
		return nil, err
	}
	return b.object(t, e), nil
}

// GetObject streams an object, or the range asked for. Nothing is read
// until the first Read; a range fetches only the chunks it overlaps.
func (b *Backend) GetObject(ctx context.Context, bucket, key string, rnge *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	t, err := b.target(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	e, err := b.stat(ctx, t)
	if err != nil {
		return nil, err
	}
	o := b.object(t, e)
	if o.Range, err = rnge.Range(o.Size); err != nil {
		return nil, err
	}
	if t.dir || o.Size == 0 {
		return o, nil
	}
	start, length := int64(0), o.Size
	if o.Range != nil {
		start, length = o.Range.Start, o.Range.Length
	}
	o.Contents = &objectReader{ctx: ctx, start: func(ctx context.Context, w io.Writer) error {
		_, err := b.c.DownloadRange(ctx, t.ref, t.path, start, length, w)
		return err
	}}
	return o, nil
}

// PutObject streams the body into the drive, computing its MD5 on the
// way. A key ending in "/" with an empty body makes the directory.
func (b *Backend) PutObject(ctx context.Context, bucket, key string, meta map[string]string, input io.Reader, size int64) (gofakes3.PutObjectResult, error) {
	t, err := b.target(ctx, bucket, key)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if t.dir {
		return gofakes3.PutObjectResult{}, b.mkdir(ctx, t, input)
	}
	h := md5.New()
	sum, err := b.upload(ctx, t, meta, input, size, h)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return gofakes3.PutObjectResult{ETag: `"` + sum + `"`}, nil
}

// upload streams r (size bytes, or to EOF when size < 0) to the target
// through h, and records h's sum (hex) and meta for the new file.
func (b *Backend) upload(ctx context.Context, t target, meta map[string]string, r io.Reader, size int64, h hash.Hash) (string, error) {
	body := &strictReader{r: io.TeeReader(r, h), want: size}
	res, err := b.c.UploadFile(ctx, t.ref, t.path, body, drive.UploadOptions{MIME: meta["Content-Type"], Size: size})
	if err != nil {
		if body.err != nil {
			err = body.err
		}
		return "", s3Error(err, t.key)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rec := ObjectMeta{MD5: sum, Meta: maps.Clone(meta)}
	delete(rec.Meta, "Last-Modified") // the drive keeps it
	if err := b.meta.Put(res.CID, rec); err != nil {
		b.log.Warn("s3: the object is stored but its MD5 could not be recorded", "op", "put", "key", t.key, "err", err)
	}
	return sum, nil
}

func (b *Backend) mkdir(ctx context.Context, t target, body io.Reader) error {
	var one [1]byte
	if n, _ := io.ReadFull(body, one[:]); n > 0 {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "a key ending in \"/\" is a folder and holds no bytes")
	}
	if _, err := b.c.CreateDirectory(ctx, t.ref, t.path); err != nil && core.KindOf(err) != core.Exists {
		return s3Error(err, t.key)
	}
	return nil
}

// DeleteObject removes a file, or an empty directory through its folder
// marker key. A missing object is no error, as on S3.
func (b *Backend) DeleteObject(ctx context.Context, bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	t, err := b.target(ctx, bucket, key)
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	if _, err := b.stat(ctx, t); err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
			return gofakes3.ObjectDeleteResult{}, nil
		}
		return gofakes3.ObjectDeleteResult{}, err
	}
	if _, err := b.c.Remove(ctx, t.ref, t.path, drive.RemoveOptions{}); err != nil && core.KindOf(err) != core.NotFound {
		return gofakes3.ObjectDeleteResult{}, s3Error(err, key)
	}
	return gofakes3.ObjectDeleteResult{}, nil
}

// DeleteMulti deletes each key in turn, reporting each.
func (b *Backend) DeleteMulti(ctx context.Context, bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	if _, err := b.drive(ctx, bucket); err != nil {
		return gofakes3.MultiDeleteResult{}, err
	}
	var res gofakes3.MultiDeleteResult
	for _, k := range keys {
		if _, err := b.DeleteObject(ctx, bucket, k); err != nil {
			er := gofakes3.ErrorResultFromError(err)
			er.Key = k
			res.Error = append(res.Error, er)
			continue
		}
		res.Deleted = append(res.Deleted, gofakes3.ObjectID{Key: k})
	}
	return res, nil
}

// CopyObject streams the source into a new file at the destination (in
// the same drive or another), with meta as its metadata.
func (b *Backend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	src, err := b.target(ctx, srcBucket, srcKey)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	dst, err := b.target(ctx, dstBucket, dstKey)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	e, err := b.stat(ctx, src)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	if src.dir || dst.dir {
		return gofakes3.CopyObjectResult{}, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "folders are not copied")
	}
	r := &objectReader{ctx: ctx, start: func(ctx context.Context, w io.Writer) error {
		_, err := b.c.DownloadFile(ctx, src.ref, src.path, w)
		return err
	}}
	defer r.Close()
	sum, err := b.upload(ctx, dst, meta, r, int64(min(e.Size, 1<<62)), md5.New())
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	return gofakes3.CopyObjectResult{ETag: `"` + sum + `"`, LastModified: gofakes3.NewContentTime(b.now())}, nil
}
