package checkpoint

import (
	"context"
	"fmt"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// difference is where a divergent provider's log first differs from the
// majority's, and the two leaves found there.
type difference struct {
	seq    uint64
	ours   *core.SignedLeaf // the majority's leaf at seq; nil when the majority has none there
	theirs *core.SignedLeaf // the provider's; nil when it gave none (or none its root proves)
}

// verdictKind is what a difference calls for.
type verdictKind int

const (
	verdictNone         verdictKind = iota // nothing the provider can be held to
	verdictChallenge                       // hold the provider to its own commitment at seq
	verdictEquivocation                    // the writer signed both leaves: report it, blame no provider
)

type verdict struct {
	kind   verdictKind
	reason string
}

// judgeDifference decides what the two leaves at one seq show. A leaf
// stands when it carries a valid signature (core.SignedLeaf.Verify) by an
// account that is or was a writer of the bucket (wire.Bucket.LeafSigner).
//   - theirs missing, or not standing: the provider holds data no writer
//     authorised (or will not show it): challenge;
//   - both standing and different: the writer equivocated; the provider
//     holds what a writer signed and is not at fault: report it;
//   - theirs standing and ours not: the majority's leaf is the one no
//     writer signed, which is no case against this provider: nothing.
func judgeDifference(chainID string, b wire.Bucket, bucket core.BucketID, ours, theirs *core.SignedLeaf) verdict {
	stands := func(l *core.SignedLeaf) bool {
		return l != nil && !l.Writer.IsZero() && b.LeafSigner(l.Writer) && l.Verify(chainID, bucket) == nil
	}
	switch {
	case theirs == nil:
		return verdict{verdictChallenge, "the provider showed no leaf there"}
	case !stands(theirs):
		return verdict{verdictChallenge, fmt.Sprintf("its leaf at seq %d carries no valid writer signature", theirs.Seq)}
	case ours != nil && ours.Seq == theirs.Seq && ours.Leaf != theirs.Leaf && stands(ours):
		return verdict{verdictEquivocation, fmt.Sprintf("a writer signed two leaves at seq %d", theirs.Seq)}
	default:
		return verdict{verdictNone, fmt.Sprintf("its leaf at seq %d is writer-signed and the majority's is not", theirs.Seq)}
	}
}

// firstDifference finds the first seq, within both the provider's signed
// commitment theirs and the majority's state in res, at which the two
// logs list different leaves: the majority's from a signer of res, theirs
// from the provider. A provider that lists nothing there, or does not
// answer, has given no leaf (a challenge is how the chain then asks).
// When the listings agree everywhere they overlap (the provider signed a
// root its own listing does not give, or the logs do not overlap), the
// provider's last committed leaf is taken with its proof against its own
// root; a leaf that proof does not hold counts as none.
func (m *Manager) firstDifference(ctx context.Context, bucket core.BucketID, res *Result, theirs core.SignedCommitment) (difference, error) {
	const op = "checkpoint.firstDifference"
	if theirs.LeafCount == 0 {
		return difference{}, core.Errorf(op, core.Invalid, "provider %s committed to no leaf", theirs.Provider.Short())
	}
	suspect, signers, err := m.divergenceParties(ctx, bucket, res, theirs.Provider)
	if err != nil {
		return difference{}, err
	}
	l := &leafLister{m: m, bucket: bucket, signers: signers}
	lo := max(theirs.StartSeq, res.StartSeq)
	hi := min(theirs.StartSeq+theirs.LeafCount, res.StartSeq+res.LeafCount)
	if d, found, err := l.compare(ctx, suspect, lo, hi); err != nil || found {
		return d, err
	}
	// No listed difference: hold them to their last leaf, as their own
	// root proves it.
	return m.lastLeafDifference(ctx, bucket, suspect, theirs)
}

// divergenceParties finds, among the bucket's primaries, the suspect and
// the signers of the majority's checkpoint res.
func (m *Manager) divergenceParties(ctx context.Context, bucket core.BucketID, res *Result, suspectID core.AccountID) (suspect ProviderInfo, signers []ProviderInfo, err error) {
	ps, err := m.Providers(ctx, bucket)
	if err != nil {
		return suspect, nil, err
	}
	isSigner := map[core.AccountID]bool{}
	for _, s := range res.Signers {
		isSigner[s] = true
	}
	for _, p := range ps {
		switch {
		case p.Account == suspectID:
			suspect = p
		case isSigner[p.Account]:
			signers = append(signers, p)
		}
	}
	if suspect.Account.IsZero() {
		return suspect, nil, core.Errorf("checkpoint.firstDifference", core.NotFound, "provider %s is no longer a primary of bucket %s", suspectID.Short(), bucket)
	}
	return suspect, signers, nil
}

// leafLister pages through leaves: the majority's from its signers (moving
// on from one that fails or lists out of order), the suspect's from it.
type leafLister struct {
	m       *Manager
	bucket  core.BucketID
	signers []ProviderInfo
}

func (l *leafLister) list(ctx context.Context, p ProviderInfo, from uint64, limit int) ([]core.SignedLeaf, error) {
	var out []core.SignedLeaf
	err := l.m.withProvider(p, func(c Provider) error {
		cctx, cancel := context.WithTimeout(ctx, l.m.cfg.ProviderTimeout)
		defer cancel()
		var err error
		out, err = c.Leaves(cctx, l.bucket, from, limit)
		return err
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

func (l *leafLister) ourPage(ctx context.Context, from uint64, limit int) ([]core.SignedLeaf, error) {
	var last error = core.Errorf("checkpoint.firstDifference", core.Unavailable, "no signer of the checkpoint to list leaves from")
	for len(l.signers) > 0 {
		a, err := l.list(ctx, l.signers[0], from, limit)
		if err == nil && len(a) > 0 && inOrder(a, from) {
			return a, nil // a short page is fine: the next one goes on from its end
		}
		if err == nil {
			err = core.Errorf("checkpoint.firstDifference", core.Corrupt, "signer %s listed %d leaves from seq %d, want up to %d in order", l.signers[0].Account.Short(), len(a), from, limit)
		}
		last = err
		l.signers = l.signers[1:]
	}
	return nil, last
}

// compare lists both logs over [lo, hi) page by page and reports the first
// seq where they differ.
func (l *leafLister) compare(ctx context.Context, suspect ProviderInfo, lo, hi uint64) (difference, bool, error) {
	const page = 1000
	for from := lo; from < hi; {
		a, err := l.ourPage(ctx, from, int(min(uint64(page), hi-from)))
		if err != nil {
			return difference{}, false, err
		}
		b, err := l.list(ctx, suspect, from, len(a))
		if err != nil {
			if ctx.Err() != nil {
				return difference{}, false, core.E("checkpoint.firstDifference", core.Unavailable, ctx.Err())
			}
			// No answer: a challenge is how the chain asks for one.
			l.m.log.Debug("divergent provider did not list its leaves", "bucket", l.bucket, "provider", suspect.Account.Short(), "err", err)
			b = nil
		}
		for i := range a {
			if i >= len(b) || b[i].Seq != a[i].Seq {
				return difference{seq: a[i].Seq, ours: &a[i]}, true, nil
			}
			if b[i].Leaf != a[i].Leaf {
				return difference{seq: a[i].Seq, ours: &a[i], theirs: &b[i]}, true, nil
			}
		}
		from += uint64(len(a))
	}
	return difference{}, false, nil
}

// lastLeafDifference asks the suspect for its last committed leaf with its
// proof against its own root; a leaf that proof does not hold counts as
// none.
func (m *Manager) lastLeafDifference(ctx context.Context, bucket core.BucketID, suspect ProviderInfo, theirs core.SignedCommitment) (difference, error) {
	idx := theirs.LeafCount - 1
	d := difference{seq: theirs.StartSeq + idx}
	var leaf core.SignedLeaf
	var proof *mmr.InclusionProof
	err := m.withProvider(suspect, func(c Provider) error {
		cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
		defer cancel()
		var err error
		leaf, proof, err = c.Proof(cctx, bucket, idx, theirs.LeafCount)
		return err
	})
	switch {
	case ctx.Err() != nil:
		return difference{}, core.E("checkpoint.firstDifference", core.Unavailable, ctx.Err())
	case err != nil:
		// No proof of a leaf of its own commitment: no answer.
	case leaf.Seq == d.seq && mmr.VerifyInclusion(mmr.Hash(theirs.MMRRoot), theirs.LeafCount, idx, mmr.LeafHash(leaf.Bytes()), proof) == nil:
		d.theirs = &leaf
	}
	return d, nil
}

// inOrder reports whether leaves are seqs from, from+1, ...
func inOrder(leaves []core.SignedLeaf, from uint64) bool {
	for i, l := range leaves {
		if l.Seq != from+uint64(i) {
			return false
		}
	}
	return true
}
