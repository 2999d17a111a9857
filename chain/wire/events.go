package wire

import "github.com/cairn-storage/cairn/core"

// TxResult is a transaction's outcome once it is in a committed block.
type TxResult struct {
	Hash    core.H256 `json:"hash"`
	Height  int64     `json:"height"`
	Code    uint32    `json:"code"`
	Log     string    `json:"log,omitempty"`
	Events  []Event   `json:"events"`
	GasUsed int64     `json:"gas_used"`
}

// Event is a typed event the chain emitted. Attributes are indexed by
// CometBFT (query them as "<type>.<key>='<value>'"). Height and TxHash say
// where it was emitted (TxHash zero for block-level events).
type Event struct {
	Type       string            `json:"type"`
	Attributes map[string]string `json:"attributes"`
	Height     int64             `json:"height,omitempty"`
	TxHash     core.H256         `json:"tx_hash,omitzero"`
}

// Event types. The attributes each carries are listed in docs/api.md;
// account ids and hashes are hex, ids and amounts decimal.
const (
	EventTx                  = "cairn.tx" // signer, nonce, call, fee: every executed tx, failed or not
	EventTransfer            = "transfer"
	EventStakeAdded          = "stake.added"
	EventStakeWithdrawn      = "stake.withdrawn"
	EventProviderRegistered  = "provider.registered"
	EventProviderUpdated     = "provider.updated"
	EventProviderSlashed     = "provider.slashed"
	EventBucketCreated       = "bucket.created"
	EventMemberSet           = "bucket.member_set"
	EventAgreementCreated    = "agreement.created"
	EventAgreementEnded      = "agreement.ended"
	EventCheckpointSubmitted = "checkpoint.submitted"
	EventChallengeOpened     = "challenge.opened"
	EventChallengeAnswered   = "challenge.answered"
	EventChallengeResolved   = "challenge.resolved"
	EventChallengeVoided     = "challenge.voided"
	EventWriterEquivocated   = "writer.equivocated"
	EventDriveCreated        = "drive.created"
	EventDriveRootUpdated    = "drive.root_updated"
	EventDriveStrategySet    = "drive.strategy_set"
	EventDriveShared         = "drive.shared"
	EventDriveUnshared       = "drive.unshared"
	EventDriveDeleted        = "drive.deleted"
	EventValidatorJoined     = "validator.joined"
	EventValidatorLeft       = "validator.left"
)
