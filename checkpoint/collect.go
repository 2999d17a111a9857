package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/backoff"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
)

type answer struct {
	p         ProviderInfo
	c         core.SignedCommitment
	err       error
	cancelled bool
}

// CollectCommitments asks every primary of the bucket for its signed
// commitment in parallel, verifies each signature against the key
// registered on chain, and groups the answers. Unless WaitForAll is set it
// returns once the threshold of agreeing valid signatures is in, after an
// adaptive grace for stragglers, cancelling the rest; a provider known not
// to answer is only probed, and not waited for once the others agree.
func (m *Manager) CollectCommitments(ctx context.Context, bucket core.BucketID) (*CommitmentCollection, error) {
	start := m.clock.Now()
	chainID, err := m.chainIDOf(ctx)
	if err != nil {
		return nil, core.E("checkpoint.Collect", core.KindOf(err), err)
	}
	ps, required, err := m.Threshold(ctx, bucket)
	if err != nil {
		return nil, err
	}
	coll := &CommitmentCollection{Bucket: bucket, Total: len(ps), Required: required, commitments: map[core.AccountID]core.SignedCommitment{}}
	if len(ps) == 0 {
		coll.decision = quorum.DecideAt(0, 0, nil)
		return coll, nil
	}
	valid := m.gather(ctx, coll, ps, chainID)
	if err := ctx.Err(); err != nil {
		return nil, core.E("checkpoint.Collect", core.Unavailable, err)
	}
	m.decide(coll, valid)
	coll.Duration = m.clock.Now().Sub(start)
	return coll, nil
}

// gather asks every provider at once and absorbs the answers into coll,
// stopping after the threshold agrees (unless WaitForAll) and a grace for
// stragglers that adapts to how long the quorum took (Config.grace), then
// cancelling them; each straggler the grace ran out on is noted as a miss
// (providers.Pool.Miss: not a failure, but a few in a row make it
// unresponsive, across runs). A provider the pool knows does not answer
// (providers.Health.Unresponsive) is sent one probe bounded by
// ProbeTimeout instead, and is waited for only while the others cannot
// reach the threshold without it; the probe records its outcome when it
// ends, after the collection if need be, so one answer puts the provider
// back. It returns the valid commitments.
func (m *Manager) gather(ctx context.Context, coll *CommitmentCollection, ps []ProviderInfo, chainID string) []core.SignedCommitment {
	start := m.clock.Now()
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	suspect := m.suspects(ps, coll.Required)
	answers := make(chan answer, len(ps))
	probes := make(chan answer, len(ps)) // never closed: a probe may outlive the collection
	var wg sync.WaitGroup
	live, probing := 0, 0
	for _, p := range ps {
		if suspect[p.Account] {
			probing++
			coll.Probed = append(coll.Probed, p.Account)
			m.probe(ctx, p, coll.Bucket, chainID, probes)
			continue
		}
		live++
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := m.queryCommitment(qctx, p, coll.Bucket, chainID)
			answers <- answer{p: p, c: c, err: err, cancelled: err != nil && qctx.Err() != nil && ctx.Err() == nil}
		}()
	}

	var valid []core.SignedCommitment
	var grace <-chan time.Time
	reached, graceOver := false, false
	took := func(a answer) {
		m.absorb(coll, a, &valid)
		if m.cfg.WaitForAll || reached {
			return
		}
		if reached = quorum.DecideAt(len(ps), coll.Required, valid).Reached; reached && live > 0 {
			grace = m.clock.After(m.cfg.grace(m.clock.Now().Sub(start)))
		}
	}
collect:
	for live > 0 || (probing > 0 && !reached) {
		select {
		case a := <-answers:
			live--
			took(a)
		case a := <-probes:
			probing--
			took(a)
		case <-grace:
			graceOver = true
			break collect
		case <-ctx.Done():
			break collect
		}
	}
	cancel()
	wg.Wait()
	close(answers)
	m.settle(coll, answers, probes, probing, graceOver, &valid)
	return valid
}

