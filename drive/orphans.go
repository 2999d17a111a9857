package drive

import (
	"context"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// An upload that fails short of its quorum leaves the blobs some
// providers took in their logs: orphans, named by no root, that count
// against the quota. The next upload starts after them (a seq is never
// reused for other content), but when it writes the same blobs again, as a
// retry of the same file does, it writes them at the orphans' own seqs: a
// provider that holds one answers the repeat at once, and the others store
// it, so a retried upload costs the log, and the quota, nothing more than
// an upload that never failed. At the first blob that differs the session
// jumps past the orphans, which then stay (what remains: they are
// reclaimed only by a truncation, which the client does not offer yet).

// maxOrphans bounds the orphan leaves a session reads to reuse (a failed
// upload leaves at most a window or so).
const maxOrphans = 1024

// orphans are the leaves past the drive's last known change, up to the
// end of the log a provider signed for.
type orphans struct {
	from   uint64      // seq of leaves[0]
	leaves []core.Leaf // in seq order, contiguous
	end    uint64      // the log's end: where new content goes
}

// findOrphans lists the leaves [clean, end) of the bucket's log from the
// first responsive provider that serves them, where clean is the seq after
// the last change this client or the chain knows of. It returns nil when
// there are none, or when no provider lists them (the session then simply
// starts at end).
func (c *Client) findOrphans(ctx context.Context, bucket core.BucketID, end uint64) *orphans {
	clean := uint64(0)
	if pr, ok := c.cp.PendingRootOf(bucket); ok {
		clean = pr.Leaf.Seq + 1
	}
	if b, err := c.chain.Bucket(ctx, bucket); err == nil && b.Latest != nil {
		clean = max(clean, b.Latest.StartSeq+b.Latest.LeafCount)
	}
	if clean >= end || end-clean > maxOrphans {
		return nil
	}
	ps, required, err := c.pool.Threshold(ctx, bucket)
	if err != nil {
		return nil
	}
	ask, _ := c.responsive(ps, required)
	for _, p := range ask {
		ls, ok := c.listLeaves(ctx, p, bucket, clean, int(end-clean))
		if ok {
			return &orphans{from: clean, leaves: ls, end: end}
		}
	}
	return nil
}

// listLeaves reads [from, from+n) from one provider, only if it serves
// them all, in order.
func (c *Client) listLeaves(ctx context.Context, p providers.Info, bucket core.BucketID, from uint64, n int) ([]core.Leaf, bool) {
	if p.URL == "" {
		return nil, false
	}
	st, err := c.storage(p.URL)
	if err != nil {
		return nil, false
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.FirstByteTimeout)
	defer cancel()
	sls, err := st.Leaves(rctx, bucket, from, n)
	if err != nil || len(sls) != n {
		return nil, false
	}
	out := make([]core.Leaf, n)
	for i, sl := range sls {
		if sl.Seq != from+uint64(i) {
			return nil, false
		}
		out[i] = sl.Leaf
	}
	return out, true
}

// reuse reports whether the next blob, of this hash and size, is the
// orphan at the session's next seq; at the first blob that is not, the
// session moves past the orphans for good.
func (s *session) reuse(hash core.H256, size uint64) bool {
	o := s.orphans
	if o == nil || s.next >= o.end {
		return false
	}
	if s.next >= o.from {
		if l := o.leaves[s.next-o.from]; l.ContentHash == hash && l.Size == size {
			return true
		}
	}
	s.next, s.orphans = o.end, nil
	return false
}

// bytes is what the orphans hold: room an upload that reuses them does
// not need.
func (o *orphans) bytes() uint64 {
	if o == nil {
		return 0
	}
	var n uint64
	for _, l := range o.leaves {
		n += l.Size
	}
	return n
}
