package ui

import (
	"fmt"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/providers"
)

// The reasons a provider is at risk.
const (
	RiskFailing    = "failing"    // its requests fail: degraded, unreachable, or several failures in a row
	RiskBehind     = "behind"     // it holds fewer leaves than the checkpoint on chain
	RiskDiverged   = "diverged"   // its log disagrees with the majority's
	RiskChallenged = "challenged" // a challenge is open against it
)

// Risk is one reason a provider is at risk. BlocksLeft is set for an open
// challenge: the blocks until its deadline (0 or less: past it, the
// provider is slashed when anyone resolves it).
type Risk struct {
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
	BlocksLeft *int64 `json:"blocks_left,omitempty"`
}

// RiskInput is what Assess decides on: the provider's health record, its
// class in the last probe ("" when not probed), the leaves it lacks
// against the on-chain checkpoint (nil when unknown), the open challenges
// against it and the chain's height.
type RiskInput struct {
	Health     providers.Health
	Class      string
	Proven     bool   // a data_divergence backed by evidence (quorum.Conflict.Proven)
	Reason     string // the classifier's reason for a data_divergence
	Lag        *int64
	Challenges []wire.Challenge
	Height     int64
}

// failuresAtRisk is how many failed requests in a row make a provider
// at risk before its status turns degraded (3).
const failuresAtRisk = 2

// Assess says why a provider is at risk: the warning it gets before it is
// slashed. No reasons: not at risk. It is pure: the same input gives the
// same reasons, in the order failing, diverged, behind, challenged.
func Assess(in RiskInput) []Risk {
	var out []Risk
	h := &in.Health
	switch st := h.Status(); {
	case st == providers.StatusUnreachable || st == providers.StatusDegraded:
		out = append(out, Risk{Reason: RiskFailing, Detail: fmt.Sprintf("%s: %d failed request(s) in a row, success rate %.0f%%%s", st, h.ConsecutiveFailures, 100*h.SuccessRate(), lastError(h))})
	case h.ConsecutiveFailures >= failuresAtRisk:
		out = append(out, Risk{Reason: RiskFailing, Detail: fmt.Sprintf("%d failed request(s) in a row%s", h.ConsecutiveFailures, lastError(h))})
	}
	switch {
	case in.Class == "data_divergence" && in.Proven:
		out = append(out, Risk{Reason: RiskDiverged, Detail: "proven: " + in.Reason})
	case in.Class == "data_divergence":
		out = append(out, Risk{Reason: RiskDiverged, Detail: "not proven: " + in.Reason})
	case in.Class == "sync_delay" || (in.Lag != nil && *in.Lag > 0):
		out = append(out, Risk{Reason: RiskBehind, Detail: behindDetail(in.Lag)})
	}
	for _, c := range in.Challenges {
		if c.State != wire.ChallengeOpen {
			continue
		}
		left := c.Deadline - in.Height
		d := fmt.Sprintf("challenge %d on leaf %d: %d blocks left to answer", c.ID, c.LeafIndex, left)
		if left <= 0 {
			d = fmt.Sprintf("challenge %d on leaf %d: deadline passed, slashed once resolved", c.ID, c.LeafIndex)
		}
		out = append(out, Risk{Reason: RiskChallenged, Detail: d, BlocksLeft: &left})
	}
	return out
}

func behindDetail(lag *int64) string {
	if lag == nil || *lag <= 0 {
		return "behind the majority (consistency proof verified)"
	}
	return fmt.Sprintf("%d leaves behind the checkpoint on chain", *lag)
}

func lastError(h *providers.Health) string {
	if h.LastError == "" {
		return ""
	}
	return "; last error: " + h.LastError
}