// settle absorbs what came in after gather stopped: the stragglers early
// quorum cancelled (each a miss once the grace ran out on it) and the
// probes that answered meanwhile; a probe still out is not waited for and
// is listed as cancelled.
func (m *Manager) settle(coll *CommitmentCollection, answers <-chan answer, probes <-chan answer, probing int, graceOver bool, valid *[]core.SignedCommitment) {
	for a := range answers { // stragglers cancelled by early quorum
		if a.cancelled {
			coll.Cancelled = append(coll.Cancelled, a.p.Account)
			if graceOver {
				m.pool.Miss(a.p.Account) // not a failure; a few in a row make it Unresponsive
			}
			continue
		}
		m.absorb(coll, a, valid)
	}
drain:
	for probing > 0 { // probes that answered meanwhile count; the others are not waited for
		select {
		case a := <-probes:
			probing--
			m.absorb(coll, a, valid)
		default:
			break drain
		}
	}
	if probing > 0 {
		answered := map[core.AccountID]bool{}
		for _, c := range *valid {
			answered[c.Provider] = true
		}
		for _, a := range coll.Unreachable {
			answered[a] = true
		}
		for _, a := range coll.Invalid {
			answered[a] = true
		}
		for _, a := range coll.Probed {
			if !answered[a] {
				coll.Cancelled = append(coll.Cancelled, a)
			}
		}
	}
}

// suspects are the providers the pool knows do not answer, unless the
// others are too few to reach the threshold without them (then every
// provider is asked in full). None with WaitForAll.
func (m *Manager) suspects(ps []ProviderInfo, required int) map[core.AccountID]bool {
	if m.cfg.WaitForAll {
		return nil
	}
	out := map[core.AccountID]bool{}
	for _, p := range ps {
		if m.pool.Unresponsive(p.Account) {
			out[p.Account] = true
		}
	}
	if len(ps)-len(out) < required {
		return nil
	}
	return out
}

// probe sends one commitment request bounded by ProbeTimeout to a
// provider known not to answer, records the outcome in its health (an
// answer puts it back), and delivers the answer on to. It runs past the
// collection that started it, never past ProbeTimeout; WaitProbes waits
// for it.
func (m *Manager) probe(ctx context.Context, p ProviderInfo, bucket core.BucketID, chainID string, to chan<- answer) {
	m.probes.Add(1)
	go func() {
		defer m.probes.Done()
		pctx := context.WithoutCancel(ctx)
		start := m.clock.Now()
		c, err := m.fetchCommitment(pctx, p, bucket, chainID, m.cfg.ProbeTimeout)
		m.record(p.Account, m.clock.Now().Sub(start), err)
		if err != nil {
			m.log.Debug("probe of an unresponsive provider failed", "bucket", bucket, "provider", p.Account.Short(), "err", err)
		}
		to <- answer{p: p, c: c, err: err}
	}()
}

// WaitProbes waits until the probes of unresponsive providers that
// collections started have ended and recorded their outcomes (each ends
// within ProbeTimeout).
func (m *Manager) WaitProbes() { m.probes.Wait() }

// decide groups the valid commitments and fills in the majority, the
// signatures and the disagreements.
func (m *Manager) decide(coll *CommitmentCollection, valid []core.SignedCommitment) {
	d := quorum.DecideAt(coll.Total, coll.Required, valid)
	coll.decision = d
	coll.Reached = d.Reached
	if d.Majority != nil {
		coll.MMRRoot, coll.StartSeq, coll.LeafCount = d.Majority.MMRRoot, d.Majority.StartSeq, d.Majority.LeafCount
		for _, c := range d.Majority.Commitments {
			coll.Agreeing = append(coll.Agreeing, c.Provider)
			coll.Signatures = append(coll.Signatures, wire.Signature{Provider: c.Provider, Signature: c.Signature})
		}
		for _, g := range d.Others {
			for _, c := range g.Commitments {
				coll.Disagreeing = append(coll.Disagreeing, Disagreement{Provider: c.Provider, Root: c.MMRRoot, LeafCount: c.LeafCount, StartSeq: c.StartSeq})
			}
		}
	}
	sortAccounts(coll.Unreachable)
	sortAccounts(coll.Invalid)
	sortAccounts(coll.Cancelled)
	sortAccounts(coll.Probed)
}

