package ui

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// probe is one probe of a bucket's primaries: their health records and
// the signed commitments collected, with the conflict analysis.
type probe struct {
	height   int64
	health   map[core.AccountID]providers.Health
	coll     *checkpoint.CommitmentCollection
	conflict *checkpoint.ProviderConflict
	err      error
}

// Provider classes besides the conflict kinds.
const (
	classAgrees    = "agrees"
	classNoAnswer  = "no_answer"
	classLate      = "late"
	classNotProbed = "not_probed"
)

// providerState is what a probe says of one provider.
type providerState struct {
	class  string
	leaves *uint64
	proof  string
	proven bool
	reason string
	root   string
}

// stateOf finds a provider in a probe.
func (p *probe) stateOf(a core.AccountID) providerState {
	if p == nil || p.coll == nil {
		return providerState{class: classNotProbed, proof: "not probed yet"}
	}
	c := p.coll
	for _, x := range c.Agreeing {
		if x == a {
			n := c.LeafCount
			return providerState{class: classAgrees, leaves: &n, root: c.MMRRoot.String(),
				proof: fmt.Sprintf("signed the majority root at %d leaves (signature verified)", n)}
		}
	}
	if p.conflict != nil {
		for _, x := range p.conflict.Conflicts {
			if x.Provider == a {
				n := x.LeafCount
				return providerState{class: x.Kind.String(), leaves: &n, root: x.Root.String(),
					proof: conflictProof(x.Kind.String(), n, p.conflict.LeafCount, x.Reason), proven: x.Proven, reason: x.Reason}
			}
		}
	}
	for _, d := range c.Disagreeing {
		if d.Provider == a {
			n := d.LeafCount
			return providerState{class: "data_divergence", leaves: &n, root: d.Root.String(), proof: "a root other than the majority's (not analysed)"}
		}
	}
	switch {
	case slices.Contains(c.Invalid, a):
		return providerState{class: classNoAnswer, proof: "its answer failed verification (signature, bucket or chain)"}
	case slices.Contains(c.Cancelled, a):
		return providerState{class: classLate, proof: "still answering when the quorum was reached: not waited for (early quorum)"}
	}
	return providerState{class: classNoAnswer, proof: "no valid signed commitment in the last probe"}
}

// conflictProof says what decided a conflict class.
func conflictProof(class string, theirs, majority uint64, reason string) string {
	switch class {
	case "sync_delay":
		return fmt.Sprintf("MMR consistency proof verified: its %d leaves are a prefix of the majority's %d (behind by %d)", theirs, majority, majority-theirs)
	case "ahead":
		return fmt.Sprintf("MMR consistency proof verified: the majority's %d leaves are a prefix of its %d (ahead by %d)", majority, theirs, theirs-majority)
	}
	return reason
}

// providerViews lists the bucket's providers with an active agreement,
// primaries first, then by account.
func providerViews(ags []wire.Agreement, reg map[core.AccountID]wire.Provider, p *probe, latest *wire.Checkpoint, chs []wire.Challenge, height int64) []ProviderView {
	out := []ProviderView{}
	for _, a := range ags {
		if !a.Active {
			continue
		}
		r := reg[a.Provider]
		v := ProviderView{Account: a.Provider, Endpoint: r.Endpoint, Role: a.Role, Stake: r.Stake, Status: providers.StatusUnknown.String()}
		var h providers.Health
		if p != nil {
			h = p.health[a.Provider]
		}
		if h.TotalRequests > 0 {
			v.Status, v.SuccessRate = h.Status().String(), h.SuccessRate()
			v.LatencyMS = float64(h.AvgLatency) / float64(time.Millisecond)
			v.LastError = h.LastError
		}
		st := p.stateOf(a.Provider)
		if a.Role != wire.Primary {
			st = providerState{class: classNotProbed}
		}
		v.Class, v.Leaves = st.class, st.leaves
		if st.leaves != nil && latest != nil {
			lag := int64(latest.LeafCount) - int64(*st.leaves)
			v.Lag = &lag
		}
		v.Risks = Assess(RiskInput{Health: h, Class: st.class, Proven: st.proven, Reason: st.reason, Lag: v.Lag, Challenges: against(chs, a.Provider), Height: height})
		if v.Risks == nil {
			v.Risks = []Risk{}
		}
		v.AtRisk = len(v.Risks) > 0
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Role == wire.Primary) != (out[j].Role == wire.Primary) {
			return out[i].Role == wire.Primary
		}
		return out[i].Account.String() < out[j].Account.String()
	})
	return out
}

