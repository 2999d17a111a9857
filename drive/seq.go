package drive

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/backoff"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// seqFor returns the next free seq of the bucket's log: the highest leaf
// count any provider with a valid signed commitment reports, so a blob
// left behind by a failed upload is never overwritten with other content;
// and the bytes the bucket can still take (see quota.go).
func (c *Client) seqFor(ctx context.Context, bucket core.BucketID) (uint64, uint64, error) {
	c.mu.Lock()
	n, ok := c.nextSeq[bucket]
	room := c.room[bucket]
	c.mu.Unlock()
	if ok {
		return n, room, nil
	}
	return c.highestCommitted(ctx, bucket)
}

// seqRetry is the back-off of one commitment request.
var seqRetry = backoff.Policy{Retries: 2, Initial: 200 * time.Millisecond}

// highestCommitted asks the bucket's primaries for their signed
// commitments at once and returns the highest start_seq + leaf_count among
// the first `required` answers signed with the key the chain registers
// for that provider, about this bucket and chain, with the room the
// bucket has left. It returns as soon as the threshold of valid answers
// is in: it never waits for the others.
//
// Returning at the threshold cannot hand out a seq a quorum already used.
// A blob counts as written (and a checkpoint as signed) only once
// `required` of the same primaries hold it, and any two sets of
// `required` of them share a provider (required > total/2, see
// providers.Required), so among the answers taken at least one holds
// every blob a quorum acknowledged: the seq returned is at least the
// highest leaf count a quorum can attest. What a minority holds past it
// (a failed upload's orphans) is guarded where it is written: a provider
// refuses a write at a seq it already holds (Exists, or "behind" for a
// gap) and the session only counts a write a quorum took, and the
// writer lock (writers.go) lets one writer of the bucket at a time ask.
//
// A provider the pool's record says is unresponsive is not asked in full
// here: it gets one probe (probe), bounded by FirstByteTimeout and run in
// the background, whose answer counts if it comes before the threshold is
// in (the record may be stale: the others may not reach the threshold
// without it), and which the search does not wait for once the threshold
// is in. Its answer puts the provider back into the writes that follow.
// Each answer feeds the provider's health record.
func (c *Client) highestCommitted(ctx context.Context, bucket core.BucketID) (uint64, uint64, error) {
	const op = "drive.write"
	all, required, err := c.pool.Threshold(ctx, bucket)
	if err != nil {
		return 0, 0, core.E(op, core.KindOf(err), err)
	}
	chainID, err := c.chain.ChainID(ctx)
	if err != nil {
		return 0, 0, core.E(op, core.KindOf(err), err)
	}
	limits, err := c.maxBytes(ctx, bucket)
	if err != nil {
		return 0, 0, err
	}
	ask, skip := c.responsive(all, required)
	qctx, cancel := context.WithCancel(ctx)
	defer cancel() // the answers not needed are cut short
	// Never blocks: no goroutine, asked or probe, outlives its send.
	answers := make(chan seqAnswer, len(ask)+len(skip))
	for _, p := range ask {
		go func() {
			n, used, err := c.committedCount(qctx, p, bucket, chainID, seqRetry, c.cfg.ReadTimeout)
			answers <- seqAnswer{p, n, used, err}
		}()
	}
	for _, p := range skip {
		c.probe(ctx, p, bucket, chainID, answers)
	}
	var high uint64
	var rooms []uint64
	var last error = core.Errorf(op, core.Unavailable, "bucket %s has no primary", bucket)
	for pending := len(ask) + len(skip); pending > 0 && len(rooms) < required; pending-- {
		var a seqAnswer
		select {
		case a = <-answers:
		case <-ctx.Done():
			return 0, 0, core.E(op, core.Unavailable, ctx.Err())
		}
		if a.err != nil {
			last = a.err
			continue
		}
		high = max(high, a.n)
		room := uint64(unknownRoom)
		if limit, ok := limits[a.p.Account]; ok {
			room = roomOf(limit, a.used)
		}
		rooms = append(rooms, room)
	}
	if len(rooms) == 0 {
		return 0, 0, core.Errorf(op, core.Unavailable, "no provider of bucket %s answered: %v", bucket, last)
	}
	return high, quorumRoom(rooms, required), nil
}

