// Package mmr is a Merkle Mountain Range (MMR) over SHA-256: an append-only
// log of leaves committed by one root, with inclusion proofs (leaf i is in
// the log of n leaves) and consistency proofs (the log of n leaves extends
// the log of m leaves). Providers keep one MMR per bucket; the chain and
// clients verify its proofs. The package imports only the standard library.
//
// # Shape and positions
//
// An MMR of n leaves is a list of perfect binary trees ("peaks") of strictly
// decreasing height, one per 1 bit of n: 7 leaves (binary 111) make peaks of
// 4, 2 and 1 leaves. Nodes are numbered from 0 in the order they are
// appended (post-order), and a Store keeps them by that position:
//
//	height 2:       6
//	height 1:    2     5      9
//	height 0:   0 1   3 4   7 8   10
//	leaf:       0 1   2 3   4 5    6
//
// Leaf i sits at position PosOfLeaf(i) = 2i - popcount(i); an MMR of n leaves
// has SizeOfLeafCount(n) = 2n - popcount(n) nodes. Appending leaf i stores
// the leaf and then one parent per trailing 1 bit of i. Nodes are never
// changed, so the first SizeOfLeafCount(m) nodes of an MMR are the MMR of its
// first m leaves: roots and proofs for every earlier leaf count stay
// available (RootAt, Proof, ConsistencyProof).
//
// # Hashes
//
// Three domain-separated SHA-256 functions; u64be is 8 bytes big-endian:
//
//	leaf hash: LeafHash(data)         = SHA-256(0x00 || data)
//	node hash: NodeHash(left, right)  = SHA-256(0x01 || left || right)
//	root:      BagPeaks(n, peaks)     = SHA-256(0x02 || u64be(n) || peak_1 || ... || peak_k)
//
// The peaks are bagged left to right, highest first. The root commits to the
// leaf count, so two prefixes of one log never share a root; the root of the
// empty MMR is BagPeaks(0, nil). Test vectors, for leaves "a", "b", "c"
// with La = LeafHash("a") and so on:
//
//	0 leaves: BagPeaks(0, [])                      = 4322fd2bc0a137d1375b37b3b2e2b4715b3d3dd7ca9682438d4fea0f8437fad3
//	1 leaf:   BagPeaks(1, [La])                    = a94fe96b1c38a1bdfb72939d6cd46bc31a31bfe1ad0d960804189a287b6558a0
//	2 leaves: BagPeaks(2, [NodeHash(La, Lb)])      = 4c18b87ee623a3dfbcfefc3b002d3334c0554f545f9ef9dadec271daec0b399b
//	3 leaves: BagPeaks(3, [NodeHash(La, Lb), Lc])  = 6069e91588393b7164a3182ad5e503ff24385317b33820aabe77179c8d7d181b
//
// # Inclusion proofs
//
// An InclusionProof of leaf i among n leaves holds the siblings on the path
// from the leaf to its peak, bottom-up (as many as the peak's height), and
// the other popcount(n)-1 peaks, left to right. The verifier folds the leaf
// with the siblings (bit j of i set: the sibling is on the left), puts the
// result in its place among the other peaks and compares BagPeaks(n, ...)
// with the root. VerifyInclusion requires the proof to name the same leaf
// index and leaf count as the caller and to have exactly the shape that
// index and count call for, so a proof is bound to the leaf it claims and a
// proof that verifies is the only one that does.
//
// # Consistency proofs
//
// A ConsistencyProof from m to n leaves (0 < m <= n) holds OldPeaks (the
// popcount(m) peaks at m leaves), Path and RightPeaks. Let Y be the new peak holding leaf m-1. The new peaks
// left of Y are old peaks. From the last old peak up to Y, each step's
// sibling is either an old peak (on the left) or the next Path hash (on the
// right). The new peaks right of Y, holding only new leaves, are RightPeaks.
// The verifier checks BagPeaks(m, old peaks) against the old root, rebuilds
// the new peaks from the old peaks, Path and RightPeaks, and checks
// BagPeaks(n, new peaks) against the new root. So it fails if any leaf of
// the old prefix differs in the new MMR: a provider that is behind can prove
// that the newer root extends its own; one whose history diverged cannot.
// From m = 0 the proof holds every new peak in RightPeaks; for m = n it holds
// only the old peaks, and the two roots must be equal.
//
// # Encodings
//
// Binary, version 1 ('I' is 0x49, 'C' is 0x43). Integers are big-endian; each list's length is a
// one-byte count in the header, at most 64; hashes are 32 raw bytes; nothing
// may follow the last hash. Decoding refuses anything else, so every proof has
// one encoding:
//
//	inclusion:   0x01 'I' leaf_index:u64 leaf_count:u64 n_siblings:u8 n_peaks:u8
//	             siblings:n_siblings*32 peaks:n_peaks*32
//	consistency: 0x01 'C' old_count:u64 new_count:u64 n_old_peaks:u8 n_path:u8 n_right_peaks:u8
//	             old_peaks:n_old_peaks*32 path:n_path*32 right_peaks:n_right_peaks*32
//
// JSON, with hashes as 64 lowercase hex digits (the only text form a Hash
// parses from) and lists never null:
//
//	{"leaf_index":1,"leaf_count":3,"siblings":["<hex>"],"peaks":["<hex>"]}
//	{"old_count":1,"new_count":3,"old_peaks":["<hex>"],"path":["<hex>"],"right_peaks":["<hex>"]}
//
// # Concurrency and storage
//
// An MMR is safe for concurrent use and must be the only writer of its Store.
// It keeps its current peaks in memory, so Append reads nothing from the
// Store and writes each leaf's new nodes with one Store.Append, which must be
// atomic. New reopens an MMR from a Store, refusing a size that no MMR has.
package mmr
