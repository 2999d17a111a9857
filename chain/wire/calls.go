package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Call is one state-changing operation; a transaction carries exactly one.
// CallName is the call's tag in the transaction's JSON ("submit_checkpoint").
type Call interface {
	CallName() string
}

// RegisterProvider registers the signer as a provider, moving Stake from
// its balance to its stake (at least Params.MinProviderStake in all).
type RegisterProvider struct {
	Endpoint string        `json:"endpoint"`
	Stake    uint64        `json:"stake"`
	Capacity uint64        `json:"capacity"`
	Terms    ProviderTerms `json:"terms"`
}

// UpdateProvider changes the signer's provider endpoint, capacity and
// terms.
type UpdateProvider struct {
	Endpoint string        `json:"endpoint"`
	Capacity uint64        `json:"capacity"`
	Terms    ProviderTerms `json:"terms"`
}

// AddStake moves Amount from the signer's balance to its stake.
type AddStake struct {
	Amount uint64 `json:"amount"`
}

// WithdrawStake moves Amount from the signer's stake to its balance. A
// registered provider keeps at least Params.MinProviderStake and cannot
// withdraw while a challenge against it is open.
type WithdrawStake struct {
	Amount uint64 `json:"amount"`
}

// Transfer moves Amount from the signer's balance to To.
type Transfer struct {
	To     core.AccountID `json:"to"`
	Amount uint64         `json:"amount"`
}

// CreateBucket creates a bucket owned by the signer, who becomes an admin
// member. Quorum must be >= 1.
type CreateBucket struct {
	Quorum       uint32   `json:"quorum"`
	MinProviders uint32   `json:"min_providers"`
	Members      []Member `json:"members,omitempty"`
}

// SetMember adds, changes or (Role "") removes a bucket member. The signer
// must be an admin; the owner's role cannot change.
type SetMember struct {
	Bucket core.BucketID `json:"bucket"`
	Member Member        `json:"member"`
}

// CreateAgreement makes an agreement between a bucket (the signer must be
// its admin) and a registered provider, for Duration blocks from the
// current height. Payment moves from the signer's balance to the provider's
// at once.
type CreateAgreement struct {
	Bucket   core.BucketID  `json:"bucket"`
	Provider core.AccountID `json:"provider"`
	Role     Role           `json:"role"`
	MaxBytes uint64         `json:"max_bytes"`
	Duration int64          `json:"duration"`
	Payment  uint64         `json:"payment"`
}

// EndAgreement ends an agreement at once; the bucket's admin or the
// provider may end it. Payment is not refunded.
type EndAgreement struct {
	Bucket   core.BucketID  `json:"bucket"`
	Provider core.AccountID `json:"provider"`
}

// SubmitCheckpoint records a checkpoint of a bucket signed by a quorum of
// its active primaries. Consistency is required when the bucket has a
// previous checkpoint with the same StartSeq and fewer leaves; DriveRoot
// optionally moves the root CID of the bucket's drive in the same step.
type SubmitCheckpoint struct {
	Bucket      core.BucketID         `json:"bucket"`
	MMRRoot     core.H256             `json:"mmr_root"`
	StartSeq    uint64                `json:"start_seq"`
	LeafCount   uint64                `json:"leaf_count"`
	Signatures  []Signature           `json:"signatures"`
	Consistency *mmr.ConsistencyProof `json:"consistency,omitempty"`
	DriveRoot   *DriveRootUpdate      `json:"drive_root,omitempty"`
}

// DriveRootUpdate moves a drive's root CID with a checkpoint. Leaf is the
// write-log leaf of the root directory's blob, at MMR leaf index LeafIndex
// (so Leaf.Seq == StartSeq+LeafIndex), and Proof shows
// mmr.LeafHash(Leaf.Bytes()) is that leaf under the checkpoint's root. The
// CID (CIDv1, sha2-256) must name the same bytes: its digest equals
// Leaf.ContentHash.
type DriveRootUpdate struct {
	Drive     core.DriveID       `json:"drive"`
	RootCID   string             `json:"root_cid"`
	Leaf      core.Leaf          `json:"leaf"`
	LeafIndex uint64             `json:"leaf_index"`
	Proof     mmr.InclusionProof `json:"proof"`
}

// ChallengeEvidence is the commitment a challenge holds a provider to:
// either the bucket's latest on-chain checkpoint (which the provider must
// have signed), or a commitment the provider signed off chain.
type ChallengeEvidence struct {
	FromCheckpoint bool                   `json:"from_checkpoint,omitempty"`
	Commitment     *core.SignedCommitment `json:"commitment,omitempty"`
}

// OpenChallenge challenges Provider to prove it holds leaf LeafIndex of
// the commitment in Evidence. Deposit (>= Params.MinChallengeDeposit) moves
// from the signer's balance into the challenge.
type OpenChallenge struct {
	Provider  core.AccountID    `json:"provider"`
	Bucket    core.BucketID     `json:"bucket"`
	LeafIndex uint64            `json:"leaf_index"`
	Evidence  ChallengeEvidence `json:"evidence"`
	Deposit   uint64            `json:"deposit"`
}

