package mmr

import "math/bits"

// MaxLeafCount is the largest number of leaves an MMR may hold, so that
// every position and size fits in a uint64.
const MaxLeafCount = 1<<63 - 1

// SizeOfLeafCount returns the number of nodes of an MMR with n leaves:
// 2n - popcount(n). n must not exceed MaxLeafCount.
func SizeOfLeafCount(n uint64) uint64 {
	return 2*n - uint64(bits.OnesCount64(n))
}

// PosOfLeaf returns the position of leaf leafIndex. Leaf i is appended when
// the MMR has i leaves, so it sits at SizeOfLeafCount(i).
func PosOfLeaf(leafIndex uint64) uint64 {
	return SizeOfLeafCount(leafIndex)
}

// LeafCountOfSize returns the number of leaves of an MMR with size nodes,
// and false if no MMR (of at most MaxLeafCount leaves) has that many nodes.
func LeafCountOfSize(size uint64) (uint64, bool) {
	// An MMR is a sequence of perfect trees of strictly decreasing height;
	// a tree of height h has 2^(h+1)-1 nodes. Take them greedily.
	var n uint64
	rem := size
	for h := 63; h >= 0; h-- {
		treeSize := uint64(1)<<(h+1) - 1 // wraps to 2^64-1 for h = 63
		if rem >= treeSize {
			rem -= treeSize
			n |= 1 << h
		}
	}
	return n, rem == 0 && n <= MaxLeafCount
}

// treeSize returns the number of nodes of a perfect tree of height h.
func treeSize(h int) uint64 { return uint64(1)<<(h+1) - 1 }

// peakPositions appends to dst the positions of the peaks of an MMR with n
// leaves, left to right (highest first).
func peakPositions(dst []uint64, n uint64) []uint64 {
	var offset uint64
	for h := 63; h >= 0; h-- {
		if n&(1<<h) == 0 {
			continue
		}
		offset += treeSize(h)
		dst = append(dst, offset-1)
	}
	return dst
}

// peakOf returns the height of the peak that holds leaf i in an MMR with n
// leaves (i < n), and how many peaks stand to its left. The peak is the
// highest bit in which i and n differ: above it they agree (i is past the
// higher peaks), and there n has a 1 and i a 0.
func peakOf(i, n uint64) (height, index int) {
	height = bits.Len64(i^n) - 1
	index = bits.OnesCount64(n >> (height + 1))
	return height, index
}