func (m *Manager) absorb(coll *CommitmentCollection, a answer, valid *[]core.SignedCommitment) {
	switch {
	case a.err == nil:
		*valid = append(*valid, a.c)
		coll.commitments[a.p.Account] = a.c
	case a.cancelled:
		coll.Cancelled = append(coll.Cancelled, a.p.Account)
	case core.KindOf(a.err) == core.Corrupt || core.KindOf(a.err) == core.Invalid:
		coll.Invalid = append(coll.Invalid, a.p.Account)
	default:
		coll.Unreachable = append(coll.Unreachable, a.p.Account)
	}
}

// queryCommitment asks one provider, retrying transient failures with
// exponential back-off. Every attempt is recorded in the provider's health
// except one cut short by early quorum.
func (m *Manager) queryCommitment(ctx context.Context, p ProviderInfo, bucket core.BucketID, chainID string) (core.SignedCommitment, error) {
	var c core.SignedCommitment
	err := backoff.Retry(ctx, m.cfg.retryPolicy(), m.clock.After, func(attempt int) error {
		start := m.clock.Now()
		var err error
		c, err = m.fetchCommitment(ctx, p, bucket, chainID, m.cfg.ProviderTimeout)
		if ctx.Err() != nil {
			return ctx.Err() // cut short: not the provider's fault
		}
		m.record(p.Account, m.clock.Now().Sub(start), err)
		if err != nil {
			m.log.Debug("commitment request failed", "bucket", bucket, "provider", p.Account.Short(), "attempt", attempt+1, "err", err)
		}
		return err
	})
	if err != nil {
		return core.SignedCommitment{}, err
	}
	return c, nil
}

func (m *Manager) fetchCommitment(ctx context.Context, p ProviderInfo, bucket core.BucketID, chainID string, timeout time.Duration) (core.SignedCommitment, error) {
	const op = "checkpoint.commitment"
	var c core.SignedCommitment
	err := m.withProvider(p, func(cl Provider) error {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var err error
		c, err = cl.Commitment(cctx, bucket)
		if err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return core.Errorf(op, core.Unavailable, "provider %s: no answer within %s: %w", p.Account.Short(), timeout, context.DeadlineExceeded)
		}
		return err
	})
	if err != nil {
		if core.KindOf(err) == core.Other {
			err = core.E(op, core.Unavailable, err)
		}
		return c, err
	}
	// The answer must be about what we asked, from whom we asked, and
	// signed with the key the chain has for that provider.
	switch {
	case c.Provider != p.Account:
		return c, core.Errorf(op, core.Corrupt, "provider %s answered as %s", p.Account.Short(), c.Provider.Short())
	case c.Bucket != bucket || c.ChainID != chainID:
		return c, core.Errorf(op, core.Corrupt, "provider %s answered for bucket %s on chain %q, asked bucket %s on %q", p.Account.Short(), c.Bucket, c.ChainID, bucket, chainID)
	}
	if err := c.VerifyBy(p.PublicKey); err != nil {
		return c, core.E(op, core.Corrupt, fmt.Errorf("provider %s: %w", p.Account.Short(), err))
	}
	return c, nil
}

func sortAccounts(a []core.AccountID) {
	sort.Slice(a, func(i, j int) bool { return bytes.Compare(a[i][:], a[j][:]) < 0 })
}
