package core

import (
	"encoding/binary"
	"fmt"
)

// CommitmentDomain opens every commitment payload, so a commitment
// signature can never be mistaken for a signature over anything else.
const CommitmentDomain = "cairn/commitment/v1\x00"

// MaxChainIDLen bounds the chain id inside a payload (CometBFT allows 50).
const MaxChainIDLen = 64

// Commitment is a provider's statement of a bucket's state: the MMR root
// over leaves [StartSeq, StartSeq+LeafCount) of the bucket's write log.
type Commitment struct {
	ChainID   string   `json:"chain_id"`
	Bucket    BucketID `json:"bucket_id"`
	MMRRoot   H256     `json:"mmr_root"`
	StartSeq  uint64   `json:"start_seq"`
	LeafCount uint64   `json:"leaf_count"`
}

// Payload returns the bytes a provider signs. The layout is fixed
// (integers big-endian):
//
//	offset  size  field
//	0       20    CommitmentDomain ("cairn/commitment/v1" and a NUL)
//	20      1     L = len(chain id), 1..64
//	21      L     chain id, UTF-8
//	21+L    8     bucket id
//	29+L    32    mmr_root
//	61+L    8     start_seq
//	69+L    8     leaf_count
//
// for 77+L bytes in all. testdata/commitment_vectors.json holds vectors.
func (c Commitment) Payload() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(CommitmentDomain)+1+len(c.ChainID)+8+32+8+8)
	b = append(b, CommitmentDomain...)
	b = append(b, byte(len(c.ChainID)))
	b = append(b, c.ChainID...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Bucket))
	b = append(b, c.MMRRoot[:]...)
	b = binary.BigEndian.AppendUint64(b, c.StartSeq)
	b = binary.BigEndian.AppendUint64(b, c.LeafCount)
	return b, nil
}

func (c Commitment) validate() error {
	if len(c.ChainID) == 0 || len(c.ChainID) > MaxChainIDLen {
		return Errorf("core.Commitment", Invalid, "chain id must be 1..%d bytes, got %d", MaxChainIDLen, len(c.ChainID))
	}
	if c.Bucket == 0 {
		return Errorf("core.Commitment", Invalid, "bucket id 0 is not a bucket")
	}
	return nil
}

// ParseCommitmentPayload decodes Payload's output. It never panics.
func ParseCommitmentPayload(b []byte) (Commitment, error) {
	const op = "core.ParseCommitmentPayload"
	var c Commitment
	d := len(CommitmentDomain)
	if len(b) < d+1 || string(b[:d]) != CommitmentDomain {
		return c, Errorf(op, Invalid, "not a commitment payload")
	}
	l := int(b[d])
	if len(b) != d+1+l+56 {
		return c, Errorf(op, Invalid, "payload is %d bytes, want %d for a %d-byte chain id", len(b), d+1+l+56, l)
	}
	p := b[d+1:]
	c.ChainID = string(p[:l])
	p = p[l:]
	c.Bucket = BucketID(binary.BigEndian.Uint64(p))
	copy(c.MMRRoot[:], p[8:40])
	c.StartSeq = binary.BigEndian.Uint64(p[40:])
	c.LeafCount = binary.BigEndian.Uint64(p[48:])
	if err := c.validate(); err != nil {
		return Commitment{}, err
	}
	return c, nil
}

// Sign returns the commitment signed by k.
func (c Commitment) Sign(k PrivateKey) (SignedCommitment, error) {
	p, err := c.Payload()
	if err != nil {
		return SignedCommitment{}, err
	}
	return SignedCommitment{Commitment: c, Provider: k.Account(), Signature: k.Sign(p)}, nil
}

// SignedCommitment is a commitment with the signature of the provider that
// made it.
type SignedCommitment struct {
	Commitment
	Provider  AccountID `json:"provider"`
	Signature Signature `json:"signature"`
}

// Verify checks the signature against the provider named in s. It returns
// an error of kind Corrupt if the signature does not verify.
func (s SignedCommitment) Verify() error {
	return s.VerifyBy(s.Provider)
}

// VerifyBy checks the signature against key, which the caller took from a
// trusted source (the chain's provider registry), not from the response.
func (s SignedCommitment) VerifyBy(key AccountID) error {
	p, err := s.Payload()
	if err != nil {
		return err
	}
	if !key.Verify(p, s.Signature) {
		return E("core.SignedCommitment.Verify", Corrupt, fmt.Errorf("signature by %s does not verify over bucket %s root %s", key.Short(), s.Bucket, s.MMRRoot))
	}
	return nil
}
