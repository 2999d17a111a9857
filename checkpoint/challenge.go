package checkpoint

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// maybeChallenge opens challenges against providers whose divergence is
// proven and recorded often enough, within the rate limits. It runs after
// a checkpoint attempt; the challenge holds the provider to the bucket's
// on-chain checkpoint at the first leaf where its log differs.
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
		leaf := m.firstDifference(ctx, bucket, res, c.Provider)
		if _, err := m.ChallengeProvider(ctx, bucket, c.Provider, leaf, fmt.Sprintf("data divergence recorded %d times", n)); err != nil {
			m.log.Warn("auto-challenge not opened", "bucket", bucket, "provider", c.Provider.Short(), "err", err)
		}
	}
}

// firstDifference finds the first leaf index at which the provider's log
// differs from an agreeing provider's, within the checkpointed leaves. When
// the logs cannot be read it falls back to the last checkpointed leaf.
func (m *Manager) firstDifference(ctx context.Context, bucket core.BucketID, res *Result, suspect core.AccountID) uint64 {
	fallback := res.LeafCount - 1
	ps, err := m.Providers(ctx, bucket)
	if err != nil || res.LeafCount == 0 {
		return fallback
	}
	var theirs, ours ProviderInfo
	signer := map[core.AccountID]bool{}
	for _, s := range res.Signers {
		signer[s] = true
	}
	for _, p := range ps {
		if p.Account == suspect {
			theirs = p
		} else if signer[p.Account] && ours.URL == "" {
			ours = p
		}
	}
	const page = 1000
	for from := res.StartSeq; from < res.StartSeq+res.LeafCount; from += page {
		var a, b []core.SignedLeaf
		leaves := func(p ProviderInfo, out *[]core.SignedLeaf) error {
			return m.withProvider(p, func(c Provider) error {
				cctx, cancel := context.WithTimeout(ctx, m.cfg.ProviderTimeout)
				defer cancel()
				var err error
				*out, err = c.Leaves(cctx, bucket, from, page)
				return err
			})
		}
		ea, eb := leaves(ours, &a), leaves(theirs, &b)
		if ea != nil || eb != nil {
			return fallback
		}
		for i := range a {
			if from+uint64(i) >= res.StartSeq+res.LeafCount {
				return fallback
			}
			if i >= len(b) || a[i].Leaf != b[i].Leaf {
				return from + uint64(i) - res.StartSeq
			}
		}
		if len(a) < page {
			break
		}
	}
	return fallback
}

// ChallengeProvider opens an on-chain challenge holding the provider to
// leaf leafIndex of the bucket's latest on-chain checkpoint, within the
// configured cooldown and rate limit. The challenge is tracked and resolved
// (slashing the provider) by ResolveExpiredChallenges once its deadline has
// passed unanswered.
func (m *Manager) ChallengeProvider(ctx context.Context, bucket core.BucketID, provider core.AccountID, leafIndex uint64, reason string) (core.ChallengeID, error) {
	const op = "checkpoint.ChallengeProvider"
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

	call := &wire.OpenChallenge{Provider: provider, Bucket: bucket, LeafIndex: leafIndex,
		Evidence: wire.ChallengeEvidence{FromCheckpoint: true}, Deposit: ac.Deposit}
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
	_ = m.state.update(func(p *persisted) {
		delete(p.Conflicts, provider)
		if id != 0 {
			p.Challenges[id] = openChallenge{Bucket: bucket, Provider: provider, Deadline: deadline}
		}
	})
	m.metrics.challenges.Inc()
	m.log.Warn("challenge opened", "bucket", bucket, "provider", provider.Short(), "leaf", leafIndex, "challenge", id, "reason", reason)
	m.events.emit(Event{Kind: EventChallengeOpened, Bucket: bucket, Time: m.clock.Now(), Provider: provider, Challenge: id, Leaf: leafIndex, Reason: reason})
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
// provider), and forgets challenges that were answered.
func (m *Manager) ResolveExpiredChallenges(ctx context.Context) error {
	var ids []core.ChallengeID
	m.state.read(func(p *persisted) {
		for id := range p.Challenges {
			ids = append(ids, id)
		}
	})
	if len(ids) == 0 {
		return nil
	}
	h, err := m.chain.Height(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		ch, err := m.chain.Challenge(ctx, id)
		if err != nil {
			continue
		}
		if ch.State != wire.ChallengeOpen {
			_ = m.state.update(func(p *persisted) { delete(p.Challenges, id) })
			continue
		}
		if h <= ch.Deadline {
			continue
		}
		if _, err := m.submitTx(ctx, &wire.ResolveChallenge{Challenge: id}); err != nil {
			m.log.Warn("resolving challenge", "challenge", id, "err", err)
			continue
		}
		_ = m.state.update(func(p *persisted) { delete(p.Challenges, id) })
		m.events.emit(Event{Kind: EventChallengeResolved, Bucket: ch.Bucket, Time: m.clock.Now(), Provider: ch.Provider, Challenge: id, Reason: "deadline passed unanswered"})
	}
	return nil
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
				id, cerr := m.ChallengeProvider(ctx, bucket, p.Account, idx, "failed audit: "+err.Error())
				if cerr == nil {
					r.Challenge = id
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
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
