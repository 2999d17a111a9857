package drive

import (
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// grace is how long to wait for providers still behind once a quorum is
// in: a fraction of the time the quorum took, at least GraceFloor and at
// most FinishGrace. A fast quorum so waits a little (a provider just
// behind stays in step), a slow one a little more, and never the fixed
// cap every time: a hung provider costs the floor, not seconds.
func (c Config) grace(quorumTook time.Duration) time.Duration {
	g := time.Duration(float64(quorumTook) * c.GraceFraction)
	return min(max(g, c.GraceFloor), c.FinishGrace)
}

// fractionGrace is the grace without its floor: GraceFraction of the time
// the quorum took, at most FinishGrace. It is what a provider that has
// answered nothing yet is given (see session.drain).
func (c Config) fractionGrace(quorumTook time.Duration) time.Duration {
	return min(time.Duration(float64(quorumTook)*c.GraceFraction), c.FinishGrace)
}

// unresponsive reports whether the pool's health record says a provider
// is not answering: unreachable, failing its last requests, or missing
// the wait for stragglers (providers.Health.Unresponsive). Such a
// provider is given no writes and not waited for; it catches up by
// replica sync, and the record clears as soon as it answers anyone using
// the pool (the Checkpoint Manager asks every primary at each checkpoint).
func unresponsive(h providers.Health) bool {
	return h.Unresponsive() || h.ConsecutiveFailures >= failingAfter
}

// failingAfter is how many failures in a row make a provider unresponsive
// to the drive (the pool's record calls it degraded from 3 on).
const failingAfter = 3

// responsive splits ps into those the drive asks and those it skips as
// unresponsive, keeping at least need asked (the least failing of the
// skipped first) so a bucket whose providers all failed once is still
// tried rather than refused without a request.
func (c *Client) responsive(ps []providers.Info, need int) (ask, skip []providers.Info) {
	type rated struct {
		p providers.Info
		h providers.Health
	}
	var bad []rated
	for _, p := range ps {
		h, _ := c.pool.Health(p.Account)
		if unresponsive(h) {
			bad = append(bad, rated{p, h})
			continue
		}
		ask = append(ask, p)
	}
	rs := make([]providers.Ranked, len(bad))
	for i, b := range bad {
		rs[i] = providers.Ranked{Info: b.p, History: b.h}
	}
	providers.Rank(rs)
	for _, r := range rs {
		if len(ask) < need {
			ask = append(ask, r.Info)
		} else {
			skip = append(skip, r.Info)
		}
	}
	return ask, skip
}

// failing reports whether a write's error says the provider is failing
// (unreachable, timed out, broken, serving wrong bytes) rather than that
// it refused this request (unauthorized, invalid, over quota, a conflict
// at the seq): only the first counts against its health, so a refused
// writer does not mark every provider unresponsive.
func failing(err error) bool {
	switch core.KindOf(err) {
	case core.Invalid, core.Unauthorized, core.Conflict, core.Exists, core.NotFound:
		return false
	}
	return true
}
