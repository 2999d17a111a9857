package quorum

import (
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// ConflictKind says how a disagreeing provider relates to the majority.
type ConflictKind int

const (
	// SyncDelay: the provider holds a prefix of the majority's log (proved
	// by an MMR consistency proof) and is BehindBy leaves behind.
	SyncDelay ConflictKind = iota + 1
	// Ahead: the majority's log is a prefix of the provider's (proved), and
	// the provider is AheadBy leaves ahead.
	Ahead
	// DataDivergence: the two logs disagree on some leaf (same leaf count
	// and different roots, or a consistency proof that fails or is missing,
	// or a different start_seq).
	DataDivergence
)

func (k ConflictKind) String() string {
	switch k {
	case SyncDelay:
		return "sync_delay"
	case Ahead:
		return "ahead"
	case DataDivergence:
		return "data_divergence"
	}
	return fmt.Sprintf("conflict(%d)", int(k))
}

// MarshalText gives the wire name.
func (k ConflictKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the wire name.
func (k *ConflictKind) UnmarshalText(b []byte) error {
	for c := SyncDelay; c <= DataDivergence; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown ConflictKind %q", b)
}

// Conflict is one disagreeing provider, classified.
type Conflict struct {
	Provider  core.AccountID `json:"provider"`
	Kind      ConflictKind   `json:"kind"`
	Root      core.H256      `json:"root"`
	LeafCount uint64         `json:"leaf_count"`
	BehindBy  uint64         `json:"behind_by,omitempty"`
	AheadBy   uint64         `json:"ahead_by,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	// Proven is set for a divergence backed by evidence strong enough to
	// challenge on: equal leaf counts with different roots, a different
	// start_seq, or a consistency proof that failed to verify. A divergence
	// assumed only because no proof could be had is not proven.
	Proven bool `json:"proven"`
}

// ProofResult is what the caller learned when it checked the consistency
// between the majority's state and a disagreeing provider's state.
type ProofResult int

const (
	// NoProof: no consistency proof could be obtained or it was not needed.
	NoProof ProofResult = iota
	// ProofValid: the shorter log is a prefix of the longer one.
	ProofValid
	// ProofInvalid: a proof that is sound for the longer log's signed root
	// shows that log had another root at the shorter log's leaf count: the
	// logs diverge. (A proof that does not verify against the root its
	// sender signed is no evidence about anyone else; the caller reports
	// NoProof for it.)
	ProofInvalid
)

// Classify places one disagreeing commitment against the majority state.
// Leaf counts alone never decide "behind" or "ahead": only a verified
// consistency proof does. Without one, unequal counts are reported as
// divergence with a reason saying no proof was available, so the caller
// does not challenge on a missing proof alone (see Resolve).
func Classify(majority State, c core.SignedCommitment, proof ProofResult) Conflict {
	out := Conflict{Provider: c.Provider, Root: c.MMRRoot, LeafCount: c.LeafCount, Kind: DataDivergence}
	switch {
	case c.StartSeq != majority.StartSeq:
		out.Proven = true
		out.Reason = fmt.Sprintf("start_seq %d differs from the majority's %d", c.StartSeq, majority.StartSeq)
	case c.LeafCount == majority.LeafCount:
		out.Proven = true
		out.Reason = "same leaf count, different root"
	case proof == ProofValid && c.LeafCount < majority.LeafCount:
		out.Kind, out.BehindBy = SyncDelay, majority.LeafCount-c.LeafCount
	case proof == ProofValid && c.LeafCount > majority.LeafCount:
		out.Kind, out.AheadBy = Ahead, c.LeafCount-majority.LeafCount
	case proof == ProofInvalid:
		out.Proven = true
		out.Reason = "consistency proof failed: the logs disagree on an earlier leaf"
	default:
		out.Reason = "no consistency proof available"
	}
	return out
}
