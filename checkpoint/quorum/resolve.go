package quorum

import (
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// ResolutionKind is what the manager should do about the conflicts.
type ResolutionKind int

const (
	// ProceedWithMajority: the threshold is met; submit the majority state.
	ProceedWithMajority ResolutionKind = iota + 1
	// WaitForSync: the threshold is not met but the disagreement is only
	// lag; wait about EstimatedBlocks and collect again.
	WaitForSync
	// ConsiderChallenge: the threshold is met and Provider has provably
	// different data; submit with the majority and consider challenging it.
	ConsiderChallenge
	// ManualIntervention: nothing the manager can do on its own.
	ManualIntervention
)

func (k ResolutionKind) String() string {
	switch k {
	case ProceedWithMajority:
		return "proceed_with_majority"
	case WaitForSync:
		return "wait_for_sync"
	case ConsiderChallenge:
		return "consider_challenge"
	case ManualIntervention:
		return "manual_intervention"
	}
	return fmt.Sprintf("resolution(%d)", int(k))
}

// MarshalText gives the wire name.
func (k ResolutionKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the wire name.
func (k *ResolutionKind) UnmarshalText(b []byte) error {
	for c := ProceedWithMajority; c <= ManualIntervention; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown ResolutionKind %q", b)
}

// Resolution is the decision about a set of conflicts.
type Resolution struct {
	Kind            ResolutionKind `json:"kind"`
	EstimatedBlocks uint64         `json:"estimated_blocks,omitempty"` // WaitForSync
	Provider        core.AccountID `json:"provider,omitempty"`         // ConsiderChallenge
	Reason          string         `json:"reason,omitempty"`           // ManualIntervention
}

// Resolve decides what to do given the decision and its classified
// conflicts. leavesPerBlock estimates how fast a lagging provider catches
// up (≥ 1); the estimate is 1 + lag/leavesPerBlock blocks.
//
//   - threshold met, a proven divergence: ConsiderChallenge (the first
//     diverged provider in the order given);
//   - threshold met otherwise: ProceedWithMajority;
//   - threshold missed, every conflict is SyncDelay or Ahead: WaitForSync;
//   - threshold missed with any divergence, or no valid commitment at all:
//     ManualIntervention.
func Resolve(d Decision, conflicts []Conflict, leavesPerBlock uint64) Resolution {
	if leavesPerBlock == 0 {
		leavesPerBlock = 1
	}
	if d.Reached {
		for _, c := range conflicts {
			if c.Proven {
				return Resolution{Kind: ConsiderChallenge, Provider: c.Provider}
			}
		}
		return Resolution{Kind: ProceedWithMajority}
	}
	if d.Majority == nil {
		return Resolution{Kind: ManualIntervention, Reason: "no provider returned a valid commitment"}
	}
	var lag uint64
	for _, c := range conflicts {
		switch c.Kind {
		case SyncDelay:
			lag = max(lag, c.BehindBy)
		case Ahead:
			lag = max(lag, c.AheadBy)
		default:
			return Resolution{Kind: ManualIntervention, Reason: fmt.Sprintf(
				"only %d of %d required providers agree and provider %s diverged (%s)",
				d.Agreeing(), d.Required, c.Provider.Short(), c.Reason)}
		}
	}
	if lag == 0 {
		return Resolution{Kind: ManualIntervention, Reason: fmt.Sprintf(
			"only %d of %d required providers answered", d.Agreeing(), d.Required)}
	}
	return Resolution{Kind: WaitForSync, EstimatedBlocks: 1 + lag/leavesPerBlock}
}
