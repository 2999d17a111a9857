package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// segments is blobFiles on disk: blobs are appended to segment files
// (blobs/<id as 16 hex digits>.seg under the store's directory), each
// written once and never rewritten. One segment at a time takes writes;
// it is replaced by a new one once it passes maxSegmentSize, and on every
// open: a store never appends to a segment it did not create in this run,
// so whatever a crash left at the end of a segment (bytes written but
// never indexed) stays there, unread, and is not reclaimed.
type segments struct {
	dir    string
	noSync bool

	mu     sync.Mutex
	next   uint64   // id of the next segment to create
	active *os.File // takes writes; nil until the first write
	id     uint64   // active's id
	size   int64    // bytes in active

	rmu   sync.Mutex
	files map[uint64]*os.File // open segments, the active one included
}

// maxSegmentSize is where a segment stops taking writes (a blob is never
// split, so a segment may pass it by one blob).
const maxSegmentSize = 1 << 30

const segmentSuffix = ".seg"

func segmentName(id uint64) string { return fmt.Sprintf("%016x%s", id, segmentSuffix) }

// openSegments opens the segment directory dir, which is created with the
// first segment.
func openSegments(dir string, noSync bool) (*segments, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s := &segments{dir: dir, noSync: noSync, files: make(map[uint64]*os.File)}
	for _, e := range ents {
		hex, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		if id, err := strconv.ParseUint(hex, 16, 64); err == nil && len(hex) == 16 && id >= s.next {
			s.next = id + 1
		}
	}
	return s, nil
}

func (s *segments) write(data []byte) (blobLoc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil || s.size >= maxSegmentSize {
		if err := s.rotate(); err != nil {
			return blobLoc{}, err
		}
	}
	// At the segment's end as this store knows it: a failed write is
	// written over by the next one.
	if _, err := s.active.WriteAt(data, s.size); err != nil {
		return blobLoc{}, err
	}
	l := blobLoc{segment: s.id, offset: uint64(s.size), length: uint64(len(data))}
	s.size += int64(len(data))
	return l, nil
}

// rotate makes a new segment the active one. The old one is synced first,
// as sync reaches only the active segment; the new one's directory entry
// is synced before any index can point into it.
func (s *segments) rotate() error {
	if s.active != nil && !s.noSync {
		if err := s.active.Sync(); err != nil {
			return err
		}
	}
	if err := s.mkdir(); err != nil {
		return err
	}
	id := s.next
	f, err := os.OpenFile(filepath.Join(s.dir, segmentName(id)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if !s.noSync {
		if err := syncDir(s.dir); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
	}
	s.next++
	s.active, s.id, s.size = f, id, 0
	s.rmu.Lock()
	s.files[id] = f
	s.rmu.Unlock()
	return nil
}

// sync fsyncs the active segment: every earlier segment was synced when it
// stopped being active. It does not hold the write lock while it waits,
// so other buckets go on writing blobs meanwhile.
func (s *segments) sync() error {
	if s.noSync {
		return nil
	}
	s.mu.Lock()
	f := s.active
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Sync()
}

func (s *segments) open(l blobLoc) (*Blob, error) {
	f, err := s.file(l.segment)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if end := l.offset + l.length; end > uint64(fi.Size()) {
		return nil, fmt.Errorf("blob at %d+%d of segment %d is past its end at %d", l.offset, l.length, l.segment, fi.Size())
	}
	// The file stays open for other readers until the store closes.
	return newBlob(f, int64(l.offset), int64(l.length), nil), nil
}

// file returns segment id open for reading.
func (s *segments) file(id uint64) (*os.File, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.files == nil {
		return nil, os.ErrClosed
	}
	if f := s.files[id]; f != nil {
		return f, nil
	}
	f, err := os.Open(filepath.Join(s.dir, segmentName(id)))
	if err != nil {
		return nil, err
	}
	s.files[id] = f
	return f, nil
}

func (s *segments) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.active != nil && !s.noSync {
		err = s.active.Sync()
	}
	s.active = nil
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for _, f := range s.files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	s.files = nil
	return err
}

// mkdir creates the segment directory, durably, if it is missing.
func (s *segments) mkdir() error {
	if _, err := os.Stat(s.dir); err == nil {
		return nil
	}
	if err := os.Mkdir(s.dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if s.noSync {
		return nil
	}
	return syncDir(filepath.Dir(s.dir))
}

// syncDir fsyncs a directory, so the entries created in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
