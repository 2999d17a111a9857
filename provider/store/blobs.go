package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// blobFiles holds blob bytes outside the kv, which keeps only where each
// blob lies (a blobLoc under its "b" key). Bytes are written first and
// made durable by sync; only then does the kv batch that indexes them
// commit, so a crash between the two leaves bytes that nothing indexes,
// never an index entry without its bytes.
type blobFiles interface {
	// write stores data and returns where it lies. The bytes are readable
	// at once but durable only after the next sync.
	write(data []byte) (blobLoc, error)
	// sync makes every write that returned before it durable.
	sync() error
	// open returns a reader over the blob at loc; kind Corrupt if the
	// bytes are not (all) there.
	open(loc blobLoc) (*Blob, error)
	close() error
}

// blobLoc is where a blob's bytes lie: length bytes at offset in segment.
type blobLoc struct {
	segment, offset, length uint64
}

const blobLocSize = 24

// encodeBlobLoc is segment, offset, length (u64 BE each).
func encodeBlobLoc(l blobLoc) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, blobLocSize), l.segment)
	b = binary.BigEndian.AppendUint64(b, l.offset)
	return binary.BigEndian.AppendUint64(b, l.length)
}

func decodeBlobLoc(b []byte) (blobLoc, error) {
	if len(b) != blobLocSize {
		return blobLoc{}, fmt.Errorf("blob location of %d bytes, want %d", len(b), blobLocSize)
	}
	l := blobLoc{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])}
	if l.offset+l.length < l.offset {
		return blobLoc{}, fmt.Errorf("blob location %+v overflows", l)
	}
	return l, nil
}

// memBlobs is blobFiles in memory, for NewMemory: each blob its own
// segment.
type memBlobs struct {
	mu    sync.RWMutex
	blobs [][]byte
}

func (m *memBlobs) write(data []byte) (blobLoc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs = append(m.blobs, bytes.Clone(data))
	return blobLoc{segment: uint64(len(m.blobs) - 1), length: uint64(len(data))}, nil
}

func (m *memBlobs) sync() error { return nil }

func (m *memBlobs) open(l blobLoc) (*Blob, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if l.segment >= uint64(len(m.blobs)) || l.offset != 0 || l.length != uint64(len(m.blobs[l.segment])) {
		return nil, fmt.Errorf("no blob at %+v", l)
	}
	v := m.blobs[l.segment] // never modified once written
	return newBlob(bytes.NewReader(v), 0, int64(len(v)), nil), nil
}

func (m *memBlobs) close() error { return nil }

// newBlob is a Blob reading n bytes at off of r.
func newBlob(r io.ReaderAt, off, n int64, c io.Closer) *Blob {
	return &Blob{SectionReader: io.NewSectionReader(r, off, n), closer: c}
}
