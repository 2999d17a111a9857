package checkpoint

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// maybeChallenge acts on providers whose divergence is proven and recorded
// often enough, within the rate limits. It runs after a checkpoint attempt
// that collected their signed commitments. At the first leaf where a
// provider's log differs from the majority's it compares the two leaves
// (see judgeDifference): two leaves a writer signed are the writer's
// equivocation, reported on chain instead of blaming the provider; a leaf
// of theirs that no writer signed, or no answer, is challenged, holding
// the provider to its own signed commitment (never to a root only others
// signed).
func (m *Manager) maybeChallenge(ctx context.Context, bucket core.BucketID, res *Result) {
	ac := m.cfg.AutoChallenge
	if !ac.Enabled || res.Kind != Submitted {
		return
	}
	for _, c := range res.Conflict.Conflicts {
		if !c.Proven {
			continue
		}
		var n int
		m.state.read(func(p *persisted) { n = p.Conflicts[c.Provider] })
		if n < ac.MinConflicts {
			continue
		}
		theirs, ok := res.commitments[c.Provider]
		if !ok {
			continue // not collected this time: its own commitment is what a challenge needs
		}
		if err := m.actOnDivergence(ctx, bucket, res, theirs, fmt.Sprintf("data divergence recorded %d times", n)); err != nil {
			m.log.Warn("divergence not acted on", "bucket", bucket, "provider", c.Provider.Short(), "err", err)
		}
	}
}

// actOnDivergence finds where theirs (a divergent provider's verified
// signed commitment) differs from the majority of res, judges the two
// leaves there, and reports an equivocation or opens a challenge.
func (m *Manager) actOnDivergence(ctx context.Context, bucket core.BucketID, res *Result, theirs core.SignedCommitment, reason string) error {
	const op = "checkpoint.divergence"
	d, err := m.firstDifference(ctx, bucket, res, theirs)
	if err != nil {
		return err
	}
	b, err := m.chain.Bucket(ctx, bucket)
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	chainID, err := m.chainIDOf(ctx)
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	v := judgeDifference(chainID, b, bucket, d.ours, d.theirs)
	provider := theirs.Provider
	switch v.kind {
	case verdictEquivocation:
		return m.reportEquivocation(ctx, bucket, provider, *d.ours, *d.theirs)
	case verdictChallenge:
		ev := wire.ChallengeEvidence{Commitment: &theirs}
		_, err := m.ChallengeProvider(ctx, bucket, provider, ev, d.seq-theirs.StartSeq, reason+": "+v.reason)
		return err
	default:
		m.log.Info("divergent provider not challenged", "bucket", bucket, "provider", provider.Short(), "seq", d.seq, "reason", v.reason)
		return nil
	}
}