// RespondChallenge answers a challenge (the signer must be the challenged
// provider) with the leaf and its writer's signature, the whole blob it
// names, and an inclusion proof against the challenged root. The chain
// checks SHA-256(Data) == Leaf.ContentHash, len(Data) == Leaf.Size,
// Leaf.Seq == StartSeq + LeafIndex, and that a writer of the bucket signed
// the leaf (core.SignedLeaf.Verify).
type RespondChallenge struct {
	Challenge core.ChallengeID   `json:"challenge"`
	Leaf      core.SignedLeaf    `json:"leaf"`
	Data      []byte             `json:"data"`
	Proof     mmr.InclusionProof `json:"proof"`
}

// ReportEquivocation records that a writer of Bucket signed two different
// leaves at one seq (A.Seq == B.Seq, A.Leaf != B.Leaf, each signature
// valid and by an account that is or was a writer of the bucket). It is
// the writer's fault, not a provider's: providers whose logs differ there
// are not slashable for it. Anyone may send it; a seq already recorded is
// refused (kind exists).
type ReportEquivocation struct {
	Bucket core.BucketID   `json:"bucket"`
	A      core.SignedLeaf `json:"a"`
	B      core.SignedLeaf `json:"b"`
}

// ResolveChallenge slashes the provider of an open challenge whose
// deadline has passed. Anyone may send it.
type ResolveChallenge struct {
	Challenge core.ChallengeID `json:"challenge"`
}

// CreateDrive creates, in one step, a bucket owned by the signer, a
// Primary agreement with each of Providers, a Replica agreement with each
// of Replicas (each paid Payment, for Duration blocks, quota MaxBytes), and
// a drive on that bucket. Quorum 0 means ceil(len(Providers)*51/100).
type CreateDrive struct {
	Name      string           `json:"name"`
	Providers []core.AccountID `json:"providers"`
	Replicas  []core.AccountID `json:"replicas,omitempty"`
	Quorum    uint32           `json:"quorum,omitempty"`
	MaxBytes  uint64           `json:"max_bytes"`
	Duration  int64            `json:"duration"`
	Payment   uint64           `json:"payment"`
	Strategy  CommitStrategy   `json:"strategy"`
}

// SetCommitStrategy changes a drive's commit strategy (owner only).
type SetCommitStrategy struct {
	Drive    core.DriveID   `json:"drive"`
	Strategy CommitStrategy `json:"strategy"`
}

// ShareDrive gives Member's account Member's role on the drive and on its
// bucket (owner only).
type ShareDrive struct {
	Drive  core.DriveID `json:"drive"`
	Member Member       `json:"member"`
}

// UnshareDrive removes Account from the drive and its bucket (owner only).
type UnshareDrive struct {
	Drive   core.DriveID   `json:"drive"`
	Account core.AccountID `json:"account"`
}

// DeleteDrive deletes the drive record (owner only). The bucket and its
// agreements stay until they expire or are ended.
type DeleteDrive struct {
	Drive core.DriveID `json:"drive"`
}

// JoinValidator makes PubKey (a CometBFT ed25519 consensus key) a
// validator, moving Stake from the signer's balance into its bond. Its
// voting power is Stake / ValidatorPowerUnit (at least 1). Proof is
// PubKey's signature over ValidatorProofPayload(chain id, signer). A key
// that is or was a validator is refused.
type JoinValidator struct {
	PubKey ValidatorKey   `json:"pub_key"`
	Stake  uint64         `json:"stake"`
	Proof  core.Signature `json:"proof"`
}

// LeaveValidator removes the signer's validator PubKey from the set and
// returns its bond to the signer's balance. The last validator cannot
// leave.
type LeaveValidator struct {
	PubKey ValidatorKey `json:"pub_key"`
}

// Call names, the "type" tags of the JSON union.
func (RegisterProvider) CallName() string   { return "register_provider" }
func (UpdateProvider) CallName() string     { return "update_provider" }
func (AddStake) CallName() string           { return "add_stake" }
func (WithdrawStake) CallName() string      { return "withdraw_stake" }
func (Transfer) CallName() string           { return "transfer" }
func (CreateBucket) CallName() string       { return "create_bucket" }
func (SetMember) CallName() string          { return "set_member" }
func (CreateAgreement) CallName() string    { return "create_agreement" }
func (EndAgreement) CallName() string       { return "end_agreement" }
func (SubmitCheckpoint) CallName() string   { return "submit_checkpoint" }
func (OpenChallenge) CallName() string      { return "open_challenge" }
func (RespondChallenge) CallName() string   { return "respond_challenge" }
func (ResolveChallenge) CallName() string   { return "resolve_challenge" }
func (ReportEquivocation) CallName() string { return "report_equivocation" }
func (CreateDrive) CallName() string        { return "create_drive" }
func (SetCommitStrategy) CallName() string  { return "set_commit_strategy" }
func (ShareDrive) CallName() string         { return "share_drive" }
func (UnshareDrive) CallName() string       { return "unshare_drive" }
func (DeleteDrive) CallName() string        { return "delete_drive" }
func (JoinValidator) CallName() string      { return "join_validator" }
func (LeaveValidator) CallName() string     { return "leave_validator" }

