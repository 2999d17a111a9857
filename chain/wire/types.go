package wire

import (
	"github.com/cairn-storage/cairn/core"
)

// Role is the role of a provider in a bucket: a primary accepts writes and
// signs checkpoints; a replica copies from the primaries.
type Role string

// The provider roles.
const (
	Primary Role = "primary"
	Replica Role = "replica"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == Primary || r == Replica }

// MemberRole is what a bucket member may do: an admin manages members and
// agreements and may write; a writer may write and submit checkpoints; a
// reader may read a private bucket.
type MemberRole string

// The member roles. The empty role, in SetMember, removes a member.
const (
	Admin  MemberRole = "admin"
	Writer MemberRole = "writer"
	Reader MemberRole = "reader"
)

// Valid reports whether r is one of the member roles.
func (r MemberRole) Valid() bool { return r == Admin || r == Writer || r == Reader }

// CanWrite reports whether the role may write to a bucket and submit its
// checkpoints.
func (r MemberRole) CanWrite() bool { return r == Admin || r == Writer }

// Provider is a registered storage provider. Its PublicKey is the key that
// signs its commitments; it is the provider's account key. Stake is the
// account's stake at the time of the query.
type Provider struct {
	Account          core.AccountID `json:"account"`
	Endpoint         string         `json:"endpoint"` // multiaddr or URL
	PublicKey        core.AccountID `json:"public_key"`
	Stake            uint64         `json:"stake"`
	Capacity         uint64         `json:"capacity"` // bytes offered
	Terms            ProviderTerms  `json:"terms"`
	RegisteredHeight int64          `json:"registered_height"`
}

// ProviderTerms are the terms a provider publishes on chain: an agreement
// that meets them binds the provider without a transaction of its own (its
// consent), and one that does not is refused. The zero value accepts
// nothing: a provider that published no terms is bound by no agreement.
type ProviderTerms struct {
	// Accepting is whether the provider takes new agreements at all.
	Accepting bool `json:"accepting"`
	// PricePerGiBBlock is the least payment per GiB of MaxBytes per block
	// of duration; an agreement must pay at least
	// ceil(max_bytes x duration x price / 2^30).
	PricePerGiBBlock uint64 `json:"price_per_gib_block"`
	// MaxDuration is the longest agreement in blocks (0: no limit).
	MaxDuration int64 `json:"max_duration"`
	// Roles the provider takes; empty means both primary and replica.
	Roles []Role `json:"roles,omitempty"`
}

// Member is one member of a bucket and its role.
type Member struct {
	Account core.AccountID `json:"account"`
	Role    MemberRole     `json:"role"`
}

// Bucket is a bucket: its owner (always an admin member), members, the
// number of distinct primary signatures a checkpoint needs (Quorum, never
// 0), the number of providers it asks for, and its latest checkpoint (nil
// before the first).
type Bucket struct {
	ID           core.BucketID  `json:"id"`
	Owner        core.AccountID `json:"owner"`
	Members      []Member       `json:"members"`
	Quorum       uint32         `json:"quorum"`
	MinProviders uint32         `json:"min_providers"`
	Latest       *Checkpoint    `json:"latest,omitempty"`
	// FormerWriters are accounts that held the admin or writer role and
	// lost it. Leaves they signed while they could write stay valid (a
	// challenge answer may carry their signature); they may not write new
	// ones, and providers take new writes only from current writers.
	FormerWriters []core.AccountID `json:"former_writers,omitempty"`
}

// LeafSigner reports whether a leaf signed by a stands in the bucket's
// log: a is a writer or admin now, or was one (FormerWriters).
func (b Bucket) LeafSigner(a core.AccountID) bool {
	if b.Role(a).CanWrite() {
		return true
	}
	for _, f := range b.FormerWriters {
		if f == a {
			return true
		}
	}
	return false
}

// Role returns a's role in the bucket, or "" if a is not a member.
func (b Bucket) Role(a core.AccountID) MemberRole {
	for _, m := range b.Members {
		if m.Account == a {
			return m.Role
		}
	}
	return ""
}

