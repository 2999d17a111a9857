package mmr

import (
	"fmt"
	"math/bits"
)

// ConsistencyProof proves that the MMR of NewCount leaves extends the MMR of
// OldCount leaves: both roots are recomputed from it, and the old prefix
// appears unchanged inside the new MMR.
//
// With OldCount > 0, let Y be the new peak that holds leaf OldCount-1. The
// new peaks left of Y are old peaks; Y is built from the remaining old peaks
// and Path; the new peaks right of Y hold only new leaves:
//
//   - OldPeaks: all peaks at OldCount, left to right (popcount(OldCount)).
//   - Path: bottom-up, the right-hand siblings on the way from the last old
//     peak up to Y; the left-hand siblings on that way are old peaks.
//   - RightPeaks: the new peaks right of Y, left to right.
//
// With OldCount == 0, OldPeaks and Path are empty and RightPeaks holds all
// new peaks. With OldCount == NewCount, Path and RightPeaks are empty.
type ConsistencyProof struct {
	OldCount   uint64
	NewCount   uint64
	OldPeaks   []Hash
	Path       []Hash
	RightPeaks []Hash
}

// consistencyShape describes the proof between oldCount and newCount
// (0 < oldCount <= newCount): Y's height, the last old peak's height, and
// how many Path and RightPeaks hashes the proof holds.
type consistencyShape struct {
	peakHeight, startHeight int
	path, right             int
}

func shapeOf(oldCount, newCount uint64) consistencyShape {
	last := oldCount - 1
	s := consistencyShape{
		peakHeight:  bits.Len64(last^newCount) - 1,
		startHeight: bits.TrailingZeros64(oldCount),
	}
	span := s.peakHeight - s.startHeight
	// One Path hash per level where the way up is a left child: a 0 bit of last.
	s.path = span - bits.OnesCount64(last>>s.startHeight&(1<<span-1))
	s.right = bits.OnesCount64(newCount & (1<<s.peakHeight - 1))
	return s
}

// ConsistencyProof returns a proof that RootAt(newCount) extends
// RootAt(oldCount). It fails with ErrOutOfRange unless
// oldCount <= newCount <= LeafCount().
func (m *MMR) ConsistencyProof(oldCount, newCount uint64) (*ConsistencyProof, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if oldCount > newCount || newCount > m.leaves {
		return nil, fmt.Errorf("mmr: consistency proof from %d to %d leaves (MMR has %d): %w", oldCount, newCount, m.leaves, ErrOutOfRange)
	}
	p := &ConsistencyProof{OldCount: oldCount, NewCount: newCount}
	var err error
	if p.OldPeaks, err = m.peaksAt(make([]Hash, 0, bits.OnesCount64(oldCount)), oldCount); err != nil {
		return nil, err
	}
	if oldCount == 0 {
		p.Path = []Hash{}
		p.RightPeaks, err = m.peaksAt(make([]Hash, 0, bits.OnesCount64(newCount)), newCount)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	s := shapeOf(oldCount, newCount)
	p.Path = make([]Hash, 0, s.path)
	last := oldCount - 1
	pos := SizeOfLeafCount(oldCount) - 1 // the last old peak
	for j := s.startHeight; j < s.peakHeight; j++ {
		if last>>j&1 == 1 { // right child: its sibling is an old peak
			pos++
			continue
		}
		sib := pos + treeSize(j)
		h, err := m.get(sib)
		if err != nil {
			return nil, err
		}
		p.Path = append(p.Path, h)
		pos = sib + 1
	}
	var posBuf [maxPeaks]uint64
	newPeaks := peakPositions(posBuf[:0], newCount)
	p.RightPeaks = make([]Hash, 0, s.right)
	for _, pos := range newPeaks[len(newPeaks)-s.right:] {
		h, err := m.get(pos)
		if err != nil {
			return nil, err
		}
		p.RightPeaks = append(p.RightPeaks, h)
	}
	return p, nil
}

// VerifyConsistency checks that the MMR of newCount leaves with root newRoot
// extends the MMR of oldCount leaves with root oldRoot. It returns nil, or an
// error wrapping ErrInvalidProof; in particular it fails if any leaf of the
// old prefix differs in the new MMR. The proof must be bound to the same
// counts and have exactly the shape they call for.
func VerifyConsistency(oldRoot Hash, oldCount uint64, newRoot Hash, newCount uint64, p *ConsistencyProof) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("mmr: verify consistency from %d to %d leaves: %s: %w", oldCount, newCount, fmt.Sprintf(format, args...), ErrInvalidProof)
	}
	switch {
	case p == nil:
		return fail("no proof")
	case p.OldCount != oldCount || p.NewCount != newCount:
		return fail("proof is from %d to %d leaves", p.OldCount, p.NewCount)
	case oldCount > newCount:
		return fail("old count above new count")
	case newCount > MaxLeafCount:
		return fail("new count above %d", uint64(MaxLeafCount))
	case oldCount == newCount && oldRoot != newRoot:
		return fail("equal counts with different roots")
	}
	if want := bits.OnesCount64(oldCount); len(p.OldPeaks) != want {
		return fail("%d old peaks, want %d", len(p.OldPeaks), want)
	}
	if BagPeaks(oldCount, p.OldPeaks) != oldRoot {
		return fail("old root mismatch")
	}
	var buf [maxPeaks]Hash
	peaks := buf[:0]
	if oldCount == 0 {
		if len(p.Path) != 0 {
			return fail("%d path hashes, want 0", len(p.Path))
		}
		if want := bits.OnesCount64(newCount); len(p.RightPeaks) != want {
			return fail("%d right peaks, want %d", len(p.RightPeaks), want)
		}
	} else {
		s := shapeOf(oldCount, newCount)
		if len(p.Path) != s.path {
			return fail("%d path hashes, want %d", len(p.Path), s.path)
		}
		if len(p.RightPeaks) != s.right {
			return fail("%d right peaks, want %d", len(p.RightPeaks), s.right)
		}
		last := oldCount - 1
		cur := p.OldPeaks[len(p.OldPeaks)-1]
		path := p.Path
		for j := s.startHeight; j < s.peakHeight; j++ {
			if last>>j&1 == 1 {
				left := p.OldPeaks[bits.OnesCount64(oldCount>>(j+1))]
				cur = NodeHash(left, cur)
			} else {
				cur = NodeHash(cur, path[0])
				path = path[1:]
			}
		}
		peaks = append(peaks, p.OldPeaks[:bits.OnesCount64(oldCount>>(s.peakHeight+1))]...)
		peaks = append(peaks, cur)
	}
	peaks = append(peaks, p.RightPeaks...)
	if BagPeaks(newCount, peaks) != newRoot {
		return fail("new root mismatch")
	}
	return nil
}
