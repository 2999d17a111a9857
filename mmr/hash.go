package mmr

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest: a leaf hash, an interior node hash or a root.
// Its text form (String, MarshalText, JSON) is 64 lowercase hex digits.
type Hash [32]byte

// Domain-separation prefixes of the three hash functions.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
	bagPrefix  = 0x02
)

// String returns h as 64 lowercase hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler: 64 lowercase hex digits.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts exactly 64
// lowercase hex digits, so every hash has one text form.
func (h *Hash) UnmarshalText(text []byte) error {
	if len(text) != hex.EncodedLen(len(h)) {
		return fmt.Errorf("mmr: hash must be %d hex digits, got %d characters", hex.EncodedLen(len(h)), len(text))
	}
	for _, c := range text {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("mmr: hash %q: not lowercase hex", text)
		}
	}
	var out Hash
	if _, err := hex.Decode(out[:], text); err != nil {
		return fmt.Errorf("mmr: hash %q: %w", text, err)
	}
	*h = out
	return nil
}

// ParseHash parses the text form of a hash: 64 lowercase hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalText([]byte(s))
	return h, err
}

// leafStackMax is the largest leaf that LeafHash hashes from a stack buffer.
const leafStackMax = 256

// LeafHash returns SHA-256(0x00 || data), the hash of a leaf holding data.
func LeafHash(data []byte) Hash {
	if len(data) <= leafStackMax {
		var buf [1 + leafStackMax]byte
		buf[0] = leafPrefix
		n := copy(buf[1:], data)
		return sha256.Sum256(buf[:1+n])
	}
	d := sha256.New()
	d.Write([]byte{leafPrefix})
	d.Write(data)
	var h Hash
	d.Sum(h[:0])
	return h
}

// NodeHash returns SHA-256(0x01 || left || right), the hash of an interior
// node whose children hash to left and right.
func NodeHash(left, right Hash) Hash {
	var buf [1 + 2*len(Hash{})]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+len(left):], right[:])
	return sha256.Sum256(buf[:])
}

// maxPeaks bounds the peaks (and siblings) of any MMR of at most
// MaxLeafCount leaves, and so the hash lists a proof may carry.
const maxPeaks = 64

// BagPeaks returns the root of an MMR with leafCount leaves and the given
// peaks, left to right (highest first):
//
//	SHA-256(0x02 || uint64 big-endian leafCount || peaks[0] || peaks[1] || ...)
//
// Committing to leafCount means no two prefixes of an MMR share a root. The
// root of the empty MMR is BagPeaks(0, nil).
func BagPeaks(leafCount uint64, peaks []Hash) Hash {
	if len(peaks) <= maxPeaks {
		var buf [1 + 8 + maxPeaks*len(Hash{})]byte
		buf[0] = bagPrefix
		binary.BigEndian.PutUint64(buf[1:9], leafCount)
		n := 9
		for i := range peaks {
			n += copy(buf[n:], peaks[i][:])
		}
		return sha256.Sum256(buf[:n])
	}
	d := sha256.New()
	var head [9]byte
	head[0] = bagPrefix
	binary.BigEndian.PutUint64(head[1:], leafCount)
	d.Write(head[:])
	for i := range peaks {
		d.Write(peaks[i][:])
	}
	var h Hash
	d.Sum(h[:0])
	return h
}
