package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// formatVersion is stored at key "v"; a store of another format is refused.
// Version 2 stores each leaf with its writer's signature; version 3 keeps
// blob bytes in segment files, the "b" key holding only their location.
const formatVersion = "cairn-provider-store/3"

var versionKey = []byte("v")

func blobKey(h core.H256) []byte { return append([]byte{'b'}, h[:]...) }

func bucketBlobKey(b core.BucketID, h core.H256) []byte {
	k := binary.BigEndian.AppendUint64([]byte{'h'}, uint64(b))
	return append(k, h[:]...)
}

func leafKey(b core.BucketID, index uint64) []byte {
	k := binary.BigEndian.AppendUint64([]byte{'l'}, uint64(b))
	return binary.BigEndian.AppendUint64(k, index)
}

func nodeKey(b core.BucketID, pos uint64) []byte {
	k := binary.BigEndian.AppendUint64([]byte{'m'}, uint64(b))
	return binary.BigEndian.AppendUint64(k, pos)
}

var statePrefix = []byte{'s'}

func stateKey(b core.BucketID) []byte {
	return binary.BigEndian.AppendUint64([]byte{'s'}, uint64(b))
}

var noncePrefix = []byte{'n'}

func nonceKey(b core.BucketID, n Nonce) []byte {
	k := binary.BigEndian.AppendUint64([]byte{'n'}, uint64(n.Expiry))
	k = binary.BigEndian.AppendUint64(k, uint64(b))
	k = append(k, n.Writer[:]...)
	return append(k, n.Value[:]...)
}

// encodeLeaf is Leaf.Bytes(), the writer and the writer's signature.
func encodeLeaf(sl core.SignedLeaf) []byte {
	b := make([]byte, 0, leafRecordSize)
	b = append(b, sl.Leaf.Bytes()...)
	b = append(b, sl.Writer[:]...)
	return append(b, sl.Signature[:]...)
}

const leafRecordSize = core.LeafSize + len(core.AccountID{}) + len(core.Signature{})

func decodeLeaf(b []byte) (core.SignedLeaf, error) {
	if len(b) != leafRecordSize {
		return core.SignedLeaf{}, fmt.Errorf("leaf record of %d bytes, want %d", len(b), leafRecordSize)
	}
	lf, err := core.ParseLeaf(b[:core.LeafSize])
	if err != nil {
		return core.SignedLeaf{}, err
	}
	sl := core.SignedLeaf{Leaf: lf}
	copy(sl.Writer[:], b[core.LeafSize:])
	copy(sl.Signature[:], b[core.LeafSize+len(sl.Writer):])
	return sl, nil
}

// encodeState is start_seq, leaf_count, bytes (u64 BE each).
func encodeState(s State) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 24), s.StartSeq)
	b = binary.BigEndian.AppendUint64(b, s.LeafCount)
	return binary.BigEndian.AppendUint64(b, s.Bytes)
}

func decodeState(b []byte) (State, bool) {
	if len(b) != 24 {
		return State{}, false
	}
	return State{
		StartSeq:  binary.BigEndian.Uint64(b),
		LeafCount: binary.BigEndian.Uint64(b[8:]),
		Bytes:     binary.BigEndian.Uint64(b[16:]),
	}, true
}

// prefixEnd is the first key after every key with the prefix.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // every byte was 0xff: no upper bound
}