// Agreement is a storage agreement between a bucket and a provider. It is
// active while the chain's height is below ExpiryHeight; Active is computed
// at the height of the query. MaxBytes is the provider's write quota for the
// bucket: the provider enforces it. Payment was paid to the provider when
// the agreement was made.
type Agreement struct {
	Bucket       core.BucketID  `json:"bucket"`
	Provider     core.AccountID `json:"provider"`
	Role         Role           `json:"role"`
	MaxBytes     uint64         `json:"max_bytes"`
	ExpiryHeight int64          `json:"expiry_height"`
	Payment      uint64         `json:"payment"`
	Active       bool           `json:"active"`
}

// ActiveAt reports whether the agreement is in force at height h.
func (a *Agreement) ActiveAt(h int64) bool { return h < a.ExpiryHeight }

// Signature is a provider's signature over a commitment payload.
type Signature struct {
	Provider  core.AccountID `json:"provider"`
	Signature core.Signature `json:"signature"`
}

// Checkpoint is a checkpoint accepted on chain: the bucket's MMR root over
// leaves [StartSeq, StartSeq+LeafCount), the height of the block that
// accepted it, the distinct primaries whose signatures it carried, and the
// member who submitted it.
type Checkpoint struct {
	Bucket    core.BucketID    `json:"bucket"`
	MMRRoot   core.H256        `json:"mmr_root"`
	StartSeq  uint64           `json:"start_seq"`
	LeafCount uint64           `json:"leaf_count"`
	Height    int64            `json:"height"`
	Signers   []core.AccountID `json:"signers"`
	Submitter core.AccountID   `json:"submitter"`
}

// Commitment returns the commitment the checkpoint's signers signed.
func (c *Checkpoint) Commitment(chainID string) core.Commitment {
	return core.Commitment{ChainID: chainID, Bucket: c.Bucket, MMRRoot: c.MMRRoot, StartSeq: c.StartSeq, LeafCount: c.LeafCount}
}

// Challenge states.
const (
	ChallengeOpen     = "open"
	ChallengeAnswered = "answered"
	ChallengeSlashed  = "slashed"
	// ChallengeVoid: the bucket's admin ended the agreement while the
	// challenge was open; the deposit went back, nobody was slashed.
	ChallengeVoid = "void"
)

// Challenge asks Provider to prove it holds leaf LeafIndex (counted from
// StartSeq, so the leaf's seq is StartSeq+LeafIndex) under the commitment
// (MMRRoot, StartSeq, LeafCount) it signed. It must answer at a height <=
// Deadline. Deposit is the challenger's stake in the challenge: returned if
// the provider fails or the challenge is voided (the bucket's admin ended
// the agreement), paid to the provider if it answers.
type Challenge struct {
	ID           core.ChallengeID `json:"id"`
	Bucket       core.BucketID    `json:"bucket"`
	Provider     core.AccountID   `json:"provider"`
	Challenger   core.AccountID   `json:"challenger"`
	MMRRoot      core.H256        `json:"mmr_root"`
	StartSeq     uint64           `json:"start_seq"`
	LeafCount    uint64           `json:"leaf_count"`
	LeafIndex    uint64           `json:"leaf_index"`
	Deadline     int64            `json:"deadline"`
	Deposit      uint64           `json:"deposit"`
	State        string           `json:"state"` // open | answered | slashed | void
	OpenedHeight int64            `json:"opened_height"`
	// ClosedHeight is the height at which the challenge was answered,
	// slashed or voided; 0 while open.
	ClosedHeight int64 `json:"closed_height,omitempty"`
	// Slashed is the amount taken from the provider's stake (state slashed).
	Slashed uint64 `json:"slashed,omitempty"`
}

// Equivocation is a recorded report_equivocation: two different leaves at
// one seq of a bucket's log, each signed by an account that is or was a
// writer of the bucket. It is the writers' fault, not a provider's.
type Equivocation struct {
	Bucket   core.BucketID   `json:"bucket"`
	Seq      uint64          `json:"seq"`
	A        core.SignedLeaf `json:"a"`
	B        core.SignedLeaf `json:"b"`
	Reporter core.AccountID  `json:"reporter"`
	Height   int64           `json:"height"`
}

// Commit strategy kinds.
const (
	StrategyImmediate = "immediate"
	StrategyBatched   = "batched"
	StrategyManual    = "manual"
)

// CommitStrategy says when a drive's changes are checkpointed: after each
// change, every Interval blocks, or only when asked.
type CommitStrategy struct {
	Kind     string `json:"kind"`               // immediate | batched | manual
	Interval uint64 `json:"interval,omitempty"` // blocks; batched only
}