// CallNames lists every call's name, in documentation order.
var CallNames = []string{
	"register_provider", "update_provider", "add_stake", "withdraw_stake", "transfer",
	"create_bucket", "set_member", "create_agreement", "end_agreement",
	"submit_checkpoint", "open_challenge", "respond_challenge", "resolve_challenge", "report_equivocation",
	"create_drive", "set_commit_strategy", "share_drive", "unshare_drive", "delete_drive",
	"join_validator", "leave_validator",
}

// newCall returns a pointer to a zero call of the given name.
func newCall(name string) (Call, bool) {
	switch name {
	case "register_provider":
		return &RegisterProvider{}, true
	case "update_provider":
		return &UpdateProvider{}, true
	case "add_stake":
		return &AddStake{}, true
	case "withdraw_stake":
		return &WithdrawStake{}, true
	case "transfer":
		return &Transfer{}, true
	case "create_bucket":
		return &CreateBucket{}, true
	case "set_member":
		return &SetMember{}, true
	case "create_agreement":
		return &CreateAgreement{}, true
	case "end_agreement":
		return &EndAgreement{}, true
	case "submit_checkpoint":
		return &SubmitCheckpoint{}, true
	case "open_challenge":
		return &OpenChallenge{}, true
	case "respond_challenge":
		return &RespondChallenge{}, true
	case "resolve_challenge":
		return &ResolveChallenge{}, true
	case "report_equivocation":
		return &ReportEquivocation{}, true
	case "create_drive":
		return &CreateDrive{}, true
	case "set_commit_strategy":
		return &SetCommitStrategy{}, true
	case "share_drive":
		return &ShareDrive{}, true
	case "unshare_drive":
		return &UnshareDrive{}, true
	case "delete_drive":
		return &DeleteDrive{}, true
	case "join_validator":
		return &JoinValidator{}, true
	case "leave_validator":
		return &LeaveValidator{}, true
	}
	return nil, false
}

// callJSON is the tagged union: {"type": name, "value": {...}}.
type callJSON struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// MarshalCall encodes c as the tagged JSON union.
func MarshalCall(c Call) ([]byte, error) {
	if c == nil {
		return nil, core.Errorf("wire.MarshalCall", core.Invalid, "no call")
	}
	if _, ok := newCall(c.CallName()); !ok {
		return nil, core.Errorf("wire.MarshalCall", core.Invalid, "unknown call %q", c.CallName())
	}
	v, err := json.Marshal(c)
	if err != nil {
		return nil, core.E("wire.MarshalCall", core.Invalid, err)
	}
	return json.Marshal(callJSON{Type: c.CallName(), Value: v})
}

// UnmarshalCall decodes the tagged JSON union. The call comes back as a
// value (wire.Transfer, not *wire.Transfer). Unknown names are refused with
// ErrUnknownCall; unknown fields and trailing data with core.Invalid.
func UnmarshalCall(b []byte) (Call, error) {
	const op = "wire.UnmarshalCall"
	var u callJSON
	if err := strictUnmarshal(b, &u); err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	return u.call()
}

// call decodes the union's value as the call its type names.
func (u callJSON) call() (Call, error) {
	const op = "wire.UnmarshalCall"
	p, ok := newCall(u.Type)
	if !ok {
		return nil, core.E(op, core.Invalid, fmt.Errorf("%w %q", ErrUnknownCall, u.Type))
	}
	if len(u.Value) == 0 {
		return nil, core.Errorf(op, core.Invalid, "call %s has no value", u.Type)
	}
	if err := strictUnmarshal(u.Value, p); err != nil {
		return nil, core.E(op, core.Invalid, fmt.Errorf("call %s: %w", u.Type, err))
	}
	return deref(p), nil
}

// deref turns the pointer newCall made back into a value.
func deref(c Call) Call {
	switch v := c.(type) {
	case *RegisterProvider:
		return *v
	case *UpdateProvider:
		return *v
	case *AddStake:
		return *v
	case *WithdrawStake:
		return *v
	case *Transfer:
		return *v
	case *CreateBucket:
		return *v
	case *SetMember:
		return *v
	case *CreateAgreement:
		return *v
	case *EndAgreement:
		return *v
	case *SubmitCheckpoint:
		return *v
	case *OpenChallenge:
		return *v
	case *RespondChallenge:
		return *v
	case *ResolveChallenge:
		return *v
	case *ReportEquivocation:
		return *v
	case *CreateDrive:
		return *v
	case *SetCommitStrategy:
		return *v
	case *ShareDrive:
		return *v
	case *UnshareDrive:
		return *v
	case *DeleteDrive:
		return *v
	case *JoinValidator:
		return *v
	case *LeaveValidator:
		return *v
	}
	return c
}

// strictUnmarshal decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	var extra json.RawMessage
	if err := d.Decode(&extra); err != io.EOF {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}
