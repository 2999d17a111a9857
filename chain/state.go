package chain

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Key layout. Integers are 8 bytes big-endian, accounts 32 raw bytes, so
// keys sort by id. Values are JSON, but for the hot records of records.go.
const (
	keyChainID     = "cfg/chain_id"
	keyParams      = "cfg/params"
	keySeqBucket   = "seq/bucket"
	keySeqDrive    = "seq/drive"
	keySeqChalleng = "seq/challenge"

	pAccount     = "acct/"  // + account -> wire.Account (binary, records.go)
	pProvider    = "prov/"  // + account -> providerRecord
	pBucket      = "bkt/"   // + bucket -> wire.Bucket (binary, records.go)
	pAgreement   = "agr/"   // + bucket + provider -> agreementRecord (binary, records.go)
	pProvAgr     = "agrp/"  // + provider -> provIndex (its agreements)
	pCheckpoint  = "cp/"    // + bucket + index -> wire.Checkpoint (binary, records.go)
	pCPCount     = "cpn/"   // + bucket -> u64 count
	pChallenge   = "chal/"  // + id -> wire.Challenge
	pChalByProv  = "chalp/" // + provider + id -> ""
	pChalByBkt   = "chalb/" // + bucket + id -> ""
	pChalByState = "chals/" // + state + "/" + id -> ""
	pChalByPS    = "chalq/" // + provider + state + "/" + id -> ""
	pOpenChal    = "open/"  // + provider -> u64 open challenges
	pOpenBkt     = "openb/" // + bucket + provider -> []ChallengeID open against it there
	pEquivoc     = "equiv/" // + bucket + seq -> wire.Equivocation
	pDrive       = "drv/"   // + drive -> wire.Drive
	pDriveOwner  = "drvo/"  // + owner + drive -> ""

	// Not part of the hashed state: written at Commit.
	keyMetaHeight  = "meta/height"
	keyMetaAppHash = "meta/app_hash"
)

func u64(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return string(b[:])
}

func acctKey(p string, a core.AccountID) string { return p + string(a[:]) }

// providerRecord is what the chain stores of a provider; the stake lives
// in the account.
type providerRecord struct {
	Endpoint         string             `json:"endpoint"`
	Capacity         uint64             `json:"capacity"`
	Terms            wire.ProviderTerms `json:"terms"`
	RegisteredHeight int64              `json:"registered_height"`
}

// agreementRecord is a stored agreement; Active is computed when read.
type agreementRecord struct {
	Role         wire.Role `json:"role"`
	MaxBytes     uint64    `json:"max_bytes"`
	ExpiryHeight int64     `json:"expiry_height"`
	Payment      uint64    `json:"payment"`
}

// state is the typed view of an overlay that calls execute against. It
// collects the events the calls emit.
type state struct {
	o       *overlay
	height  int64
	chainID string
	params  wire.Params
	events  []abci.Event
	// sigsVerified says the checkpoint signatures of the call being
	// executed were batch-verified already (App.preverify).
	sigsVerified bool
}

func (s *state) getJSON(key string, v any) bool {
	b, ok := s.o.get(key)
	if !ok {
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("chain: corrupt state at %q: %v", key, err))
	}
	return true
}

func (s *state) putJSON(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("chain: encode state at %q: %v", key, err))
	}
	s.o.set(key, b)
}

func (s *state) getU64(key string) uint64 {
	b, ok := s.o.get(key)
	if !ok {
		return 0
	}
	if len(b) != 8 {
		panic(fmt.Sprintf("chain: corrupt counter at %q", key))
	}
	return binary.BigEndian.Uint64(b)
}

func (s *state) putU64(key string, v uint64) { s.o.set(key, []byte(u64(v))) }

// nextID increments and returns the counter at key (ids start at 1).
func (s *state) nextID(key string) uint64 {
	v := s.getU64(key) + 1
	s.putU64(key, v)
	return v
}

// account returns a's account; an account never written is all zero.
func (s *state) account(a core.AccountID) wire.Account {
	key := acctKey(pAccount, a)
	b, ok := s.o.get(key)
	if !ok {
		return wire.Account{ID: a}
	}
	acc, err := decodeAccount(a, b)
	if err != nil {
		panic(fmt.Sprintf("chain: corrupt state at %q: %v", key, err))
	}
	return acc
}

