package mmr

import (
	"fmt"
	"sync"
)

// Store keeps the nodes of one MMR by position: 0-based, in the order the
// MMR appends them (post-order). An MMR is the only writer of its Store.
type Store interface {
	// Get returns the node at pos, or an error wrapping ErrNotFound if
	// pos >= Size().
	Get(pos uint64) (Hash, error)
	// Append stores nodes at positions Size(), Size()+1, ... It is atomic:
	// on error no node was stored. It must not keep nodes after returning.
	Append(nodes []Hash) error
	// Size returns the number of nodes stored.
	Size() uint64
}

// MemStore is a Store in memory. It is safe for concurrent use.
//
// It keeps nodes in chunks of memChunk nodes, so growing never copies more
// than the first chunk, and a small store stays small.
type MemStore struct {
	mu     sync.RWMutex
	chunks [][]Hash // all full but the last; the first grows as a slice does
	size   uint64
}

// memChunk is the most nodes a chunk holds (128 KiB).
const (
	memChunkBits = 12
	memChunk     = 1 << memChunkBits
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// Get implements Store.
func (s *MemStore) Get(pos uint64) (Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if pos >= s.size {
		return Hash{}, fmt.Errorf("position %d of %d: %w", pos, s.size, ErrNotFound)
	}
	return s.chunks[pos>>memChunkBits][pos&(memChunk-1)], nil
}

// Append implements Store.
func (s *MemStore) Append(nodes []Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(nodes) > 0 {
		if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1]) == memChunk {
			var c []Hash
			if len(s.chunks) > 0 {
				c = make([]Hash, 0, memChunk)
			}
			s.chunks = append(s.chunks, c)
		}
		last := &s.chunks[len(s.chunks)-1]
		n := min(memChunk-len(*last), len(nodes))
		*last = append(*last, nodes[:n]...)
		nodes = nodes[n:]
		s.size += uint64(n)
	}
	return nil
}

// Size implements Store.
func (s *MemStore) Size() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.size
}
