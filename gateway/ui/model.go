package ui

import (
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Snapshot is everything the dashboard shows, as of one chain height. It
// is GET /api/dashboard's answer.
type Snapshot struct {
	Height  int64       `json:"height"`
	Updated time.Time   `json:"updated"`
	Owner   string      `json:"owner"`
	Drives  []DriveView `json:"drives"`
	// Error is the last refresh's failure, if it failed (the rest is then
	// the last good state).
	Error string `json:"error,omitempty"`
}

// DriveView is one drive with its bucket's providers, checkpoints,
// conflicts and challenges.
type DriveView struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Bucket     core.BucketID       `json:"bucket"`
	Strategy   wire.CommitStrategy `json:"strategy"`
	RootCID    string              `json:"root_cid"`
	Quorum     uint32              `json:"quorum"`
	Pending    bool                `json:"pending"` // changes not yet checkpointed (this client)
	Latest     *CheckpointView     `json:"latest,omitempty"`
	LastResult string              `json:"last_result,omitempty"` // this client's last attempt: submitted, insufficient_consensus, ...
	LastError  string              `json:"last_error,omitempty"`
	AtRisk     int                 `json:"at_risk"` // providers at risk
	// Probed is the height of the last probe of the providers (0: none yet).
	Probed      int64            `json:"probed"`
	Providers   []ProviderView   `json:"providers"`
	Checkpoints []CheckpointView `json:"checkpoints"` // newest first
	Conflicts   []ConflictView   `json:"conflicts"`
	Challenges  []ChallengeView  `json:"challenges"` // newest first
}

// ProviderView is one provider of a drive's bucket.
type ProviderView struct {
	Account     core.AccountID `json:"account"`
	Endpoint    string         `json:"endpoint"`
	Role        wire.Role      `json:"role"`
	Stake       uint64         `json:"stake"`
	Status      string         `json:"status"`       // healthy, degraded, unreachable, unknown
	SuccessRate float64        `json:"success_rate"` // 0..1 over this client's requests
	LatencyMS   float64        `json:"latency_ms"`   // average, exponentially weighted
	LastError   string         `json:"last_error,omitempty"`
	// Leaves is the leaf count of the provider's last signed commitment
	// and Lag the on-chain checkpoint's leaf count minus it; both are
	// absent while unknown (no answer to the last probe).
	Leaves *uint64 `json:"leaves,omitempty"`
	Lag    *int64  `json:"lag,omitempty"`
	Class  string  `json:"class"` // agrees, sync_delay, ahead, data_divergence, late, no_answer, not_probed
	AtRisk bool    `json:"at_risk"`
	Risks  []Risk  `json:"risks"`
}

// CheckpointView is one on-chain checkpoint.
type CheckpointView struct {
	Height    int64    `json:"height"`
	Root      string   `json:"root"`
	StartSeq  uint64   `json:"start_seq"`
	LeafCount uint64   `json:"leaf_count"`
	Signers   []string `json:"signers"`
	// QuorumMS is the time from the start of collection to the
	// transaction's commit, known for checkpoints this process submitted.
	QuorumMS *float64 `json:"quorum_ms,omitempty"`
}

// ConflictView is one provider's class in the last probe, with the
// evidence that decided it.
type ConflictView struct {
	Provider  core.AccountID `json:"provider"`
	Class     string         `json:"class"`
	Root      string         `json:"root,omitempty"`
	LeafCount uint64         `json:"leaf_count"`
	Proof     string         `json:"proof"`
	Proven    bool           `json:"proven"`
}

// ChallengeView is one challenge against a provider of the bucket.
type ChallengeView struct {
	ID         core.ChallengeID `json:"id"`
	Provider   core.AccountID   `json:"provider"`
	Challenger core.AccountID   `json:"challenger"`
	State      string           `json:"state"` // open, answered, slashed, void
	LeafIndex  uint64           `json:"leaf_index"`
	Opened     int64            `json:"opened_height"`
	Deadline   int64            `json:"deadline"`
	BlocksLeft int64            `json:"blocks_left,omitempty"` // open only
	Closed     int64            `json:"closed_height,omitempty"`
	Outcome    string           `json:"outcome"`
}

// Event is what /api/events pushes: what changed and the height it was
// seen at. The page re-reads /api/dashboard on an event other than block.
type Event struct {
	Kind   string `json:"kind"` // block, checkpoint, health, challenge
	Height int64  `json:"height"`
	Drive  string `json:"drive,omitempty"`
}

// The event kinds.
const (
	EventBlock      = "block"
	EventCheckpoint = "checkpoint"
	EventHealth     = "health"
	EventChallenge  = "challenge"
)

// DriveSummary is one drive in GET /api/drives.
type DriveSummary struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Bucket   core.BucketID       `json:"bucket"`
	Strategy wire.CommitStrategy `json:"strategy"`
	RootCID  string              `json:"root_cid"`
	Pending  bool                `json:"pending"`
	Latest   *CheckpointView     `json:"latest,omitempty"`
	AtRisk   int                 `json:"at_risk"`
}

func (d *DriveView) summary() DriveSummary {
	return DriveSummary{ID: d.ID, Name: d.Name, Bucket: d.Bucket, Strategy: d.Strategy, RootCID: d.RootCID,
		Pending: d.Pending, Latest: d.Latest, AtRisk: d.AtRisk}
}
