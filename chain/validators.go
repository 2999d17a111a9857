package chain

import (
	"encoding/json"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// The validator set lives in state: one record per active validator, one
// per consensus key that left (kept so a key is never used twice) and a
// count of the active ones. FinalizeBlock turns the records a block wrote
// into CometBFT validator updates (blockValidatorUpdates).
const (
	pValidator     = "val/"           // + consensus key -> wire.Validator (active)
	pValidatorLeft = "valx/"          // + consensus key -> wire.Validator (left)
	keyActiveVals  = "cfg/validators" // u64: validators with power > 0
	maxGenesisVals = wire.MaxValidators
)

func valKey(k wire.ValidatorKey) string { return pValidator + string(k[:]) }

func (s *state) validator(k wire.ValidatorKey) (wire.Validator, bool) {
	var v wire.Validator
	ok := s.getJSON(valKey(k), &v)
	return v, ok
}

func (s *state) putValidator(v wire.Validator) { s.putJSON(valKey(v.PubKey), v) }

// recordGenesisValidators stores the validators of the genesis file,
// which CometBFT passes to InitChain: no operator, no bond, the power the
// genesis gives them.
func (s *state) recordGenesisValidators(vals []abci.ValidatorUpdate) error {
	if len(vals) > maxGenesisVals {
		return fmt.Errorf("%d genesis validators, at most %d", len(vals), maxGenesisVals)
	}
	var n uint64
	for _, u := range vals {
		pk := u.PubKey.GetEd25519()
		if len(pk) != len(wire.ValidatorKey{}) {
			return fmt.Errorf("genesis validator %v: only ed25519 consensus keys are supported", u.PubKey)
		}
		if u.Power <= 0 {
			continue
		}
		k := wire.ValidatorKey(pk)
		if _, ok := s.validator(k); ok {
			return fmt.Errorf("genesis validator %s listed twice", k.Short())
		}
		s.putValidator(wire.Validator{PubKey: k, Power: u.Power, JoinedHeight: s.height})
		n++
	}
	s.putU64(keyActiveVals, n)
	return nil
}

func (s *state) joinValidator(signer core.AccountID, c wire.JoinValidator) error {
	const op = "join_validator"
	if c.Stake < wire.ValidatorPowerUnit {
		return core.Errorf(op, core.Invalid, "stake %d is below one unit of power (%d)", c.Stake, wire.ValidatorPowerUnit)
	}
	key := core.AccountID(c.PubKey)
	if key.Weak() || !key.Verify(wire.ValidatorProofPayload(s.chainID, signer), c.Proof) {
		return core.Errorf(op, core.Corrupt, "the proof does not verify against consensus key %s for operator %s", c.PubKey.Short(), signer.Short())
	}
	if _, ok := s.validator(c.PubKey); ok || s.leftValidator(c.PubKey) {
		return core.Errorf(op, core.Exists, "consensus key %s is or was a validator", c.PubKey.Short())
	}
	if n := s.getU64(keyActiveVals); n >= wire.MaxValidators {
		return core.Errorf(op, core.Conflict, "%d validators, at most %d", n, wire.MaxValidators)
	}
	if err := s.debit(op, signer, c.Stake); err != nil {
		return err
	}
	power := int64(c.Stake / wire.ValidatorPowerUnit) // < 2^45: fits
	s.putValidator(wire.Validator{PubKey: c.PubKey, Operator: signer, Stake: c.Stake, Power: power, JoinedHeight: s.height})
	s.putU64(keyActiveVals, s.getU64(keyActiveVals)+1)
	s.emit(wire.EventValidatorJoined, "pub_key", c.PubKey.String(), "operator", signer.String(),
		"stake", itoa(c.Stake), "power", itoa64(power))
	return nil
}

func (s *state) leaveValidator(signer core.AccountID, c wire.LeaveValidator) error {
	const op = "leave_validator"
	v, ok := s.validator(c.PubKey)
	if !ok {
		return core.Errorf(op, core.NotFound, "%s is not a validator", c.PubKey.Short())
	}
	if v.Operator.IsZero() {
		return core.Errorf(op, core.Unauthorized, "%s is a genesis validator: it has no operator", c.PubKey.Short())
	}
	if v.Operator != signer {
		return core.Errorf(op, core.Unauthorized, "%s is not the operator of validator %s", signer.Short(), c.PubKey.Short())
	}
	n := s.getU64(keyActiveVals)
	if n <= 1 {
		return core.Errorf(op, core.Conflict, "validator %s is the last one", c.PubKey.Short())
	}
	// The bond comes back at once: the chain slashes no validator (no
	// evidence handling yet), so an unbonding period would protect
	// nothing (docs/chain.md, "Validators").
	if err := s.credit(op, signer, v.Stake); err != nil {
		return err
	}
	returned := v.Stake
	v.Power, v.Stake, v.LeftHeight = 0, 0, s.height
	s.o.del(valKey(c.PubKey))
	s.putJSON(pValidatorLeft+string(c.PubKey[:]), v)
	s.putU64(keyActiveVals, n-1)
	s.emit(wire.EventValidatorLeft, "pub_key", c.PubKey.String(), "operator", signer.String(), "stake", itoa(returned))
	return nil
}

// blockValidatorUpdates turns the validator records blk wrote into
// CometBFT updates, in key order. A key that joined and left within the
// block (never in CometBFT's set) gives none: removing a validator
// CometBFT does not have would halt the chain.
func blockValidatorUpdates(blk *overlay) []abci.ValidatorUpdate {
	var out []abci.ValidatorUpdate
	for _, k := range blk.sortedKeys() {
		if !strings.HasPrefix(k, pValidator) {
			continue
		}
		e := blk.writes[k]
		var now int64
		if !e.deleted {
			now = decodeValidator(k, e.val).Power
		}
		var before int64
		if b, ok := blk.parent.get(k); ok {
			before = decodeValidator(k, b).Power
		}
		if now == before {
			continue
		}
		out = append(out, abci.Ed25519ValidatorUpdate([]byte(k[len(pValidator):]), now))
	}
	return out
}

// decodeValidator decodes a stored validator record; a record that does
// not decode is corrupt state, a broken invariant.
func decodeValidator(key string, b []byte) wire.Validator {
	var v wire.Validator
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("chain: corrupt state at %q: %v", key, err))
	}
	return v
}

// leftValidator reports whether k was a validator that left.
func (s *state) leftValidator(k wire.ValidatorKey) bool {
	_, ok := s.o.get(pValidatorLeft + string(k[:]))
	return ok
}

// validators answers wire.RouteValidators: the active set, by key.
func (v *view) validators() ([]wire.Validator, error) {
	out := []wire.Validator{}
	err := scanJSON(v.r, pValidator, func(_ string, val *wire.Validator) bool {
		out = append(out, *val)
		return len(out) < maxListed
	})
	return out, err
}
