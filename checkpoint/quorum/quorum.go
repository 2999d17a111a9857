package quorum

import (
	"bytes"
	"sort"

	"github.com/cairn-storage/cairn/core"
)

// Required is the number of agreeing providers a checkpoint needs:
// ceil(total × percent / 100), and never less than 1 when there is any
// provider. Unreachable providers count in total, so an outage cannot
// lower the bar. With the default 51 %: 1→1, 2→2, 3→2, 4→3, 5→3.
func Required(total, percent int) int {
	if total <= 0 {
		return 0
	}
	if percent <= 0 {
		percent = 1
	}
	if percent > 100 {
		percent = 100
	}
	r := (total*percent + 99) / 100
	if r < 1 {
		r = 1
	}
	return r
}

// Threshold is the number of agreeing providers a checkpoint of a bucket
// needs: the larger of the client's rule, Required(total, percent), and the
// bucket's on-chain quorum (the chain refuses a checkpoint with fewer
// distinct signers, so asking for less would only produce transactions it
// refuses). An on-chain quorum above total is kept as it is: such a bucket
// cannot be checkpointed until it has more primaries, and saying so beats
// pretending.
func Threshold(total, percent int, bucketQuorum uint32) int {
	r := Required(total, percent)
	if total > 0 && int64(bucketQuorum) > int64(r) {
		r = int(min(bucketQuorum, 1<<30))
	}
	return r
}

// State identifies what a group of providers agrees on. Two commitments are
// in the same group only if all three fields match.
type State struct {
	MMRRoot   core.H256
	StartSeq  uint64
	LeafCount uint64
}

// Group is the set of providers that signed the same State.
type Group struct {
	State
	Commitments []core.SignedCommitment // sorted by provider
}

// Signers lists the group's providers in order.
func (g Group) Signers() []core.AccountID {
	out := make([]core.AccountID, len(g.Commitments))
	for i, c := range g.Commitments {
		out[i] = c.Provider
	}
	return out
}

// Size is the number of distinct providers in the group.
func (g Group) Size() int { return len(g.Commitments) }

// Decision is the outcome of Decide.
type Decision struct {
	Total    int // providers of the bucket, reachable or not
	Required int
	// Majority is the best group (see Decide for the order); nil when no
	// provider gave a valid commitment.
	Majority *Group
	// Others are the remaining groups, best first.
	Others []Group
	// Reached reports Majority.Size() >= Required.
	Reached bool
}

// Agreeing is the size of the majority group (0 when there is none).
func (d Decision) Agreeing() int {
	if d.Majority == nil {
		return 0
	}
	return d.Majority.Size()
}

// Decide groups verified commitments by State and picks the majority.
// Commitments must already be verified against the providers' registered
// keys; a provider appearing more than once counts once (its first
// commitment in input order is kept), so a repeated signature cannot
// inflate a group.
//
// Groups are ordered deterministically: more signers first, then the higher
// leaf count (the more recent state), then the lower root bytes, then the
// lower start_seq. The first group is the majority.
func Decide(total, percent int, commitments []core.SignedCommitment) Decision {
	return DecideAt(total, Required(total, percent), commitments)
}

// DecideAt is Decide with the number of agreeing providers required given
// directly (Threshold gives it for a bucket with an on-chain quorum).
func DecideAt(total, required int, commitments []core.SignedCommitment) Decision {
	d := Decision{Total: total, Required: required}
	seen := make(map[core.AccountID]bool, len(commitments))
	groups := map[State]*Group{}
	for _, c := range commitments {
		if seen[c.Provider] {
			continue
		}
		seen[c.Provider] = true
		s := State{MMRRoot: c.MMRRoot, StartSeq: c.StartSeq, LeafCount: c.LeafCount}
		g := groups[s]
		if g == nil {
			g = &Group{State: s}
			groups[s] = g
		}
		g.Commitments = append(g.Commitments, c)
	}
	all := make([]Group, 0, len(groups))
	for _, g := range groups {
		sort.Slice(g.Commitments, func(i, j int) bool {
			return bytes.Compare(g.Commitments[i].Provider[:], g.Commitments[j].Provider[:]) < 0
		})
		all = append(all, *g)
	}
	sort.Slice(all, func(i, j int) bool { return better(all[i], all[j]) })
	if len(all) > 0 {
		d.Majority = &all[0]
		d.Others = all[1:]
		d.Reached = d.Required > 0 && all[0].Size() >= d.Required
	}
	return d
}

// better is the documented tie-break order of Decide.
func better(a, b Group) bool {
	if a.Size() != b.Size() {
		return a.Size() > b.Size()
	}
	if a.LeafCount != b.LeafCount {
		return a.LeafCount > b.LeafCount
	}
	if c := bytes.Compare(a.MMRRoot[:], b.MMRRoot[:]); c != 0 {
		return c < 0
	}
	return a.StartSeq < b.StartSeq
}