// Valid reports whether s is a well-formed strategy.
func (s CommitStrategy) Valid() bool {
	switch s.Kind {
	case StrategyImmediate, StrategyManual:
		return s.Interval == 0
	case StrategyBatched:
		return s.Interval > 0
	}
	return false
}

// Drive is a file system on a bucket. RootCID names the root directory
// node; it is empty until the first checkpoint that carries a root update,
// and it moves only with a checkpoint (SubmitCheckpoint.DriveRoot).
type Drive struct {
	ID                  core.DriveID   `json:"id"`
	Owner               core.AccountID `json:"owner"`
	Bucket              core.BucketID  `json:"bucket"`
	Name                string         `json:"name"`
	RootCID             string         `json:"root_cid"`
	Strategy            CommitStrategy `json:"strategy"`
	LastCommittedHeight int64          `json:"last_committed_height"`
	SharedWith          []Member       `json:"shared_with"`
}

// Account is an account's balance, stake and next nonce (the number of
// transactions it has had executed).
type Account struct {
	ID      core.AccountID `json:"id"`
	Balance uint64         `json:"balance"`
	Stake   uint64         `json:"stake"`
	Nonce   uint64         `json:"nonce"`
}

// Params are the chain's parameters, fixed at genesis.
type Params struct {
	// ChallengeDeadline is how many blocks a provider has to answer a
	// challenge: it must answer at a height <= opened height + this.
	ChallengeDeadline int64 `json:"challenge_deadline_blocks"`
	// SlashFractionBps is the part of the provider's stake an unanswered
	// challenge takes, in basis points (1000 = 10 %), rounded down.
	SlashFractionBps uint64 `json:"slash_fraction_bps"`
	// ChallengerRewardBps is the part of the slashed amount paid to the
	// challenger, in basis points (5000 = half), rounded down; the rest is
	// burned.
	ChallengerRewardBps uint64 `json:"challenger_reward_bps"`
	// MinProviderStake is the least stake a registered provider holds.
	MinProviderStake uint64 `json:"min_provider_stake"`
	// MinChallengeDeposit is the least deposit a challenge carries.
	MinChallengeDeposit uint64 `json:"min_challenge_deposit"`
	// TxFeeBase and TxFeePerKiB price a transaction: base x the call's
	// weight (docs/chain.md, "Fees") plus per KiB of the transaction's
	// bytes, rounded up. The fee is burned whether the call succeeds or
	// fails; a signer that cannot pay it has its transaction refused
	// with no state change.
	TxFeeBase   uint64 `json:"tx_fee_base"`
	TxFeePerKiB uint64 `json:"tx_fee_per_kib"`
}

// DefaultParams are the dev chain's parameters.
func DefaultParams() Params {
	return Params{
		ChallengeDeadline:   20,
		SlashFractionBps:    1000,
		ChallengerRewardBps: 5000,
		MinProviderStake:    1_000_000,
		MinChallengeDeposit: 1_000,
		TxFeeBase:           10,
		TxFeePerKiB:         1,
	}
}

// Validate checks that p is usable.
func (p Params) Validate() error {
	const op = "wire.Params"
	switch {
	case p.ChallengeDeadline < 1:
		return core.Errorf(op, core.Invalid, "challenge deadline must be >= 1 block, got %d", p.ChallengeDeadline)
	case p.SlashFractionBps > 10000:
		return core.Errorf(op, core.Invalid, "slash fraction %d bps above 10000", p.SlashFractionBps)
	case p.ChallengerRewardBps > 10000:
		return core.Errorf(op, core.Invalid, "challenger reward %d bps above 10000", p.ChallengerRewardBps)
	}
	return nil
}

// NextNonce is the answer to the nonce query: the nonce the account's next
// transaction must carry, counting transactions still in the node's
// mempool, and the nonce of the last committed state.
type NextNonce struct {
	Account   core.AccountID `json:"account"`
	Next      uint64         `json:"next"`
	Committed uint64         `json:"committed"`
}

// Status is the answer to the status query.
type Status struct {
	ChainID string    `json:"chain_id"`
	Height  int64     `json:"height"`
	AppHash core.H256 `json:"app_hash"`
	Params  Params    `json:"params"`
}
