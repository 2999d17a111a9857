package chain

import (
	"strings"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// submitCheckpoint applies every check of DESIGN.md "Chain", cheapest
// first, the signature verifications last, then writes the checkpoint.
func (s *state) submitCheckpoint(signer core.AccountID, c wire.SubmitCheckpoint) error {
	b, err := s.checkpointBucket(signer, c)
	if err != nil {
		return err
	}
	signers, err := s.checkpointSigners(b, c)
	if err != nil {
		return err
	}
	if err := extendsLatest(b.Latest, c); err != nil {
		return err
	}
	if err := s.verifyCheckpointSignatures(c); err != nil {
		return err
	}
	if c.DriveRoot != nil {
		if err := s.updateDriveRoot(signer, b, c); err != nil {
			return err
		}
	}
	s.recordCheckpoint(signer, b, c, signers)
	return nil
}

// checkpointBucket runs the cheap checks: the bucket exists, the
// submitter may write it, and the counts are in range. It returns the
// bucket.
func (s *state) checkpointBucket(signer core.AccountID, c wire.SubmitCheckpoint) (*wire.Bucket, error) {
	const op = "submit_checkpoint"
	b, ok := s.bucket(c.Bucket)
	if !ok {
		return nil, core.Errorf(op, core.NotFound, "no bucket %s", c.Bucket)
	}
	if !b.Role(signer).CanWrite() {
		return nil, core.Errorf(op, core.Unauthorized, "submitter %s is not an admin or writer of bucket %s", signer.Short(), c.Bucket)
	}
	if len(c.Signatures) > maxSignatures {
		return nil, core.Errorf(op, core.Invalid, "%d signatures, at most %d", len(c.Signatures), maxSignatures)
	}
	if c.LeafCount > mmr.MaxLeafCount {
		return nil, core.Errorf(op, core.Invalid, "leaf_count %d above %d", c.LeafCount, uint64(mmr.MaxLeafCount))
	}
	if _, err := add(op, c.StartSeq, c.LeafCount); err != nil {
		return nil, core.Errorf(op, core.Invalid, "start_seq + leaf_count overflows")
	}
	return b, nil
}

// checkpointSigners returns the distinct signers, each a registered
// provider with an active Primary agreement on the bucket, and checks they
// reach the bucket's quorum (never 0).
func (s *state) checkpointSigners(b *wire.Bucket, c wire.SubmitCheckpoint) ([]core.AccountID, error) {
	const op = "submit_checkpoint"
	signers := make([]core.AccountID, 0, len(c.Signatures))
	seen := make(map[core.AccountID]bool, len(c.Signatures))
	for _, sig := range c.Signatures {
		if seen[sig.Provider] {
			return nil, core.Errorf(op, core.Invalid, "provider %s signed twice: signers must be distinct", sig.Provider.Short())
		}
		seen[sig.Provider] = true
		a, ok := s.agreement(c.Bucket, sig.Provider)
		if !ok || a.Role != wire.Primary || s.height >= a.ExpiryHeight {
			return nil, core.Errorf(op, core.Unauthorized, "signer %s has no active primary agreement on bucket %s", sig.Provider.Short(), c.Bucket)
		}
		if !s.isProvider(sig.Provider) {
			return nil, core.Errorf(op, core.Unauthorized, "signer %s is not a registered provider", sig.Provider.Short())
		}
		signers = append(signers, sig.Provider)
	}
	if uint32(len(signers)) < b.Quorum || len(signers) == 0 {
		return nil, core.Errorf(op, core.NoQuorum, "%d distinct primary signatures, bucket %s needs %d", len(signers), c.Bucket, b.Quorum)
	}
	return signers, nil
}

// extendsLatest checks that the log only grows and is never rewritten:
// start_seq never changes (truncation, which would need an admin-signed
// authorisation, is not offered), leaf_count never goes back, and the new
// root provably extends the latest checkpoint's (prev; nil for none).
func extendsLatest(prev *wire.Checkpoint, c wire.SubmitCheckpoint) error {
	const op = "submit_checkpoint"
	if prev == nil {
		return nil
	}
	switch {
	case c.StartSeq != prev.StartSeq:
		return core.Errorf(op, core.Conflict, "start_seq %d differs from the latest checkpoint's %d: a checkpoint never moves start_seq (truncation is not offered)", c.StartSeq, prev.StartSeq)
	case c.LeafCount < prev.LeafCount:
		return core.Errorf(op, core.Conflict, "leaf_count %d goes backwards (latest checkpoint has %d)", c.LeafCount, prev.LeafCount)
	case c.LeafCount == prev.LeafCount:
		if c.MMRRoot != prev.MMRRoot {
			return core.Errorf(op, core.Conflict, "leaf_count %d unchanged but the root differs from the latest checkpoint's", c.LeafCount)
		}
	case prev.LeafCount > 0:
		if c.Consistency == nil {
			return core.Errorf(op, core.Invalid, "a consistency proof from %d to %d leaves is required", prev.LeafCount, c.LeafCount)
		}
		if err := mmr.VerifyConsistency(mmr.Hash(prev.MMRRoot), prev.LeafCount, mmr.Hash(c.MMRRoot), c.LeafCount, c.Consistency); err != nil {
			return core.E(op, core.Corrupt, err)
		}
	}
	return nil
}

// verifyCheckpointSignatures checks each signature over the commitment
// payload (skipped when App.preverify batch-verified them already).
func (s *state) verifyCheckpointSignatures(c wire.SubmitCheckpoint) error {
	const op = "submit_checkpoint"
	commitment := core.Commitment{ChainID: s.chainID, Bucket: c.Bucket, MMRRoot: c.MMRRoot, StartSeq: c.StartSeq, LeafCount: c.LeafCount}
	payload, err := commitment.Payload()
	if err != nil {
		return core.E(op, core.Invalid, err)
	}
	for _, sig := range c.Signatures {
		if s.sigsVerified {
			break
		}
		// A provider's public key is its account key.
		if !sig.Provider.Verify(payload, sig.Signature) {
			return core.Errorf(op, core.Corrupt, "signature by %s does not verify over bucket %s root %s leaf_count %d",
				sig.Provider.Short(), c.Bucket, c.MMRRoot, c.LeafCount)
		}
	}
	return nil
}

// recordCheckpoint writes the checked checkpoint: appended to the bucket's
// history, made its latest, and announced.
func (s *state) recordCheckpoint(signer core.AccountID, b *wire.Bucket, c wire.SubmitCheckpoint, signers []core.AccountID) {
	cp := wire.Checkpoint{Bucket: c.Bucket, MMRRoot: c.MMRRoot, StartSeq: c.StartSeq, LeafCount: c.LeafCount,
		Height: s.height, Signers: signers, Submitter: signer}
	n := s.getU64(pCPCount + u64(uint64(c.Bucket)))
	s.o.set(pCheckpoint+u64(uint64(c.Bucket))+u64(n), encodeCheckpoint(&cp))
	s.putU64(pCPCount+u64(uint64(c.Bucket)), n+1)
	b.Latest = &cp
	s.putBucket(b)
	hex := make([]string, len(signers))
	for i, a := range signers {
		hex[i] = a.String()
	}
	s.emit(wire.EventCheckpointSubmitted, "bucket", c.Bucket.String(), "mmr_root", c.MMRRoot.String(),
		"leaf_count", itoa(c.LeafCount), "start_seq", itoa(c.StartSeq), "signers", strings.Join(hex, ","),
		"height", itoa64(s.height), "submitter", signer.String())
}

// updateDriveRoot checks and applies a drive root update carried by a
// checkpoint: the root blob is a leaf under the checkpointed root, and the
// CID names that blob.
func (s *state) updateDriveRoot(signer core.AccountID, b *wire.Bucket, c wire.SubmitCheckpoint) error {
	const op = "submit_checkpoint.drive_root"
	u := c.DriveRoot
	d, ok := s.drive(u.Drive)
	if !ok {
		return core.Errorf(op, core.NotFound, "no drive %s", u.Drive)
	}
	if d.Bucket != c.Bucket {
		return core.Errorf(op, core.Invalid, "drive %s is on bucket %s, not %s", u.Drive, d.Bucket, c.Bucket)
	}
	if signer != d.Owner && !b.Role(signer).CanWrite() {
		return core.Errorf(op, core.Unauthorized, "%s may not write drive %s", signer.Short(), u.Drive)
	}
	digest, err := cidDigest(u.RootCID)
	if err != nil {
		return core.E(op, core.Invalid, err)
	}
	if digest != u.Leaf.ContentHash {
		return core.Errorf(op, core.Corrupt, "root CID %s does not name the leaf's blob %s", u.RootCID, u.Leaf.ContentHash)
	}
	if u.LeafIndex >= c.LeafCount {
		return core.Errorf(op, core.Invalid, "leaf index %d is not below leaf_count %d", u.LeafIndex, c.LeafCount)
	}
	if u.Leaf.Seq != c.StartSeq+u.LeafIndex {
		return core.Errorf(op, core.Corrupt, "leaf seq %d is not start_seq %d + leaf index %d", u.Leaf.Seq, c.StartSeq, u.LeafIndex)
	}
	if err := mmr.VerifyInclusion(mmr.Hash(c.MMRRoot), c.LeafCount, u.LeafIndex, mmr.LeafHash(u.Leaf.Bytes()), &u.Proof); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	d.RootCID = u.RootCID
	d.LastCommittedHeight = s.height
	s.putDrive(d)
	s.emit(wire.EventDriveRootUpdated, "drive", d.ID.String(), "bucket", d.Bucket.String(), "root_cid", u.RootCID,
		"leaf_index", itoa(u.LeafIndex), "height", itoa64(s.height))
	return nil
}

// cidDigest returns the SHA-256 digest a CIDv1 with a sha2-256 multihash
// names.
func cidDigest(s string) (core.H256, error) {
	var h core.H256
	if s == "" || len(s) > maxCIDLen {
		return h, core.Errorf("cid", core.Invalid, "root CID must be 1..%d characters", maxCIDLen)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return h, core.Errorf("cid", core.Invalid, "root CID %q: %v", s, err)
	}
	if c.Version() != 1 {
		return h, core.Errorf("cid", core.Invalid, "root CID %q is not CIDv1", s)
	}
	dm, err := mh.Decode(c.Hash())
	if err != nil {
		return h, core.Errorf("cid", core.Invalid, "root CID %q: %v", s, err)
	}
	if dm.Code != mh.SHA2_256 || len(dm.Digest) != len(h) {
		return h, core.Errorf("cid", core.Invalid, "root CID %q is not a sha2-256 CID", s)
	}
	copy(h[:], dm.Digest)
	return h, nil
}
