package core

import (
	"encoding/binary"
	"fmt"
)

// LeafAuthDomain opens the payload a writer signs for one leaf of a
// bucket's log, so a leaf signature can never be taken for a commitment,
// a request or a transaction.
const LeafAuthDomain = "cairn/leaf-auth/v1\x00"

// LeafAuthPayload returns the bytes a bucket writer signs to authorise leaf
// l of bucket's log on chain chainID (integers big-endian):
//
//	offset  size  field
//	0       19    LeafAuthDomain ("cairn/leaf-auth/v1" and a NUL)
//	19      1     L = len(chain id), 1..64
//	20      L     chain id, UTF-8
//	20+L    8     bucket id
//	28+L    62    Leaf.Bytes() (domain, seq, content hash, size)
//
// for 90+L bytes in all. The signature is stored with the leaf by every
// provider, travels with it in sync, and answers a challenge: a leaf that
// no writer of the bucket signed is data the provider made up.
func LeafAuthPayload(chainID string, bucket BucketID, l Leaf) ([]byte, error) {
	const op = "core.LeafAuthPayload"
	if len(chainID) == 0 || len(chainID) > MaxChainIDLen {
		return nil, Errorf(op, Invalid, "chain id must be 1..%d bytes, got %d", MaxChainIDLen, len(chainID))
	}
	if bucket == 0 {
		return nil, Errorf(op, Invalid, "bucket id 0 is not a bucket")
	}
	b := make([]byte, 0, len(LeafAuthDomain)+1+len(chainID)+8+LeafSize)
	b = append(b, LeafAuthDomain...)
	b = append(b, byte(len(chainID)))
	b = append(b, chainID...)
	b = binary.BigEndian.AppendUint64(b, uint64(bucket))
	b = append(b, l.Bytes()...)
	return b, nil
}

// SignedLeaf is a leaf with the signature of the bucket writer who wrote
// it. The MMR commits to the leaf alone (mmr.LeafHash(Leaf.Bytes())); the
// writer and signature are kept beside it.
type SignedLeaf struct {
	Leaf
	Writer    AccountID `json:"writer"`
	Signature Signature `json:"writer_signature"`
}

// SignLeaf returns l signed by writer k for bucket on chain chainID.
func SignLeaf(k PrivateKey, chainID string, bucket BucketID, l Leaf) (SignedLeaf, error) {
	p, err := LeafAuthPayload(chainID, bucket, l)
	if err != nil {
		return SignedLeaf{}, err
	}
	return SignedLeaf{Leaf: l, Writer: k.Account(), Signature: k.Sign(p)}, nil
}

// Verify checks that s.Signature is s.Writer's signature of s.Leaf for
// bucket on chain chainID (kind Corrupt if not). Whether s.Writer may
// write to the bucket is the caller's question, answered from chain state.
func (s SignedLeaf) Verify(chainID string, bucket BucketID) error {
	p, err := LeafAuthPayload(chainID, bucket, s.Leaf)
	if err != nil {
		return err
	}
	if !s.Writer.Verify(p, s.Signature) {
		return E("core.SignedLeaf.Verify", Corrupt, fmt.Errorf("writer signature by %s does not verify over bucket %s leaf %d", s.Writer.Short(), bucket, s.Seq))
	}
	return nil
}