// ChallengeProvider opens an on-chain challenge holding the provider to
// leaf leafIndex of the commitment in ev: a commitment the provider signed
// itself, or the bucket's latest checkpoint when the provider is one of
// its signers (the chain refuses from_checkpoint against anyone else).
// Cooldown and rate limit apply. The challenge is tracked and resolved
// (slashing the provider) by ResolveExpiredChallenges once its deadline
// has passed unanswered.
func (m *Manager) ChallengeProvider(ctx context.Context, bucket core.BucketID, provider core.AccountID, ev wire.ChallengeEvidence, leafIndex uint64, reason string) (core.ChallengeID, error) {
	const op = "checkpoint.ChallengeProvider"
	switch {
	case ev.FromCheckpoint == (ev.Commitment != nil):
		return 0, core.Errorf(op, core.Invalid, "evidence must be either the latest checkpoint or a signed commitment")
	case ev.Commitment != nil && (ev.Commitment.Provider != provider || ev.Commitment.Bucket != bucket):
		return 0, core.Errorf(op, core.Invalid, "the commitment is %s's for bucket %s, not %s's for bucket %s",
			ev.Commitment.Provider.Short(), ev.Commitment.Bucket, provider.Short(), bucket)
	case ev.Commitment != nil && leafIndex >= ev.Commitment.LeafCount:
		return 0, core.Errorf(op, core.Invalid, "leaf %d is outside the provider's commitment of %d leaves", leafIndex, ev.Commitment.LeafCount)
	}
	ac := m.cfg.AutoChallenge
	now := m.clock.Now()
	m.mu.Lock()
	if last, ok := m.lastChallenge[provider]; ok && now.Sub(last) < ac.Cooldown {
		m.mu.Unlock()
		return 0, core.Errorf(op, core.Conflict, "provider %s was challenged %s ago (cooldown %s)", provider.Short(), now.Sub(last).Round(time.Second), ac.Cooldown)
	}
	recent := m.challengeLog[:0]
	for _, t := range m.challengeLog {
		if now.Sub(t) < ac.Period {
			recent = append(recent, t)
		}
	}
	m.challengeLog = recent
	if ac.MaxPerPeriod > 0 && len(recent) >= ac.MaxPerPeriod {
		m.mu.Unlock()
		return 0, core.Errorf(op, core.Conflict, "challenge rate limit reached (%d per %s)", ac.MaxPerPeriod, ac.Period)
	}
	m.lastChallenge[provider] = now
	m.challengeLog = append(m.challengeLog, now)
	m.mu.Unlock()

	call := &wire.OpenChallenge{Provider: provider, Bucket: bucket, LeafIndex: leafIndex, Evidence: ev, Deposit: ac.Deposit}
	tx, err := m.submitTx(ctx, call)
	if err != nil {
		if k := core.KindOf(err); k != core.Unavailable && k != core.Other {
			// The chain refused it outright: no challenge exists, so the
			// cooldown and rate slot are released. (When the chain could
			// not be reached the transaction may still land; keeping the
			// reservation then avoids challenging the provider twice.)
			m.mu.Lock()
			if m.lastChallenge[provider].Equal(now) {
				delete(m.lastChallenge, provider)
			}
			for i := len(m.challengeLog) - 1; i >= 0; i-- {
				if m.challengeLog[i].Equal(now) {
					m.challengeLog = append(m.challengeLog[:i], m.challengeLog[i+1:]...)
					break
				}
			}
			m.mu.Unlock()
		}
		return 0, core.E(op, core.KindOf(err), err)
	}
	id := challengeIDFrom(tx)
	var deadline int64
	if id != 0 {
		if ch, err := m.chain.Challenge(ctx, id); err == nil {
			deadline = ch.Deadline
		}
	}
	serr := m.state.updateGlobal(func(p *persisted) {
		delete(p.Conflicts, provider)
		if id != 0 {
			p.Challenges[id] = openChallenge{Bucket: bucket, Provider: provider, Deadline: deadline}
		}
	})
	m.metrics.challenges.Inc()
	m.log.Warn("challenge opened", "bucket", bucket, "provider", provider.Short(), "leaf", leafIndex, "challenge", id, "reason", reason)
	m.events.emit(Event{Kind: EventChallengeOpened, Bucket: bucket, Time: m.clock.Now(), Provider: provider, Challenge: id, Leaf: leafIndex, Reason: reason})
	if serr != nil {
		// The challenge exists on chain; only our record of it is missing,
		// so this client will not resolve it when it expires.
		m.log.Error("challenge opened but not recorded in the state file", "bucket", bucket, "provider", provider.Short(), "challenge", id, "err", serr)
		return id, core.E(op, core.KindOf(serr), fmt.Errorf("challenge %s opened on chain but not recorded, so it will not be resolved by this client: %w", id, serr))
	}
	return id, nil
}

func challengeIDFrom(tx *wire.TxResult) core.ChallengeID {
	for _, e := range tx.Events {
		if e.Type != "challenge.opened" {
			continue
		}
		for _, k := range []string{"id", "challenge"} {
			if v, ok := e.Attributes[k]; ok {
				if n, err := strconv.ParseUint(v, 10, 64); err == nil {
					return core.ChallengeID(n)
				}
			}
		}
	}
	return 0
}

// OpenChallenges lists the challenges this manager opened and still tracks.
func (m *Manager) OpenChallenges() map[core.ChallengeID]core.AccountID {
	out := map[core.ChallengeID]core.AccountID{}
	m.state.read(func(p *persisted) {
		for id, c := range p.Challenges {
			out[id] = c.Provider
		}
	})
	return out
}

