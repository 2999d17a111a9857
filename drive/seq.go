package drive

import (
	"context"
	"fmt"
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

// highestCommitted asks every primary of the bucket for its signed
// commitment at once and returns the highest start_seq + leaf_count among
// the answers signed with the key the chain registers for that provider,
// about this bucket and chain, with the room the bucket has left. Once the
// threshold of valid answers is in, the others get the grace (a fraction
// of the time that took), never more. Each answer feeds the provider's
// health record, so for a provider the record says is unresponsive this
// request is the bounded probe that puts it back once it answers: the
// session that follows then writes to it again.
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
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		p    providers.Info
		n    uint64
		used uint64
		err  error
	}
	_, skipped := c.responsive(all, required)
	probing := len(skipped) > 0
	start := time.Now()
	answers := make(chan answer, len(all)) // never blocks: no goroutine outlives its send
	for _, p := range all {
		go func() {
			n, used, err := c.committedCount(qctx, p, bucket, chainID)
			answers <- answer{p, n, used, err}
		}()
	}
	var grace <-chan time.Time
	var high uint64
	var rooms []uint64
	valid := 0
	var last error = core.Errorf(op, core.Unavailable, "bucket %s has no primary", bucket)
	for pending := len(all); pending > 0; {
		select {
		case a := <-answers:
			pending--
			if a.err != nil {
				last = a.err
				continue
			}
			valid++
			high = max(high, a.n)
			room := uint64(unknownRoom)
			if limit, ok := limits[a.p.Account]; ok {
				room = roomOf(limit, a.used)
			}
			rooms = append(rooms, room)
			if valid >= required && grace == nil {
				g := c.cfg.grace(time.Since(start))
				if probing {
					// A provider skipped as unresponsive may have just come
					// back: its answer, which puts it back into the writes
					// that follow, gets at least probeWait.
					g = max(g, min(probeWait, c.cfg.FinishGrace))
				}
				grace = time.After(g)
			}
		case <-grace:
			pending = 0
		case <-ctx.Done():
			return 0, 0, core.E(op, core.Unavailable, ctx.Err())
		}
	}
	if valid == 0 {
		return 0, 0, core.Errorf(op, core.Unavailable, "no provider of bucket %s answered: %v", bucket, last)
	}
	return high, quorumRoom(rooms, required), nil
}

// probeWait is the least time the next-seq request waits, past the
// threshold, while a provider the pool's record calls unresponsive is
// being probed: enough for one that just came back to answer.
const probeWait = 100 * time.Millisecond

// committedCount asks one provider for its signed commitment (retrying
// while it is unavailable) and checks it: from whom we asked, about what we
// asked, signed with the key the chain has for that provider.
//
// It also returns the bytes the provider says the bucket's log holds
// (unsigned, so advisory: the provider enforces its quota itself; an
// answer it cannot give counts as nothing used).
func (c *Client) committedCount(ctx context.Context, p providers.Info, bucket core.BucketID, chainID string) (uint64, uint64, error) {
	const op = "drive.commitment"
	if p.URL == "" {
		return 0, 0, core.Errorf(op, core.Unavailable, "provider %s has no usable endpoint (%q)", p.Account.Short(), p.Endpoint)
	}
	st, err := c.storage(p.URL)
	if err != nil {
		return 0, 0, core.E(op, core.Unavailable, err)
	}
	var sc core.SignedCommitment
	err = backoff.Retry(ctx, seqRetry, nil, func(int) error {
		actx, cancel := context.WithTimeout(ctx, c.cfg.ReadTimeout)
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
		return err
	})
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