// seqAnswer is one provider's answer to the next-seq search.
type seqAnswer struct {
	p    providers.Info
	n    uint64 // start_seq + leaf_count
	used uint64 // bytes of the bucket it holds
	err  error
}

// probe sends one commitment request, bounded by FirstByteTimeout and not
// retried, to a provider the pool's record says is unresponsive, records
// the outcome (one answer puts it back) and delivers the answer on to,
// which must have room for it. It runs in the background, past the
// search that started it (a put does not wait for it); WaitProbes waits
// for it.
func (c *Client) probe(ctx context.Context, p providers.Info, bucket core.BucketID, chainID string, to chan<- seqAnswer) {
	c.probes.Add(1)
	go func() {
		defer c.probes.Done()
		n, used, err := c.committedCount(context.WithoutCancel(ctx), p, bucket, chainID, backoff.Policy{}, c.cfg.FirstByteTimeout)
		to <- seqAnswer{p, n, used, err}
	}()
}

// WaitProbes waits until the background probes of unresponsive providers
// have ended and recorded their outcomes (each within twice
// FirstByteTimeout: the commitment, then the bucket's usage).
func (c *Client) WaitProbes() { c.probes.Wait() }

// committedCount asks one provider for its signed commitment, each
// attempt bounded by timeout (retrying by policy while it is unavailable,
// but not a refused connection: nothing listens there, and it counts at
// once) and checks it: from whom we asked, about
// what we asked, signed with the key the chain has for that provider.
//
// It also returns the bytes the provider says the bucket's log holds
// (unsigned, so advisory: the provider enforces its quota itself; an
// answer it cannot give counts as nothing used).
func (c *Client) committedCount(ctx context.Context, p providers.Info, bucket core.BucketID, chainID string, policy backoff.Policy, timeout time.Duration) (uint64, uint64, error) {
	const op = "drive.commitment"
	if p.URL == "" {
		return 0, 0, core.Errorf(op, core.Unavailable, "provider %s has no usable endpoint (%q)", p.Account.Short(), p.Endpoint)
	}
	st, err := c.storage(p.URL)
	if err != nil {
		return 0, 0, core.E(op, core.Unavailable, err)
	}
	var sc core.SignedCommitment
	var refused error
	err = backoff.Retry(ctx, policy, nil, func(int) error {
		actx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := time.Now()
		sc, err = st.Commitment(actx, bucket)
		if ctx.Err() != nil {
			return ctx.Err() // cut short by the others: not the provider's fault
		}
		if err == nil {
			err = checkCommitment(sc, p, bucket, chainID)
		} else if core.KindOf(err) == core.Other {
			err = core.E(op, core.Unavailable, err)
		}
		c.pool.Record(p.Account, time.Since(start), err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			refused = err
			return nil // not retried: ends the loop, reported below
		}
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return 0, 0, err
	}
	uctx, cancel := context.WithTimeout(ctx, c.cfg.FirstByteTimeout)
	defer cancel()
	used, err := st.Used(uctx, bucket)
	if err != nil {
		used = 0
	}
	return sc.StartSeq + sc.LeafCount, used, nil
}

func checkCommitment(sc core.SignedCommitment, p providers.Info, bucket core.BucketID, chainID string) error {
	const op = "drive.commitment"
	switch {
	case sc.Provider != p.Account:
		return core.Errorf(op, core.Corrupt, "provider %s answered as %s", p.Account.Short(), sc.Provider.Short())
	case sc.Bucket != bucket || sc.ChainID != chainID:
		return core.Errorf(op, core.Corrupt, "provider %s answered for bucket %s on chain %q", p.Account.Short(), sc.Bucket, sc.ChainID)
	}
	if err := sc.VerifyBy(p.PublicKey); err != nil {
		return core.E(op, core.Corrupt, fmt.Errorf("provider %s: %w", p.Account.Short(), err))
	}
	return nil
}
