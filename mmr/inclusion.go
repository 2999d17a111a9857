package mmr

import (
	"fmt"
	"math/bits"
)

// InclusionProof proves that a leaf is leaf LeafIndex of the MMR prefix of
// LeafCount leaves, against RootAt(LeafCount).
//
// Siblings is the path from the leaf up to the peak that holds it, bottom-up:
// exactly as many hashes as that peak's height. Peaks holds the other peaks
// of the prefix, left to right, without the leaf's own peak (the verifier
// recomputes it): exactly popcount(LeafCount)-1 hashes.
type InclusionProof struct {
	LeafIndex uint64
	LeafCount uint64
	Siblings  []Hash
	Peaks     []Hash
}

// Proof returns a proof that leaf leafIndex is in the prefix of leafCount
// leaves, to verify against RootAt(leafCount). It fails with ErrOutOfRange
// unless leafIndex < leafCount <= LeafCount().
func (m *MMR) Proof(leafIndex, leafCount uint64) (*InclusionProof, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if leafCount > m.leaves || leafIndex >= leafCount {
		return nil, fmt.Errorf("mmr: proof of leaf %d of %d (MMR has %d leaves): %w", leafIndex, leafCount, m.leaves, ErrOutOfRange)
	}
	height, index := peakOf(leafIndex, leafCount)
	p := &InclusionProof{
		LeafIndex: leafIndex,
		LeafCount: leafCount,
		Siblings:  make([]Hash, height),
		Peaks:     make([]Hash, 0, bits.OnesCount64(leafCount)),
	}
	pos := PosOfLeaf(leafIndex)
	for j := range height {
		var sib uint64
		if leafIndex>>j&1 == 1 { // right child: sibling to the left, parent next
			sib = pos - treeSize(j)
			pos++
		} else { // left child: sibling to the right, parent after it
			sib = pos + treeSize(j)
			pos = sib + 1
		}
		h, err := m.get(sib)
		if err != nil {
			return nil, err
		}
		p.Siblings[j] = h
	}
	peaks, err := m.peaksAt(p.Peaks, leafCount)
	if err != nil {
		return nil, err
	}
	p.Peaks = append(peaks[:index], peaks[index+1:]...)
	return p, nil
}

// VerifyInclusion checks that leaf is leaf leafIndex of the MMR of leafCount
// leaves whose root is root. It returns nil, or an error wrapping
// ErrInvalidProof. The proof must be bound to the same leafIndex and
// leafCount, and have exactly the shape of that leaf's path: a proof that
// verifies is the only one that does.
func VerifyInclusion(root Hash, leafCount, leafIndex uint64, leaf Hash, p *InclusionProof) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("mmr: verify inclusion of leaf %d of %d: %s: %w", leafIndex, leafCount, fmt.Sprintf(format, args...), ErrInvalidProof)
	}
	switch {
	case p == nil:
		return fail("no proof")
	case p.LeafIndex != leafIndex || p.LeafCount != leafCount:
		return fail("proof is for leaf %d of %d", p.LeafIndex, p.LeafCount)
	case leafIndex >= leafCount:
		return fail("leaf index out of range")
	case leafCount > MaxLeafCount:
		return fail("leaf count above %d", uint64(MaxLeafCount))
	}
	height, index := peakOf(leafIndex, leafCount)
	if len(p.Siblings) != height {
		return fail("%d siblings, want %d", len(p.Siblings), height)
	}
	if want := bits.OnesCount64(leafCount) - 1; len(p.Peaks) != want {
		return fail("%d other peaks, want %d", len(p.Peaks), want)
	}
	cur := leaf
	for j, sib := range p.Siblings {
		if leafIndex>>j&1 == 1 {
			cur = NodeHash(sib, cur)
		} else {
			cur = NodeHash(cur, sib)
		}
	}
	var buf [maxPeaks]Hash
	peaks := append(buf[:0], p.Peaks[:index]...)
	peaks = append(peaks, cur)
	peaks = append(peaks, p.Peaks[index:]...)
	if BagPeaks(leafCount, peaks) != root {
		return fail("root mismatch")
	}
	return nil
}