func against(chs []wire.Challenge, a core.AccountID) []wire.Challenge {
	var out []wire.Challenge
	for _, c := range chs {
		if c.Provider == a {
			out = append(out, c)
		}
	}
	return out
}

// conflictViews is each probed primary's class and its evidence.
func conflictViews(ps []ProviderView, p *probe) []ConflictView {
	out := []ConflictView{}
	for _, v := range ps {
		if v.Role != wire.Primary {
			continue
		}
		st := p.stateOf(v.Account)
		c := ConflictView{Provider: v.Account, Class: st.class, Root: st.root, Proof: st.proof, Proven: st.proven}
		if st.leaves != nil {
			c.LeafCount = *st.leaves
		}
		out = append(out, c)
	}
	return out
}

// checkpointViews is the latest limit checkpoints, newest first, with the
// time to quorum of those this process submitted.
func checkpointViews(hist []wire.Checkpoint, quorum map[int64]time.Duration, limit int) []CheckpointView {
	if len(hist) > limit {
		hist = hist[len(hist)-limit:]
	}
	out := make([]CheckpointView, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- {
		out = append(out, checkpointView(hist[i], quorum))
	}
	return out
}

func checkpointView(c wire.Checkpoint, quorum map[int64]time.Duration) CheckpointView {
	v := CheckpointView{Height: c.Height, Root: c.MMRRoot.String(), StartSeq: c.StartSeq, LeafCount: c.LeafCount, Signers: []string{}}
	for _, s := range c.Signers {
		v.Signers = append(v.Signers, s.String())
	}
	if d, ok := quorum[c.Height]; ok {
		ms := float64(d) / float64(time.Millisecond)
		v.QuorumMS = &ms
	}
	return v
}

// challengeViews is the bucket's challenges, newest first: every open
// one and the latest limit closed ones.
func challengeViews(chs []wire.Challenge, height int64, limit int) []ChallengeView {
	out := []ChallengeView{}
	closed := 0
	for i := len(chs) - 1; i >= 0; i-- {
		c := chs[i]
		if c.State != wire.ChallengeOpen {
			if closed == limit {
				continue
			}
			closed++
		}
		v := ChallengeView{ID: c.ID, Provider: c.Provider, Challenger: c.Challenger, State: c.State, LeafIndex: c.LeafIndex,
			Opened: c.OpenedHeight, Deadline: c.Deadline, Closed: c.ClosedHeight, Outcome: outcome(c, height)}
		if c.State == wire.ChallengeOpen {
			v.BlocksLeft = c.Deadline - height
		}
		out = append(out, v)
	}
	return out
}

func outcome(c wire.Challenge, height int64) string {
	switch c.State {
	case wire.ChallengeOpen:
		if height > c.Deadline {
			return "deadline passed: slashed once resolved"
		}
		return fmt.Sprintf("pending: %d blocks left to answer", c.Deadline-height)
	case wire.ChallengeAnswered:
		return fmt.Sprintf("answered with a valid proof at height %d; deposit paid to the provider", c.ClosedHeight)
	case wire.ChallengeSlashed:
		return fmt.Sprintf("slashed %d at height %d: no valid answer by the deadline", c.Slashed, c.ClosedHeight)
	case wire.ChallengeVoid:
		return "void: the agreement ended while it was open; deposit returned"
	}
	return c.State
}