func (s *state) putAccount(acc wire.Account) { s.o.set(acctKey(pAccount, acc.ID), encodeAccount(acc)) }

func (s *state) provider(a core.AccountID) (providerRecord, bool) {
	var p providerRecord
	ok := s.getJSON(acctKey(pProvider, a), &p)
	return p, ok
}

// isProvider reports whether a is a registered provider, without decoding
// its record.
func (s *state) isProvider(a core.AccountID) bool {
	_, ok := s.o.get(acctKey(pProvider, a))
	return ok
}

func (s *state) bucket(id core.BucketID) (*wire.Bucket, bool) {
	key := pBucket + u64(uint64(id))
	v, ok := s.o.get(key)
	if !ok {
		return nil, false
	}
	b, err := decodeBucket(id, v)
	if err != nil {
		panic(fmt.Sprintf("chain: corrupt state at %q: %v", key, err))
	}
	return b, true
}

func (s *state) putBucket(b *wire.Bucket) { s.o.set(pBucket+u64(uint64(b.ID)), encodeBucket(b)) }

func agreementKey(b core.BucketID, p core.AccountID) string { return agreementKeyP(pAgreement, b, p) }

// agreementKeyP is prefix + bucket + provider.
func agreementKeyP(prefix string, b core.BucketID, p core.AccountID) string {
	return prefix + u64(uint64(b)) + string(p[:])
}

func (s *state) agreement(b core.BucketID, p core.AccountID) (agreementRecord, bool) {
	key := agreementKey(b, p)
	v, ok := s.o.get(key)
	if !ok {
		return agreementRecord{}, false
	}
	r, err := decodeAgreement(v)
	if err != nil {
		panic(fmt.Sprintf("chain: corrupt state at %q: %v", key, err))
	}
	return r, true
}

func (s *state) putAgreement(b core.BucketID, p core.AccountID, r agreementRecord) {
	s.o.set(agreementKey(b, p), encodeAgreement(r))
}

func (s *state) challenge(id core.ChallengeID) (*wire.Challenge, bool) {
	var c wire.Challenge
	if !s.getJSON(pChallenge+u64(uint64(id)), &c) {
		return nil, false
	}
	return &c, true
}

func (s *state) putChallenge(c *wire.Challenge) { s.putJSON(pChallenge+u64(uint64(c.ID)), c) }

func (s *state) drive(id core.DriveID) (*wire.Drive, bool) {
	var d wire.Drive
	if !s.getJSON(pDrive+u64(uint64(id)), &d) {
		return nil, false
	}
	return &d, true
}

func (s *state) putDrive(d *wire.Drive) { s.putJSON(pDrive+u64(uint64(d.ID)), d) }

// emit records an event; every attribute is indexed.
func (s *state) emit(typ string, kv ...string) {
	attrs := make([]abci.EventAttribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, abci.EventAttribute{Key: kv[i], Value: kv[i+1], Index: true})
	}
	s.events = append(s.events, abci.Event{Type: typ, Attributes: attrs})
}

// Exact integer arithmetic.

func add(op string, a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, core.Errorf(op, core.Invalid, "amount overflow")
	}
	return s, nil
}

func mul(op string, a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, core.Errorf(op, core.Invalid, "amount overflow")
	}
	return lo, nil
}

// bps returns floor(v * bp / 10000) for bp <= 10000, exactly.
func bps(v, bp uint64) uint64 {
	hi, lo := bits.Mul64(v, bp)
	q, _ := bits.Div64(hi, lo, 10000)
	return q
}

// debit takes amount from a's balance.
func (s *state) debit(op string, a core.AccountID, amount uint64) error {
	acc := s.account(a)
	if acc.Balance < amount {
		return wire.Coded(wire.CodeInsufficientFunds, "%s: balance %d of %s is below %d", op, acc.Balance, a.Short(), amount)
	}
	acc.Balance -= amount
	s.putAccount(acc)
	return nil
}

// credit adds amount to a's balance.
func (s *state) credit(op string, a core.AccountID, amount uint64) error {
	acc := s.account(a)
	v, err := add(op, acc.Balance, amount)
	if err != nil {
		return err
	}
	acc.Balance = v
	s.putAccount(acc)
	return nil
}
