package mmr_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/cairn-storage/cairn/mmr"
)

// leafData returns the data of leaf i in the MMRs of family seed; leaves
// of one family are distinct.
func leafData(seed, i uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], i)
	return b[:]
}

// fataler is what build and mustRoot need of a *testing.T, *testing.B or *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// build returns an MMR over a MemStore holding n leaves of family seed.
func build(t fataler, seed, n uint64) *mmr.MMR {
	t.Helper()
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := m.Append(leafData(seed, i)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func mustRoot(t fataler, m *mmr.MMR, n uint64) mmr.Hash {
	t.Helper()
	r, err := m.RootAt(n)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Reference hashes, written from the definitions with crypto/sha256 alone.
func refLeaf(data []byte) mmr.Hash {
	return sha256.Sum256(append([]byte{0}, data...))
}

func refNode(l, r mmr.Hash) mmr.Hash {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func refBag(n uint64, peaks []mmr.Hash) mmr.Hash {
	b := binary.BigEndian.AppendUint64([]byte{2}, n)
	for _, p := range peaks {
		b = append(b, p[:]...)
	}
	return sha256.Sum256(b)
}

// refTree is the Merkle root of a power-of-two run of leaves.
func refTree(leaves []mmr.Hash) mmr.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	h := len(leaves) / 2
	return refNode(refTree(leaves[:h]), refTree(leaves[h:]))
}

// refPeaks splits leaves into perfect trees, largest first, by the binary
// expansion of their count.
func refPeaks(leaves []mmr.Hash) []mmr.Hash {
	var peaks []mmr.Hash
	for bit := uint64(1) << 62; bit > 0; bit >>= 1 {
		if uint64(len(leaves))&bit != 0 {
			peaks = append(peaks, refTree(leaves[:bit]))
			leaves = leaves[bit:]
		}
	}
	return peaks
}

func refRoot(leaves []mmr.Hash) mmr.Hash {
	return refBag(uint64(len(leaves)), refPeaks(leaves))
}

func refLeaves(seed, n uint64) []mmr.Hash {
	ls := make([]mmr.Hash, n)
	for i := range ls {
		ls[i] = refLeaf(leafData(seed, uint64(i)))
	}
	return ls
}

// flakyStore is a Store whose Append and Get fail while the flags are set.
type flakyStore struct {
	*mmr.MemStore
	failAppend, failGet bool
}

var errInjected = errors.New("injected failure")

func (s *flakyStore) Append(nodes []mmr.Hash) error {
	if s.failAppend {
		return errInjected
	}
	return s.MemStore.Append(nodes)
}

func (s *flakyStore) Get(pos uint64) (mmr.Hash, error) {
	if s.failGet {
		return mmr.Hash{}, errInjected
	}
	return s.MemStore.Get(pos)
}

// flipBit returns h with bit k (0..255) inverted.
func flipBit(h mmr.Hash, k int) mmr.Hash {
	h[k/8] ^= 1 << (k % 8)
	return h
}
