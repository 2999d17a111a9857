package wire

import (
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Health is the body of GET /health: the node's own status and counts,
// public, so it names no bucket (a bucket's usage is GET /usage, a signed
// read; its signed root is GET /commitment).
type Health struct {
	// Status is "ok", or "degraded" when the chain could not be read or a
	// bucket lags behind its peers.
	Status      string         `json:"status"`
	Version     string         `json:"version"`
	Account     core.AccountID `json:"account"`
	ChainID     string         `json:"chain_id"`
	ChainHeight int64          `json:"chain_height"`
	Buckets     int            `json:"buckets"` // buckets this provider holds a log of
	Bytes       uint64         `json:"bytes"`   // their blob bytes, all together
	Lagging     int            `json:"lagging"` // buckets behind the most advanced peer it last heard from
}

// Usage is the body of GET /usage?bucket_id=X, a signed read by a member
// or a provider of the bucket: what this provider holds of the bucket (a
// writer checks its quota with Bytes). Unsigned by the provider, so
// advisory: the provider enforces its quota itself.
type Usage struct {
	Bucket    core.BucketID `json:"bucket_id"`
	Role      string        `json:"role,omitempty"` // primary or replica, from its agreement
	StartSeq  uint64        `json:"start_seq"`
	LeafCount uint64        `json:"leaf_count"`
	Bytes     uint64        `json:"bytes"`
	// SyncLag is how many leaves this provider is behind the most
	// advanced peer it last heard from.
	SyncLag uint64 `json:"sync_lag"`
}

// WriteResult is the body of a successful write: the leaf as stored, its
// index in the log, and the log's leaf count and root just after it. A
// repeated write of the same leaf gets the same answer.
type WriteResult struct {
	Leaf      core.Leaf `json:"leaf"`
	LeafIndex uint64    `json:"leaf_index"`
	LeafCount uint64    `json:"leaf_count"`
	MMRRoot   core.H256 `json:"mmr_root"`
}

// Proof is the body of GET /proof: leaf LeafIndex of the log and its
// inclusion proof against Root, the root at LeafCount leaves.
type Proof struct {
	Bucket    core.BucketID      `json:"bucket_id"`
	StartSeq  uint64             `json:"start_seq"`
	Leaf      core.SignedLeaf    `json:"leaf"` // with its writer's signature
	LeafIndex uint64             `json:"leaf_index"`
	LeafCount uint64             `json:"leaf_count"`
	Root      core.H256          `json:"root"`
	Proof     mmr.InclusionProof `json:"proof"`
}

// Verify checks that p proves its leaf, at its index, under root at its
// leaf count. root comes from a source the caller trusts (a signed
// commitment, a checkpoint), not from p. Kind corrupt if it fails.
func (p *Proof) Verify(root core.H256) error {
	const op = "wire.Proof.Verify"
	if p.Proof.LeafIndex != p.LeafIndex || p.Proof.LeafCount != p.LeafCount {
		return core.Errorf(op, core.Corrupt, "proof is for leaf %d of %d, answer names leaf %d of %d", p.Proof.LeafIndex, p.Proof.LeafCount, p.LeafIndex, p.LeafCount)
	}
	if p.Leaf.Seq != p.StartSeq+p.LeafIndex {
		return core.Errorf(op, core.Corrupt, "leaf seq %d is not start_seq %d + index %d", p.Leaf.Seq, p.StartSeq, p.LeafIndex)
	}
	if err := mmr.VerifyInclusion(mmr.Hash(root), p.LeafCount, p.LeafIndex, mmr.LeafHash(p.Leaf.Bytes()), &p.Proof); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	return nil
}

// Consistency is the body of GET /proof/consistency: a proof that NewRoot
// (at NewCount leaves) extends OldRoot (at OldCount leaves).
type Consistency struct {
	Bucket   core.BucketID        `json:"bucket_id"`
	OldCount uint64               `json:"old_count"`
	NewCount uint64               `json:"new_count"`
	OldRoot  core.H256            `json:"old_root"`
	NewRoot  core.H256            `json:"new_root"`
	Proof    mmr.ConsistencyProof `json:"proof"`
}

// Verify checks the proof between oldRoot and newRoot, which the caller
// trusts; kind corrupt if it fails.
func (c *Consistency) Verify(oldRoot, newRoot core.H256) error {
	const op = "wire.Consistency.Verify"
	if c.Proof.OldCount != c.OldCount || c.Proof.NewCount != c.NewCount {
		return core.Errorf(op, core.Corrupt, "proof is from %d to %d, answer names %d to %d", c.Proof.OldCount, c.Proof.NewCount, c.OldCount, c.NewCount)
	}
	if err := mmr.VerifyConsistency(mmr.Hash(oldRoot), c.OldCount, mmr.Hash(newRoot), c.NewCount, &c.Proof); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	return nil
}

// Leaves is the body of GET /leaves: the leaves from seq From on (at most
// the limit asked for), and the provider's log size when it answered.
type Leaves struct {
	Bucket    core.BucketID     `json:"bucket_id"`
	StartSeq  uint64            `json:"start_seq"`
	LeafCount uint64            `json:"leaf_count"`
	From      uint64            `json:"from"`
	Leaves    []core.SignedLeaf `json:"leaves"` // each with its writer's signature
}

// Check verifies the answer's own shape: leaves are consecutive from From
// and lie inside the log it describes. Kind corrupt if not.
func (l *Leaves) Check() error {
	for i, lf := range l.Leaves {
		if lf.Seq != l.From+uint64(i) {
			return core.Errorf("wire.Leaves.Check", core.Corrupt, "leaf %d has seq %d, want %d", i, lf.Seq, l.From+uint64(i))
		}
	}
	if n := uint64(len(l.Leaves)); n > 0 && (l.From < l.StartSeq || l.From+n > l.StartSeq+l.LeafCount) {
		return core.Errorf("wire.Leaves.Check", core.Corrupt, "leaves %d..%d lie outside the log [%d, %d)", l.From, l.From+n, l.StartSeq, l.StartSeq+l.LeafCount)
	}
	return nil
}
