package checkpoint

import (
	"context"
	"fmt"

	"github.com/cairn-storage/cairn/backoff"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// MarkDirty records that the bucket has changes a checkpoint should cover.
// It persists, so a restarted client still owes the checkpoint.
func (m *Manager) MarkDirty(bucket core.BucketID) error {
	return m.state.updateBucket(bucket, func(p *persisted) { p.Dirty[bucket]++ })
}

// IsDirty reports whether the bucket has changes not yet checkpointed.
func (m *Manager) IsDirty(bucket core.BucketID) bool {
	var ok bool
	m.state.read(func(p *persisted) { _, ok = p.Dirty[bucket] })
	return ok
}

// DirtyBuckets lists the buckets with pending changes, in order.
func (m *Manager) DirtyBuckets() []core.BucketID { return m.state.dirtyBuckets() }

// SetPendingRoot records the drive root that the next checkpoint of bucket
// covering leaf.Seq must carry on chain, and marks the bucket dirty.
func (m *Manager) SetPendingRoot(bucket core.BucketID, pr PendingRoot) error {
	return m.state.updateBucket(bucket, func(p *persisted) {
		p.PendingRoot[bucket] = pr
		p.Dirty[bucket]++
	})
}

// PendingRootOf returns the drive root waiting for a checkpoint, if any.
func (m *Manager) PendingRootOf(bucket core.BucketID) (PendingRoot, bool) {
	var pr PendingRoot
	var ok bool
	m.state.read(func(p *persisted) { pr, ok = p.PendingRoot[bucket] })
	return pr, ok
}

// LastResult returns the outcome of the bucket's last checkpoint attempt
// (persisted across restarts).
func (m *Manager) LastResult(bucket core.BucketID) (*Result, bool) {
	var r *Result
	m.state.read(func(p *persisted) { r = p.LastResult[bucket] })
	return r, r != nil
}

// SubmitCheckpoint runs one full checkpoint of the bucket: collect, check
// the threshold, classify conflicts (waiting out a sync delay up to
// SyncWaits times), and submit on chain with retries. The Result is never
// nil; Result.Err() turns a failure into a typed error.
func (m *Manager) SubmitCheckpoint(ctx context.Context, bucket core.BucketID) *Result {
	unlock := m.lockBucket(bucket)
	defer unlock()
	var gen uint64
	var pending *PendingRoot
	m.state.read(func(p *persisted) {
		gen = p.Dirty[bucket]
		if pr, ok := p.PendingRoot[bucket]; ok {
			pending = &pr
		}
	})
	start := m.clock.Now()
	res := m.submit(ctx, bucket, pending)
	res.Bucket = bucket
	if res.Kind != Submitted && res.Cause == nil {
		res.Cause = res.derivedErr() // so JSON and persisted results carry the kind
	}
	res.Attempt = start
	res.Duration = m.clock.Now().Sub(start)
	m.metrics.results.WithLabelValues(res.Kind.String()).Inc()
	m.metrics.latency.WithLabelValues(res.Kind.String()).Observe(res.Duration.Seconds())

	err := m.state.updateBucket(bucket, func(p *persisted) {
		p.LastResult[bucket] = res
		if res.Kind != Submitted {
			return
		}
		if pr, ok := p.PendingRoot[bucket]; ok && res.DriveRoot == pr.RootCID {
			delete(p.PendingRoot, bucket)
		}
		// Clean only if nothing changed while we worked and no drive root
		// is still owed (one that could not be proved stays, for the
		// loop to carry next time).
		if _, owed := p.PendingRoot[bucket]; p.Dirty[bucket] == gen && !owed {
			delete(p.Dirty, bucket)
		}
	})
	if err != nil {
		m.log.Error("persisting checkpoint state", "bucket", bucket, "err", err)
	}
	if res.Kind == Submitted {
		m.log.Info("checkpoint submitted", "bucket", bucket, "height", res.Height, "leaf_count", res.LeafCount, "signers", len(res.Signers), "already_on_chain", res.AlreadyOnChain)
		m.events.emit(Event{Kind: EventSubmitted, Bucket: bucket, Time: m.clock.Now(), Result: res})
	} else {
		m.InvalidateProviders(bucket) // refresh discovery after a failure
		m.log.Warn("checkpoint failed", "bucket", bucket, "result", res.Kind.String(), "err", res.Err())
	}
	if res.Conflict != nil {
		m.maybeChallenge(ctx, bucket, res)
	}
	return res
}

// submit is one checkpoint: a collection that reaches the threshold, a
// check against the chain's latest checkpoint, then the transaction.
func (m *Manager) submit(ctx context.Context, bucket core.BucketID, pending *PendingRoot) *Result {
	coll, conflict, failed := m.collectForSubmit(ctx, bucket)
	if failed != nil {
		return failed
	}
	res := &Result{Kind: TransactionFailed, MMRRoot: coll.MMRRoot, StartSeq: coll.StartSeq, LeafCount: coll.LeafCount,
		Signers: coll.Agreeing, Agreeing: len(coll.Agreeing), Required: coll.Required,
		Unreachable: coll.Unreachable, Disagreements: coll.Disagreeing, Conflict: conflict, commitments: coll.commitments}
	call := &wire.SubmitCheckpoint{Bucket: bucket, MMRRoot: coll.MMRRoot, StartSeq: coll.StartSeq, LeafCount: coll.LeafCount, Signatures: coll.Signatures}
	carryRoot := pending != nil && pending.Leaf.Seq >= coll.StartSeq && pending.Leaf.Seq < coll.StartSeq+coll.LeafCount
	if done := m.extendLatest(ctx, coll, call, res, carryRoot); done {
		return res
	}
	if carryRoot {
		upd, err := m.driveRootUpdate(ctx, coll, *pending)
		if err != nil {
			m.log.Warn("checkpoint goes without the drive root", "bucket", bucket, "err", err)
		} else {
			call.DriveRoot = upd
		}
	}
	m.sendCheckpoint(ctx, call, res)
	return res
}

// collectForSubmit collects until the threshold agrees, waiting out a sync
// delay up to SyncWaits times. It returns the collection, or the Result of
// a failure.
func (m *Manager) collectForSubmit(ctx context.Context, bucket core.BucketID) (*CommitmentCollection, *ProviderConflict, *Result) {
	const op = "checkpoint.Submit"
	for wait := 0; ; wait++ {
		coll, conflict, err := m.CollectCommitmentsWithConflicts(ctx, bucket)
		if err != nil {
			return nil, nil, &Result{Kind: TransactionFailed, Cause: core.E(op, core.KindOf(err), fmt.Errorf("reading chain state: %w", err))}
		}
		if conflict != nil && len(conflict.Conflicts) > 0 {
			m.events.emit(Event{Kind: EventConflict, Bucket: bucket, Time: m.clock.Now(), Conflict: conflict})
		}
		if coll.Total == 0 {
			return nil, nil, &Result{Kind: NoProviders}
		}
		if coll.Reached {
			return coll, conflict, nil
		}
		unreachable := append(append(append([]core.AccountID(nil), coll.Unreachable...), coll.Invalid...), coll.Cancelled...)
		if len(coll.commitments) == 0 {
			return nil, nil, &Result{Kind: ProvidersUnreachable, Unreachable: unreachable, Required: coll.Required}
		}
		if conflict != nil && conflict.Resolution.Kind == quorum.WaitForSync && wait < m.cfg.SyncWaits {
			blocks := min(conflict.Resolution.EstimatedBlocks, m.cfg.MaxSyncWaitBlocks)
			m.log.Info("waiting for providers to sync", "bucket", bucket, "blocks", blocks)
			if err := m.waitBlocks(ctx, blocks); err != nil {
				return nil, nil, &Result{Kind: TransactionFailed, Cause: core.E(op, kindOr(err, core.Unavailable), fmt.Errorf("waiting for providers to sync: %w", err))}
			}
			continue
		}
		return nil, nil, &Result{Kind: InsufficientConsensus, Agreeing: len(coll.Agreeing), Required: coll.Required,
			Disagreements: coll.Disagreeing, Unreachable: unreachable, Conflict: conflict,
			MMRRoot: coll.MMRRoot, LeafCount: coll.LeafCount, StartSeq: coll.StartSeq, commitments: coll.commitments}
	}
}

// extendLatest checks the collection against the chain's latest
// checkpoint and adds the consistency proof the chain needs to extend it.
// It reports done when res is final: a refusal, or the same checkpoint
// already on chain (and no drive root to carry).
func (m *Manager) extendLatest(ctx context.Context, coll *CommitmentCollection, call *wire.SubmitCheckpoint, res *Result, carryRoot bool) (done bool) {
	const op = "checkpoint.Submit"
	latest, err := m.chain.LatestCheckpoint(ctx, coll.Bucket)
	switch {
	case core.KindOf(err) == core.NotFound:
		return false // the bucket's first checkpoint
	case err != nil:
		res.Cause = core.E(op, core.KindOf(err), fmt.Errorf("reading the latest checkpoint: %w", err))
		return true
	case latest.StartSeq > coll.StartSeq:
		res.Cause = core.Errorf(op, core.Conflict, "the providers' start_seq %d is below the on-chain %d", coll.StartSeq, latest.StartSeq)
		return true
	case latest.StartSeq == coll.StartSeq && latest.LeafCount > coll.LeafCount:
		res.Cause = core.Errorf(op, core.Conflict, "the agreeing providers hold %d leaves, fewer than the %d already checkpointed", coll.LeafCount, latest.LeafCount)
		return true
	case latest.StartSeq == coll.StartSeq && latest.LeafCount == coll.LeafCount && latest.MMRRoot == coll.MMRRoot && !carryRoot:
		res.Kind, res.AlreadyOnChain, res.Height, res.Signers = Submitted, true, latest.Height, latest.Signers
		return true
	case latest.StartSeq != coll.StartSeq:
		return false // a truncation moved start_seq: nothing to extend
	}
	proof, err := m.consistencyFromMajority(ctx, coll, latest.MMRRoot, latest.LeafCount)
	if err != nil {
		res.Cause = err
		return true
	}
	call.Consistency = proof
	return false
}

// sendCheckpoint submits the transaction and records its outcome in res.
func (m *Manager) sendCheckpoint(ctx context.Context, call *wire.SubmitCheckpoint, res *Result) {
	tx, err := m.submitTx(ctx, call)
	if err != nil {
		// The chain's refusal keeps its kind (a conflict, a bad proof, too
		// few signers); only an unclassified failure counts as unavailable.
		res.Cause = core.E("checkpoint.Submit", kindOr(err, core.Unavailable), fmt.Errorf("checkpoint transaction: %w", err))
		return
	}
	res.Kind = Submitted
	res.Height = tx.Height
	res.TxHash = tx.Hash.String()
	if bh, ok := m.chain.(blockHasher); ok {
		if h, err := bh.BlockHash(ctx, tx.Height); err == nil {
			res.BlockHash = h.String()
		}
	}
	if call.DriveRoot != nil {
		res.DriveRoot = call.DriveRoot.RootCID
	}
}

// blockHasher is the optional capability of a Chain to name the hash of
// the block at a height (*chainclient.Client has it).
type blockHasher interface {
	BlockHash(ctx context.Context, h int64) (core.H256, error)
}

// submitTx sends the call, retrying while the chain is unavailable.
func (m *Manager) submitTx(ctx context.Context, call wire.Call) (*wire.TxResult, error) {
	var tx *wire.TxResult
	err := backoff.Retry(ctx, m.cfg.retryPolicy(), m.clock.After, func(int) error {
		var err error
		tx, err = m.chain.Submit(ctx, m.signer, call)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// consistencyFromMajority gets, from an agreeing provider, the proof that
// the majority's root extends the on-chain checkpoint, verified here first.
func (m *Manager) consistencyFromMajority(ctx context.Context, coll *CommitmentCollection, oldRoot core.H256, oldCount uint64) (*mmr.ConsistencyProof, error) {
	var proof *mmr.ConsistencyProof
	err := m.askMajority(ctx, coll, func(ctx context.Context, c Provider) error {
		p, err := c.ConsistencyProof(ctx, coll.Bucket, oldCount, coll.LeafCount)
		if err != nil {
			return err
		}
		if err := mmr.VerifyConsistency(mmr.Hash(oldRoot), oldCount, mmr.Hash(coll.MMRRoot), coll.LeafCount, p); err != nil {
			return core.E("checkpoint.consistency", core.Corrupt, err)
		}
		proof = p
		return nil
	})
	if err != nil {
		return nil, core.Errorf("checkpoint.consistency", core.KindOf(err), "no agreeing provider proved that root %s (%d leaves) extends the on-chain checkpoint (%d leaves): %v", coll.MMRRoot, coll.LeafCount, oldCount, err)
	}
	return proof, nil
}

// driveRootUpdate proves the pending root's blob is a leaf under the
// majority root.
func (m *Manager) driveRootUpdate(ctx context.Context, coll *CommitmentCollection, pr PendingRoot) (*wire.DriveRootUpdate, error) {
	idx := pr.Leaf.Seq - coll.StartSeq
	var upd *wire.DriveRootUpdate
	err := m.askMajority(ctx, coll, func(ctx context.Context, c Provider) error {
		leaf, proof, err := c.Proof(ctx, coll.Bucket, idx, coll.LeafCount)
		if err != nil {
			return err
		}
		if leaf.Leaf != pr.Leaf {
			return core.Errorf("checkpoint.driveRoot", core.Corrupt, "leaf %d is %+v, want %+v", idx, leaf, pr.Leaf)
		}
		if err := mmr.VerifyInclusion(mmr.Hash(coll.MMRRoot), coll.LeafCount, idx, mmr.LeafHash(leaf.Bytes()), proof); err != nil {
			return core.E("checkpoint.driveRoot", core.Corrupt, err)
		}
		upd = &wire.DriveRootUpdate{Drive: pr.Drive, RootCID: pr.RootCID, Leaf: leaf.Leaf, LeafIndex: idx, Proof: *proof}
		return nil
	})
	return upd, err
}

// askMajority runs f against agreeing providers in order until one
// succeeds.
func (m *Manager) askMajority(ctx context.Context, coll *CommitmentCollection, f func(context.Context, Provider) error) error {
	ps, err := m.Providers(ctx, coll.Bucket)
	if err != nil {
		return err
	}
	agree := map[core.AccountID]bool{}
	for _, a := range coll.Agreeing {
		agree[a] = true
	}
	var last error = core.Errorf("checkpoint.askMajority", core.Unavailable, "no agreeing provider")
	for _, p := range ps {
		if !agree[p.Account] {
			continue
		}
		err := m.withProvider(p, func(c Provider) error {
			cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
			defer cancel()
			return f(cctx, c)
		})
		if err == nil {
			return nil
		}
		last = err
	}
	return last
}

// waitBlocks waits until the chain is n blocks higher.
func (m *Manager) waitBlocks(ctx context.Context, n uint64) error {
	h0, err := m.chain.Height(ctx)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.clock.After(m.cfg.BlockPoll):
		}
		h, err := m.chain.Height(ctx)
		if err == nil && h >= h0+int64(n) {
			return nil
		}
	}
}
