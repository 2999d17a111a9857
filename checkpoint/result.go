package checkpoint

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint/quorum"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// ResultKind names the variants of the reference's CheckpointResult.
type ResultKind int

const (
	// Submitted: the checkpoint is on chain (or already was).
	Submitted ResultKind = iota + 1
	// InsufficientConsensus: fewer providers agreed than required.
	InsufficientConsensus
	// ProvidersUnreachable: no provider gave a valid answer.
	ProvidersUnreachable
	// NoProviders: the bucket has no active primary.
	NoProviders
	// TransactionFailed: the chain refused the transaction or could not be
	// reached.
	TransactionFailed
)

func (k ResultKind) String() string {
	switch k {
	case Submitted:
		return "submitted"
	case InsufficientConsensus:
		return "insufficient_consensus"
	case ProvidersUnreachable:
		return "providers_unreachable"
	case NoProviders:
		return "no_providers"
	case TransactionFailed:
		return "transaction_failed"
	}
	return fmt.Sprintf("result(%d)", int(k))
}

// MarshalText gives the wire name.
func (k ResultKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the wire name (for persisted results).
func (k *ResultKind) UnmarshalText(b []byte) error {
	for c := Submitted; c <= TransactionFailed; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return core.Errorf("checkpoint.ResultKind", core.Invalid, "unknown result %q", b)
}

// Disagreement is a provider whose valid commitment differs from the
// majority's.
type Disagreement struct {
	Provider  core.AccountID `json:"provider"`
	Root      core.H256      `json:"root"`
	LeafCount uint64         `json:"leaf_count"`
	StartSeq  uint64         `json:"start_seq"`
}

// Result is one checkpoint attempt's outcome. Kind says which fields are
// meaningful, as the reference's enum variants did.
type Result struct {
	Kind   ResultKind    `json:"kind"`
	Bucket core.BucketID `json:"bucket"`

	// Submitted
	BlockHash      string           `json:"block_hash,omitempty"` // the block that included the checkpoint (when the chain client can say)
	TxHash         string           `json:"tx_hash,omitempty"`
	Height         int64            `json:"height,omitempty"`
	Signers        []core.AccountID `json:"signers,omitempty"`
	MMRRoot        core.H256        `json:"mmr_root"`
	StartSeq       uint64           `json:"start_seq"`
	LeafCount      uint64           `json:"leaf_count"`
	AlreadyOnChain bool             `json:"already_on_chain,omitempty"` // nothing new: the chain already had this state
	DriveRoot      string           `json:"drive_root,omitempty"`       // the root CID moved with this checkpoint

	// InsufficientConsensus
	Agreeing      int            `json:"agreeing,omitempty"`
	Required      int            `json:"required,omitempty"`
	Disagreements []Disagreement `json:"disagreements,omitempty"`

	// ProvidersUnreachable (and the unreachable ones of any result)
	Unreachable []core.AccountID `json:"unreachable,omitempty"`

	// Cause is why the attempt failed, with its core.Kind: for
	// TransactionFailed the chain's refusal or the step that failed, for
	// the other failures the error Err returns. In JSON it is "error" (the
	// message) and "error_kind"; a persisted result loads back with both.
	Cause error `json:"-"`

	// Conflict is the conflict analysis, when any provider disagreed.
	Conflict *ProviderConflict `json:"conflict,omitempty"`
	Duration time.Duration     `json:"duration_ns"`
	Attempt  time.Time         `json:"attempt"`

	// commitments are the verified signed commitments this attempt
	// collected, by provider: a challenge of a divergent provider holds
	// it to its own (never persisted; only the attempt that collected
	// them can use them).
	commitments map[core.AccountID]core.SignedCommitment
}

// Err returns nil for Submitted and otherwise an error whose core.Kind
// says what failed (errors.Is(err, core.NoQuorum), CLI exit codes): the
// Cause when there is one, so a chain refusal keeps its own kind.
func (r *Result) Err() error {
	if r.Kind == Submitted {
		return nil
	}
	if r.Cause != nil {
		return r.Cause
	}
	return r.derivedErr()
}

// derivedErr is the error of a failure that has no Cause of its own.
func (r *Result) derivedErr() error {
	const op = "checkpoint.Submit"
	switch r.Kind {
	case InsufficientConsensus:
		return core.Errorf(op, core.NoQuorum, "bucket %s: only %d of %d required providers agree", r.Bucket, r.Agreeing, r.Required)
	case ProvidersUnreachable:
		return core.Errorf(op, core.Unavailable, "bucket %s: all %d providers unreachable", r.Bucket, len(r.Unreachable))
	case NoProviders:
		return core.Errorf(op, core.NotFound, "bucket %s has no active primary provider", r.Bucket)
	case TransactionFailed:
		return core.Errorf(op, core.Unavailable, "bucket %s: checkpoint transaction failed", r.Bucket)
	}
	return core.Errorf(op, core.Internal, "unknown result")
}

// MarshalJSON writes Cause as "error" (its message) and "error_kind".
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		Error     string `json:"error,omitempty"`
		ErrorKind string `json:"error_kind,omitempty"`
	}{plain: plain(r)}
	if r.Cause != nil {
		out.Error, out.ErrorKind = r.Cause.Error(), core.KindOf(r.Cause).String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a result MarshalJSON wrote, its Cause rebuilt with
// the same message and kind. (A result persisted before error_kind
// existed loads a TransactionFailed cause as unavailable, as it was then
// reported.)
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	var in struct {
		plain
		Error     string `json:"error"`
		ErrorKind string `json:"error_kind"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Result(in.plain)
	if in.Error != "" {
		k := core.ParseKind(in.ErrorKind)
		if in.ErrorKind == "" && r.Kind == TransactionFailed {
			k = core.Unavailable
		}
		r.Cause = &loadedError{msg: in.Error, kind: core.E("", k, nil)}
	}
	return nil
}

// loadedError is an error read back from JSON: its message as it was
// printed, and its kind for errors.Is and core.KindOf.
type loadedError struct {
	msg  string
	kind *core.Error
}

func (e *loadedError) Error() string { return e.msg }
func (e *loadedError) Unwrap() error { return e.kind }

// kindOr is err's kind, or def when err carries none.
func kindOr(err error, def core.Kind) core.Kind {
	if k := core.KindOf(err); k != core.Other {
		return k
	}
	return def
}

// CommitmentCollection is what one round of collection gathered.
type CommitmentCollection struct {
	Bucket    core.BucketID `json:"bucket"`
	MMRRoot   core.H256     `json:"mmr_root"`
	StartSeq  uint64        `json:"start_seq"`
	LeafCount uint64        `json:"leaf_count"`
	// Signatures of the agreeing providers, sorted by provider.
	Signatures  []wire.Signature `json:"signatures"`
	Agreeing    []core.AccountID `json:"agreeing"`
	Disagreeing []Disagreement   `json:"disagreeing"`
	Unreachable []core.AccountID `json:"unreachable"`
	// Invalid are providers whose answer failed verification (bad
	// signature, wrong bucket or chain): never counted, and marked.
	Invalid []core.AccountID `json:"invalid"`
	// Cancelled are providers still pending when early quorum closed the
	// round; they count in the total but are not held against their
	// health (a probe records its own outcome when it ends).
	Cancelled []core.AccountID `json:"cancelled"`
	// Probed are providers the pool knew did not answer: each was sent one
	// probe bounded by ProbeTimeout and not waited for once the others
	// reached the threshold.
	Probed   []core.AccountID `json:"probed,omitempty"`
	Total    int              `json:"total"`
	Required int              `json:"required"`
	Reached  bool             `json:"reached"`
	Duration time.Duration    `json:"duration_ns"`

	decision    quorum.Decision
	commitments map[core.AccountID]core.SignedCommitment
}

// ProviderConflict is the reference's conflict report: the majority, each
// disagreeing provider classified, and the resolution.
type ProviderConflict struct {
	MajorityRoot  core.H256         `json:"majority_root"`
	MajorityCount int               `json:"majority_count"`
	LeafCount     uint64            `json:"leaf_count"`
	Conflicts     []quorum.Conflict `json:"conflicts"`
	Resolution    quorum.Resolution `json:"resolution"`
}

// The pool's types under the names the manager's API has always used: a
// bucket's primary with its health, and the health record itself (one per
// provider, kept by the providers.Pool).
type (
	ProviderInfo   = providers.Info
	ProviderHealth = providers.Ranked
	HealthHistory  = providers.Health
	ProviderStatus = providers.Status
)

// A provider's health as seen from this client (providers.Status).
const (
	StatusUnknown     = providers.StatusUnknown
	StatusHealthy     = providers.StatusHealthy
	StatusDegraded    = providers.StatusDegraded
	StatusUnreachable = providers.StatusUnreachable
)

// BucketCheckpointStatus is CheckpointStatus's answer.
type BucketCheckpointStatus struct {
	Bucket               core.BucketID    `json:"bucket"`
	LastCheckpoint       *wire.Checkpoint `json:"last_checkpoint,omitempty"`
	LastCheckpointHeight int64            `json:"last_checkpoint_height"`
	HasPendingChanges    bool             `json:"has_pending_changes"`
	PendingRoot          *PendingRoot     `json:"pending_root,omitempty"`
	LastResult           *Result          `json:"last_result,omitempty"`
	ProviderHealth       []ProviderHealth `json:"provider_health"`
}
