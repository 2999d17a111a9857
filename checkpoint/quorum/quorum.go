package quorum

import (
	"bytes"
	"sort"

	"github.com/cairn-storage/cairn/core"
)

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

// DecideAt groups verified commitments by State and picks the majority,
// with required agreeing providers (providers.Threshold gives it).
// Commitments must already be verified against the providers' registered
// keys; a provider appearing more than once counts once (its first
// commitment in input order is kept), so a repeated signature cannot
// inflate a group.
//
// Groups are ordered deterministically: more signers first, then the higher
// leaf count (the more recent state), then the lower root bytes, then the
// lower start_seq. The first group is the majority.
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