// ResolveExpiredChallenges resolves, on chain, every tracked challenge
// whose deadline has passed without an answer (the chain slashes the
// provider), and forgets challenges that were answered. A failure to
// update the state file is returned (joined, one per challenge), so a
// caller learns that a closed challenge is still listed.
func (m *Manager) ResolveExpiredChallenges(ctx context.Context) error {
	const op = "checkpoint.ResolveExpiredChallenges"
	var ids []core.ChallengeID
	m.state.read(func(p *persisted) {
		for id := range p.Challenges {
			ids = append(ids, id)
		}
	})
	if len(ids) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	h, err := m.chain.Height(ctx)
	if err != nil {
		return err
	}
	var errs []error
	forget := func(id core.ChallengeID) {
		if err := m.state.updateGlobal(func(p *persisted) { delete(p.Challenges, id) }); err != nil {
			m.log.Error("closed challenge not removed from the state file", "challenge", id, "err", err)
			errs = append(errs, core.E(op, core.KindOf(err), fmt.Errorf("challenge %s is closed but still recorded: %w", id, err)))
		}
	}
	for _, id := range ids {
		ch, err := m.chain.Challenge(ctx, id)
		if err != nil {
			m.log.Debug("reading challenge", "challenge", id, "err", err)
			continue
		}
		if ch.State != wire.ChallengeOpen {
			forget(id)
			continue
		}
		if h <= ch.Deadline {
			continue
		}
		if _, err := m.submitTx(ctx, &wire.ResolveChallenge{Challenge: id}); err != nil {
			m.log.Warn("resolving challenge", "challenge", id, "err", err)
			continue
		}
		forget(id)
		m.events.emit(Event{Kind: EventChallengeResolved, Bucket: ch.Bucket, Time: m.clock.Now(), Provider: ch.Provider, Challenge: id, Reason: "deadline passed unanswered"})
	}
	return errors.Join(errs...)
}

// AuditResult is one sampled (provider, leaf) check.
type AuditResult struct {
	Provider core.AccountID `json:"provider"`
	Leaf     uint64         `json:"leaf"`
	OK       bool           `json:"ok"`
	Error    string         `json:"error,omitempty"`
	// Challenge is set when the failure was escalated on chain.
	Challenge core.ChallengeID `json:"challenge,omitempty"`
}

