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
type MemStore struct {
	mu    sync.RWMutex
	nodes []Hash
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// Get implements Store.
func (s *MemStore) Get(pos uint64) (Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if pos >= uint64(len(s.nodes)) {
		return Hash{}, fmt.Errorf("position %d of %d: %w", pos, len(s.nodes), ErrNotFound)
	}
	return s.nodes[pos], nil
}

// Append implements Store.
func (s *MemStore) Append(nodes []Hash) error {
	s.mu.Lock()
	s.nodes = append(s.nodes, nodes...)
	s.mu.Unlock()
	return nil
}

// Size implements Store.
func (s *MemStore) Size() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.nodes))
}
