package s3

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/core"
)

// partArea is the bounded temporary area where the parts of multipart
// uploads wait for their Complete: one directory per upload, one file per
// part. The bytes of all parts held are counted against max before a part
// is read, so a client's claimed size never passes the bound.
type partArea struct {
	dir string
	max int64

	mu      sync.Mutex
	used    int64
	uploads map[gofakes3.UploadID]*upload
}

// upload is one multipart upload in progress.
type upload struct {
	target
	bucket string
	meta   map[string]string
	parts  map[int]part
	busy   bool // completing: no part may change
}

type part struct {
	size int64
	etag string // quoted hex MD5
	md5  []byte
}

// newPartArea makes a directory of its own under parent ("" is
// os.TempDir()), so processes sharing a parent never meet.
func newPartArea(parent string, max int64) (*partArea, error) {
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, core.E("s3.parts", core.Internal, err)
		}
	}
	dir, err := os.MkdirTemp(parent, "cairn-s3-parts-")
	if err != nil {
		return nil, core.E("s3.parts", core.Internal, err)
	}
	return &partArea{dir: dir, max: max, uploads: map[gofakes3.UploadID]*upload{}}, nil
}

func (a *partArea) close() error { return os.RemoveAll(a.dir) }

// begin registers a new upload and makes its directory.
func (a *partArea) begin(u *upload) (gofakes3.UploadID, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", core.E("s3.parts", core.Internal, err)
	}
	id := gofakes3.UploadID(hex.EncodeToString(raw[:]))
	if err := os.Mkdir(filepath.Join(a.dir, string(id)), 0o700); err != nil {
		return "", core.E("s3.parts", core.Internal, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.uploads[id] = u
	return id, nil
}

// get finds an upload of bucket and key.
func (a *partArea) get(id gofakes3.UploadID, bucket, key string) (*upload, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.uploads[id]
	if !ok || u.bucket != bucket || u.key != key {
		return nil, gofakes3.ResourceError(gofakes3.ErrNoSuchUpload, string(id))
	}
	return u, nil
}

func (a *partArea) partFile(id gofakes3.UploadID, n int) string {
	return filepath.Join(a.dir, string(id), strconv.Itoa(n))
}

// write stores part n of upload id: exactly size bytes of body, counted
// against the bound before any is read. A part sent again replaces the
// earlier one.
func (a *partArea) write(id gofakes3.UploadID, u *upload, n int, size int64, body io.Reader) (part, error) {
	a.mu.Lock()
	if u.busy {
		a.mu.Unlock()
		return part{}, gofakes3.ErrorMessage(gofakes3.ErrInvalidRequest, "the upload is being completed")
	}
	if a.used+size > a.max {
		a.mu.Unlock()
		return part{}, gofakes3.ErrorMessagef(gofakes3.ErrEntityTooLarge, "the gateway holds at most %d bytes of parts at once", a.max)
	}
	a.used += size
	a.mu.Unlock()
	p, err := a.copyPart(id, n, size, body)
	a.mu.Lock()
	defer a.mu.Unlock()
	old, had := u.parts[n]
	_, live := a.uploads[id]
	switch {
	case err == nil && live && !u.busy:
		u.parts[n] = p
		if had {
			a.used -= old.size
		}
		return p, nil
	case err == nil:
		err = gofakes3.ResourceError(gofakes3.ErrNoSuchUpload, string(id))
	}
	a.used -= size
	return part{}, err
}

// copyPart writes a part to a temporary file and renames it into place.
func (a *partArea) copyPart(id gofakes3.UploadID, n int, size int64, body io.Reader) (part, error) {
	f, err := os.CreateTemp(filepath.Join(a.dir, string(id)), ".part-*")
	if err != nil {
		return part{}, gofakes3.ResourceError(gofakes3.ErrNoSuchUpload, string(id))
	}
	h := md5.New()
	got, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && got != size {
		err = gofakes3.ErrIncompleteBody
	}
	if err == nil {
		err = os.Rename(f.Name(), a.partFile(id, n))
	}
	if err != nil {
		os.Remove(f.Name())
		if _, ok := err.(gofakes3.Error); !ok {
			err = gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, err.Error())
		}
		return part{}, err
	}
	sum := h.Sum(nil)
	return part{size: size, etag: `"` + hex.EncodeToString(sum) + `"`, md5: sum}, nil
}

// end forgets an upload and removes its parts.
func (a *partArea) end(id gofakes3.UploadID) {
	a.mu.Lock()
	u, ok := a.uploads[id]
	delete(a.uploads, id)
	if ok {
		for _, p := range u.parts {
			a.used -= p.size
		}
	}
	a.mu.Unlock()
	os.RemoveAll(filepath.Join(a.dir, string(id)))
}

// partsReader reads part files one after another, opening each in turn.
type partsReader struct {
	files []string
	cur   *os.File
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if len(r.files) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(r.files[0])
			if err != nil {
				return 0, err
			}
			r.cur, r.files = f, r.files[1:]
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (r *partsReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
