package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/cairn-storage/cairn/core"
)

// ObjectMeta is what S3 knows of an object that the drive does not: its
// content's MD5 (the ETag of a single-part upload) and the metadata
// headers it was stored with (Content-Type, x-amz-meta-*, ...).
type ObjectMeta struct {
	MD5  string            `json:"md5,omitempty"` // hex, 32 digits
	Meta map[string]string `json:"meta,omitempty"`
}

// MetaStore keeps ObjectMeta by a file's content id (its manifest CID).
// Get of an unknown id reports false, not an error.
type MetaStore interface {
	Get(cid string) (ObjectMeta, bool)
	Put(cid string, m ObjectMeta) error
}

// maxMetaFile bounds what DirMeta reads back: gofakes3 limits metadata
// to 2000 bytes, so a record is far below it.
const maxMetaFile = 16 << 10

// DirMeta is a MetaStore of one small JSON file per content id in a
// directory, written by a temporary file and a rename, so several
// processes may share it and a crash leaves whole records or none.
type DirMeta struct {
	dir string
	mu  sync.Mutex
}

// NewDirMeta keeps records in dir, creating it.
func NewDirMeta(dir string) (*DirMeta, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, core.E("s3.meta", core.Internal, err)
	}
	return &DirMeta{dir: dir}, nil
}

// cidName matches the content ids the drive makes (base32 CIDv1); any
// other id is hashed into a file name, so no id reaches the file system as
// a path.
var cidName = regexp.MustCompile(`^[a-z2-7]{16,128}$`)

func (d *DirMeta) file(cid string) string {
	name := cid
	if !cidName.MatchString(cid) {
		h := sha256.Sum256([]byte(cid))
		name = "h" + hex.EncodeToString(h[:])
	}
	return filepath.Join(d.dir, name+".json")
}

// Get reads the record of cid; a missing, oversized or unreadable record
// is reported as unknown.
func (d *DirMeta) Get(cid string) (ObjectMeta, bool) {
	f, err := os.Open(d.file(cid))
	if err != nil {
		return ObjectMeta{}, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetaFile+1))
	if err != nil || len(b) > maxMetaFile {
		return ObjectMeta{}, false
	}
	var m ObjectMeta
	if json.Unmarshal(b, &m) != nil {
		return ObjectMeta{}, false
	}
	return m, true
}

// Put writes the record of cid.
func (d *DirMeta) Put(cid string, m ObjectMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return core.E("s3.meta", core.Internal, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tmp, err := os.CreateTemp(d.dir, ".tmp-*")
	if err != nil {
		return core.E("s3.meta", core.Internal, err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return core.E("s3.meta", core.Internal, err)
	}
	if err := os.Rename(tmp.Name(), d.file(cid)); err != nil {
		os.Remove(tmp.Name())
		return core.E("s3.meta", core.Internal, err)
	}
	return nil
}

// MemMeta is a MetaStore in memory, for tests and for a gateway without a
// state directory.
type MemMeta struct {
	mu sync.Mutex
	m  map[string]ObjectMeta
}

// NewMemMeta makes an empty MemMeta.
func NewMemMeta() *MemMeta { return &MemMeta{m: map[string]ObjectMeta{}} }

func (s *MemMeta) Get(cid string) (ObjectMeta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[cid]
	return m, ok
}

func (s *MemMeta) Put(cid string, m ObjectMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[cid] = m
	return nil
}
