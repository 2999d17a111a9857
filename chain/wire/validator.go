package wire

import (
	"github.com/cairn-storage/cairn/core"
)

// ValidatorKey is a validator's CometBFT consensus public key (ed25519),
// written as 64 hex digits in JSON. It is not an account: the account
// that bonds the stake (the operator) signs the transactions.
type ValidatorKey [32]byte

func (k ValidatorKey) String() string { return core.AccountID(k).String() }

// Short is the first 8 hex digits, for logs and messages.
func (k ValidatorKey) Short() string { return core.AccountID(k).Short() }

func (k ValidatorKey) MarshalText() ([]byte, error) { return core.AccountID(k).MarshalText() }

func (k *ValidatorKey) UnmarshalText(b []byte) error {
	return (*core.AccountID)(k).UnmarshalText(b)
}

// ParseValidatorKey parses 64 hex digits.
func ParseValidatorKey(s string) (ValidatorKey, error) {
	a, err := core.ParseAccountID(s)
	return ValidatorKey(a), err
}

// ValidatorPowerUnit is the stake one unit of consensus voting power
// takes: a validator's power is floor(stake / ValidatorPowerUnit), so the
// least bond is one unit. Genesis validators keep the power the genesis
// gives them (10 in `cairn chain testnet`, i.e. a bond of 10 units).
const ValidatorPowerUnit = 1_000_000

// MaxValidators bounds the active validator set, which also bounds the
// total voting power far below CometBFT's limit (2^60).
const MaxValidators = 100

// validatorProofDomain separates a validator key's proof of possession
// from every other signed payload.
const validatorProofDomain = "cairn/validator/v1\x00"

// ValidatorProofPayload is what a consensus key signs to join as a
// validator for operator on chainID: domain, chain id length (1 byte) and
// bytes, operator (32 bytes). It proves the operator holds the key, so
// nobody can bond someone else's key.
func ValidatorProofPayload(chainID string, operator core.AccountID) []byte {
	b := make([]byte, 0, len(validatorProofDomain)+1+len(chainID)+len(operator))
	b = append(b, validatorProofDomain...)
	b = append(b, byte(len(chainID)))
	b = append(b, chainID...)
	return append(b, operator[:]...)
}

// Validator is one member of the validator set as the chain records it.
type Validator struct {
	PubKey ValidatorKey `json:"pub_key"`
	// Operator bonded the stake and may unbond it; zero for a genesis
	// validator, which no transaction can remove.
	Operator core.AccountID `json:"operator,omitzero"`
	// Stake is the bond (0 for a genesis validator).
	Stake uint64 `json:"stake"`
	// Power is the voting power CometBFT gives it; 0 once it left.
	Power        int64 `json:"power"`
	JoinedHeight int64 `json:"joined_height"`
	// LeftHeight is the height of its leave_validator (0 while active).
	LeftHeight int64 `json:"left_height,omitempty"`
}
