package core

import (
	"encoding/binary"
)

// LeafDomain opens the encoding of a write-log leaf.
const LeafDomain = "cairn/leaf/v1\x00"

// LeafSize is the length of Leaf.Bytes().
const LeafSize = len(LeafDomain) + 8 + 32 + 8

// Leaf is one write in a bucket's append-only log: the write's sequence
// number (its absolute position in the log), the SHA-256 of the blob
// written, and the blob's size. The bucket's MMR commits to
// mmr.LeafHash(leaf.Bytes()) for each leaf, so provider, client and chain
// all derive the same leaf hash from these three fields.
type Leaf struct {
	Seq         uint64 `json:"seq"`
	ContentHash H256   `json:"content_hash"`
	Size        uint64 `json:"size"`
}

// Bytes is the fixed encoding (integers big-endian):
//
//	offset  size  field
//	0       14    LeafDomain ("cairn/leaf/v1" and a NUL)
//	14      8     seq
//	22      32    content hash
//	54      8     size
func (l Leaf) Bytes() []byte {
	b := make([]byte, 0, LeafSize)
	b = append(b, LeafDomain...)
	b = binary.BigEndian.AppendUint64(b, l.Seq)
	b = append(b, l.ContentHash[:]...)
	b = binary.BigEndian.AppendUint64(b, l.Size)
	return b
}

// ParseLeaf decodes Leaf.Bytes. It never panics.
func ParseLeaf(b []byte) (Leaf, error) {
	if len(b) != LeafSize || string(b[:len(LeafDomain)]) != LeafDomain {
		return Leaf{}, Errorf("core.ParseLeaf", Invalid, "not a leaf encoding (%d bytes)", len(b))
	}
	p := b[len(LeafDomain):]
	var l Leaf
	l.Seq = binary.BigEndian.Uint64(p)
	copy(l.ContentHash[:], p[8:40])
	l.Size = binary.BigEndian.Uint64(p[40:])
	return l, nil
}
