package mmr

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// MMR is a Merkle Mountain Range over a Store. It keeps its current peaks in
// memory, so appending reads nothing from the Store.
//
// An MMR is safe for concurrent use. It must be the only writer of its
// Store: nodes appended to the Store behind its back are not seen, and
// corrupt the MMR.
type MMR struct {
	mu     sync.RWMutex
	store  Store
	leaves uint64
	size   uint64
	peaks  []Hash // current peaks, highest first; capacity maxPeaks
	nodes  []Hash // scratch for AppendHash; capacity maxPeaks
}

// New opens the MMR held in s; an empty Store gives an empty MMR. It fails
// with ErrCorrupt if s.Size() is not the size of any MMR.
func New(s Store) (*MMR, error) {
	if s == nil {
		return nil, errors.New("mmr: New: nil Store")
	}
	size := s.Size()
	n, ok := LeafCountOfSize(size)
	if !ok {
		return nil, fmt.Errorf("mmr: store size %d is not an MMR size: %w", size, ErrCorrupt)
	}
	m := &MMR{
		store:  s,
		leaves: n,
		size:   size,
		peaks:  make([]Hash, 0, maxPeaks),
		nodes:  make([]Hash, 0, maxPeaks),
	}
	var posBuf [maxPeaks]uint64
	for _, pos := range peakPositions(posBuf[:0], n) {
		h, err := m.get(pos)
		if err != nil {
			return nil, err
		}
		m.peaks = append(m.peaks, h)
	}
	return m, nil
}

// Append appends a leaf holding leafData, that is AppendHash(LeafHash(leafData)).
func (m *MMR) Append(leafData []byte) (leafIndex uint64, err error) {
	return m.AppendHash(LeafHash(leafData))
}

// AppendHash appends a leaf whose hash is leaf and returns its index.
func (m *MMR) AppendHash(leaf Hash) (leafIndex uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.leaves
	if i >= MaxLeafCount {
		return 0, fmt.Errorf("mmr: append: MMR is full (%d leaves): %w", i, ErrOutOfRange)
	}
	// Leaf i completes one perfect tree per trailing 1 bit of i: its left
	// halves are the lowest peaks.
	merges := bits.TrailingZeros64(^i)
	nodes := append(m.nodes[:0], leaf)
	cur := leaf
	np := len(m.peaks)
	for k := 1; k <= merges; k++ {
		cur = NodeHash(m.peaks[np-k], cur)
		nodes = append(nodes, cur)
	}
	if err := m.store.Append(nodes); err != nil {
		return 0, fmt.Errorf("mmr: append leaf %d: %w", i, err)
	}
	m.peaks = append(m.peaks[:np-merges], cur)
	m.leaves++
	m.size += uint64(len(nodes))
	return i, nil
}

// LeafCount returns the number of leaves.
func (m *MMR) LeafCount() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.leaves
}

// Size returns the number of nodes.
func (m *MMR) Size() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.size
}

// Root returns the root of the MMR: BagPeaks(LeafCount(), peaks).
func (m *MMR) Root() (Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return BagPeaks(m.leaves, m.peaks), nil
}

// RootAt returns the root the MMR had when it held leafCount leaves. It
// fails with ErrOutOfRange if leafCount > LeafCount().
func (m *MMR) RootAt(leafCount uint64) (Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var buf [maxPeaks]Hash
	peaks, err := m.peaksAt(buf[:0], leafCount)
	if err != nil {
		return Hash{}, fmt.Errorf("mmr: root at %d leaves: %w", leafCount, err)
	}
	return BagPeaks(leafCount, peaks), nil
}

// Peaks returns the peaks of the MMR when it held leafCount leaves, left to
// right (highest first). It fails with ErrOutOfRange if leafCount > LeafCount().
func (m *MMR) Peaks(leafCount uint64) ([]Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	peaks, err := m.peaksAt(nil, leafCount)
	if err != nil {
		return nil, fmt.Errorf("mmr: peaks at %d leaves: %w", leafCount, err)
	}
	return peaks, nil
}

// peaksAt appends the peaks at leafCount leaves to dst. m.mu must be held.
func (m *MMR) peaksAt(dst []Hash, leafCount uint64) ([]Hash, error) {
	if leafCount > m.leaves {
		return dst, fmt.Errorf("%d leaves of %d: %w", leafCount, m.leaves, ErrOutOfRange)
	}
	if leafCount == m.leaves {
		return append(dst, m.peaks...), nil
	}
	var posBuf [maxPeaks]uint64
	for _, pos := range peakPositions(posBuf[:0], leafCount) {
		h, err := m.get(pos)
		if err != nil {
			return dst, err
		}
		dst = append(dst, h)
	}
	return dst, nil
}

// get reads one node from the store.
func (m *MMR) get(pos uint64) (Hash, error) {
	h, err := m.store.Get(pos)
	if err != nil {
		return Hash{}, fmt.Errorf("mmr: read node %d: %w", pos, err)
	}
	return h, nil
}