// Audit samples Config.Audit.Samples random (provider, leaf) pairs of the
// bucket's latest on-chain checkpoint: the provider must prove the leaf is
// under the checkpointed root and serve the blob it names, whose hash must
// match. A wrong or missing proof or blob escalates to a challenge when
// auto-challenge is enabled; an unreachable provider only counts against
// its health.
func (m *Manager) Audit(ctx context.Context, bucket core.BucketID) ([]AuditResult, error) {
	cp, err := m.chain.LatestCheckpoint(ctx, bucket)
	if core.KindOf(err) == core.NotFound || (err == nil && cp.LeafCount == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ps, err := m.Providers(ctx, bucket)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	samples := max(m.cfg.Audit.Samples, 1)
	var out []AuditResult
	for i := 0; i < samples; i++ {
		p := ps[m.intn(len(ps))]
		idx := uint64(m.intn(int(min(cp.LeafCount, 1<<31))))
		start := m.clock.Now()
		err := m.withProvider(p, func(c Provider) error {
			cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
			defer cancel()
			return auditLeaf(cctx, c, cp, idx)
		})
		m.record(p.Account, m.clock.Now().Sub(start), errIfUnavailable(err))
		r := AuditResult{Provider: p.Account, Leaf: idx, OK: err == nil}
		if err != nil {
			r.Error = err.Error()
		}
		switch {
		case err == nil:
			m.metrics.audits.WithLabelValues("passed").Inc()
			m.events.emit(Event{Kind: EventAuditPassed, Bucket: bucket, Time: m.clock.Now(), Provider: p.Account, Leaf: idx})
		case core.KindOf(err) == core.Unavailable:
			m.metrics.audits.WithLabelValues("unreachable").Inc()
		default:
			m.metrics.audits.WithLabelValues("failed").Inc()
			m.events.emit(Event{Kind: EventAuditFailed, Bucket: bucket, Time: m.clock.Now(), Provider: p.Account, Leaf: idx, Reason: err.Error()})
			if m.cfg.AutoChallenge.Enabled {
				id, cerr := m.escalateAudit(ctx, cp, p, idx, err)
				if cerr != nil {
					m.log.Warn("failed audit not escalated", "bucket", bucket, "provider", p.Account.Short(), "leaf", idx, "err", cerr)
				}
				r.Challenge = id
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// escalateAudit challenges a provider that failed the audit of leaf idx of
// checkpoint cp, on a commitment it signed itself: cp when it is one of
// cp's signers; otherwise its own current signed commitment, and only if
// that covers the leaf's seq and it fails the same audit against its own
// root too (a primary that did not sign cp is not bound by cp's root).
// It returns 0 and no error when there is nothing to hold the provider to.
func (m *Manager) escalateAudit(ctx context.Context, cp wire.Checkpoint, p ProviderInfo, idx uint64, failure error) (core.ChallengeID, error) {
	reason := "failed audit: " + failure.Error()
	for _, s := range cp.Signers {
		if s == p.Account {
			return m.ChallengeProvider(ctx, cp.Bucket, p.Account, wire.ChallengeEvidence{FromCheckpoint: true}, idx, reason)
		}
	}
	chainID, err := m.chainIDOf(ctx)
	if err != nil {
		return 0, err
	}
	theirs, err := m.fetchCommitment(ctx, p, cp.Bucket, chainID, m.cfg.ProviderTimeout)
	if err != nil {
		return 0, err
	}
	seq := cp.StartSeq + idx
	if seq < theirs.StartSeq || seq-theirs.StartSeq >= theirs.LeafCount {
		return 0, nil // its own commitment does not reach the leaf: lag, not loss
	}
	own := wire.Checkpoint{Bucket: cp.Bucket, MMRRoot: theirs.MMRRoot, StartSeq: theirs.StartSeq, LeafCount: theirs.LeafCount}
	ownIdx := seq - theirs.StartSeq
	err = m.withProvider(p, func(c Provider) error {
		cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
		defer cancel()
		return auditLeaf(cctx, c, own, ownIdx)
	})
	switch {
	case err == nil:
		return 0, nil // it proves the leaf under its own root
	case core.KindOf(err) == core.Unavailable:
		return 0, err
	}
	return m.ChallengeProvider(ctx, cp.Bucket, p.Account, wire.ChallengeEvidence{Commitment: &theirs}, ownIdx, reason+"; and against its own commitment: "+err.Error())
}

// errIfUnavailable keeps a provider's health about reachability: a proof
// failure is recorded as an audit failure, not as the provider being down.
func errIfUnavailable(err error) error {
	if core.KindOf(err) == core.Unavailable {
		return err
	}
	return nil
}

func auditLeaf(ctx context.Context, c Provider, cp wire.Checkpoint, idx uint64) error {
	const op = "checkpoint.audit"
	leaf, proof, err := c.Proof(ctx, cp.Bucket, idx, cp.LeafCount)
	if err != nil {
		if core.KindOf(err) == core.Unavailable || core.KindOf(err) == core.Other {
			return core.E(op, core.Unavailable, err)
		}
		return core.E(op, core.Corrupt, fmt.Errorf("no proof of leaf %d: %w", idx, err))
	}
	if leaf.Seq != cp.StartSeq+idx {
		return core.Errorf(op, core.Corrupt, "leaf %d carries seq %d", idx, leaf.Seq)
	}
	if err := mmr.VerifyInclusion(mmr.Hash(cp.MMRRoot), cp.LeafCount, idx, mmr.LeafHash(leaf.Bytes()), proof); err != nil {
		return core.E(op, core.Corrupt, err)
	}
	rc, err := c.Blob(ctx, cp.Bucket, leaf.ContentHash)
	if err != nil {
		if core.KindOf(err) == core.Unavailable {
			return core.E(op, core.Unavailable, err)
		}
		return core.E(op, core.Corrupt, fmt.Errorf("blob of leaf %d: %w", idx, err))
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, int64(leaf.Size)+1))
	if err != nil {
		return core.E(op, core.Corrupt, fmt.Errorf("reading blob of leaf %d: %w", idx, err))
	}
	if uint64(n) != leaf.Size || core.H256(h.Sum(nil)) != leaf.ContentHash {
		return core.Errorf(op, core.Corrupt, "blob of leaf %d does not match its hash (%d bytes)", idx, n)
	}
	return nil
}
