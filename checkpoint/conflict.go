package checkpoint

import (
	"context"

	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// CollectCommitmentsWithConflicts collects and, when any valid answer
// disagrees with the majority, classifies each disagreement with an MMR
// consistency proof and resolves the conflict.
func (m *Manager) CollectCommitmentsWithConflicts(ctx context.Context, bucket core.BucketID) (*CommitmentCollection, *ProviderConflict, error) {
	coll, err := m.CollectCommitments(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	return coll, m.analyze(ctx, coll), nil
}

// ObserveConflicts is CollectCommitmentsWithConflicts for an observer (the
// dashboard): the same collection (health is recorded) and the same
// classification, but the conflicts are not recorded, neither towards
// auto-challenge's MinConflicts nor in the conflict metrics, so watching a
// bucket never changes what the manager does about it.
func (m *Manager) ObserveConflicts(ctx context.Context, bucket core.BucketID) (*CommitmentCollection, *ProviderConflict, error) {
	coll, err := m.CollectCommitments(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	return coll, m.classify(ctx, coll), nil
}

// analyze classifies each disagreeing provider (classify) and records the
// conflicts: metrics, and each proven divergence towards MinConflicts.
func (m *Manager) analyze(ctx context.Context, coll *CommitmentCollection) *ProviderConflict {
	pc := m.classify(ctx, coll)
	if pc == nil {
		return nil
	}
	for _, c := range pc.Conflicts {
		m.metrics.conflicts.WithLabelValues(c.Kind.String()).Inc()
		if c.Proven {
			if err := m.state.updateGlobal(func(p *persisted) { p.Conflicts[c.Provider]++ }); err != nil {
				// The divergence still shows in the result; only its count
				// towards MinConflicts is lost.
				m.log.Error("recording a divergence in the state file", "bucket", coll.Bucket, "provider", c.Provider.Short(), "err", err)
			}
		}
	}
	return pc
}

// classify classifies each disagreeing provider. For a provider behind the
// majority it asks a majority signer for the proof that the majority's log
// extends the provider's root; for one ahead, it asks that provider for the
// proof that its log extends the majority's root. Either proof is verified
// here; leaf counts alone never decide.
func (m *Manager) classify(ctx context.Context, coll *CommitmentCollection) *ProviderConflict {
	d := coll.decision
	if d.Majority == nil || len(d.Others) == 0 {
		if d.Majority == nil || d.Reached {
			return nil
		}
		// Below threshold with no disagreement: still report how to resolve.
		return &ProviderConflict{MajorityRoot: coll.MMRRoot, MajorityCount: d.Agreeing(), LeafCount: coll.LeafCount,
			Resolution: quorum.Resolve(d, nil, m.cfg.SyncLeavesPerBlock)}
	}
	maj := d.Majority.State
	var conflicts []quorum.Conflict
	for _, g := range d.Others {
		for _, c := range g.Commitments {
			res := quorum.NoProof
			switch {
			case c.StartSeq != maj.StartSeq || c.LeafCount == maj.LeafCount:
				// no proof needed: the classification is immediate
			case c.LeafCount < maj.LeafCount:
				res = m.checkConsistency(ctx, coll, coll.Agreeing, c.MMRRoot, c.LeafCount, maj.MMRRoot, maj.LeafCount)
			default:
				res = m.checkConsistency(ctx, coll, []core.AccountID{c.Provider}, maj.MMRRoot, maj.LeafCount, c.MMRRoot, c.LeafCount)
			}
			conflicts = append(conflicts, quorum.Classify(maj, c, res))
		}
	}
	return &ProviderConflict{
		MajorityRoot:  maj.MMRRoot,
		MajorityCount: d.Agreeing(),
		LeafCount:     maj.LeafCount,
		Conflicts:     conflicts,
		Resolution:    quorum.Resolve(d, conflicts, m.cfg.SyncLeavesPerBlock),
	}
}

// checkConsistency asks the given providers, in turn, for a consistency
// proof from (oldRoot, oldCount) to (newRoot, newCount), where the askers
// signed newRoot, and judges it (see judgeConsistency). A proof that
// verifies settles it (ProofValid). A proof that is sound for newRoot but
// starts from another root than oldRoot shows the two logs differ
// (ProofInvalid). A proof that does not even verify against newRoot shows
// only that its sender answered badly: that sender is at fault, not the
// provider under examination, so the next one is asked; with no usable
// proof at all the result is NoProof, which never counts as divergence.
func (m *Manager) checkConsistency(ctx context.Context, coll *CommitmentCollection, from []core.AccountID, oldRoot core.H256, oldCount uint64, newRoot core.H256, newCount uint64) quorum.ProofResult {
	ps, err := m.Providers(ctx, coll.Bucket)
	if err != nil {
		return quorum.NoProof
	}
	byAccount := map[core.AccountID]ProviderInfo{}
	for _, p := range ps {
		byAccount[p.Account] = p
	}
	for _, a := range from {
		p, ok := byAccount[a]
		if !ok {
			continue
		}
		var proof *mmr.ConsistencyProof
		err := m.withProvider(p, func(c Provider) error {
			cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
			defer cancel()
			var err error
			proof, err = c.ConsistencyProof(cctx, coll.Bucket, oldCount, newCount)
			return err
		})
		if err != nil {
			m.log.Debug("consistency proof unavailable", "bucket", coll.Bucket, "provider", a.Short(), "err", err)
			continue
		}
		res, err := judgeConsistency(oldRoot, oldCount, newRoot, newCount, proof)
		if err != nil {
			m.log.Warn("provider sent a consistency proof that does not verify against the root it signed",
				"bucket", coll.Bucket, "provider", a.Short(), "err", err)
			continue
		}
		return res
	}
	return quorum.NoProof
}

// judgeConsistency says what a consistency proof, sent by a provider that
// signed (newRoot, newCount), shows about (oldRoot, oldCount):
//   - ProofValid: the log of newRoot extends oldRoot;
//   - ProofInvalid: the proof is sound for newRoot, and the log of newRoot
//     had another root than oldRoot at oldCount leaves: the logs differ,
//     and the proof itself is the evidence;
//   - an error (kind Corrupt): the proof does not verify against newRoot
//     from any old root, so it shows nothing but its sender's fault.
func judgeConsistency(oldRoot core.H256, oldCount uint64, newRoot core.H256, newCount uint64, proof *mmr.ConsistencyProof) (quorum.ProofResult, error) {
	const op = "checkpoint.consistency"
	if mmr.VerifyConsistency(mmr.Hash(oldRoot), oldCount, mmr.Hash(newRoot), newCount, proof) == nil {
		return quorum.ProofValid, nil
	}
	if proof == nil {
		return quorum.NoProof, core.Errorf(op, core.Corrupt, "no proof")
	}
	// The root the proof itself starts from: if the proof is sound from
	// there to newRoot, newRoot's log had that root at oldCount leaves.
	implied := mmr.BagPeaks(oldCount, proof.OldPeaks)
	if err := mmr.VerifyConsistency(implied, oldCount, mmr.Hash(newRoot), newCount, proof); err != nil {
		return quorum.NoProof, core.E(op, core.Corrupt, err)
	}
	return quorum.ProofInvalid, nil
}
