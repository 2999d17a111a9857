package chain_test

import (
	"bytes"
	"context"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// newConsensusKey makes a fresh ed25519 key standing in for a node's
// priv_validator_key.
func newConsensusKey(t testing.TB) core.PrivateKey {
	t.Helper()
	k, err := core.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// joinCall is a join_validator of key for operator on chainID, with the
// key's proof of possession.
func joinCall(chainID string, operator, key core.PrivateKey, stake uint64) wire.JoinValidator {
	return wire.JoinValidator{PubKey: wire.ValidatorKey(key.Account()), Stake: stake,
		Proof: key.Sign(wire.ValidatorProofPayload(chainID, operator.Account()))}
}

func (e env) validators() map[wire.ValidatorKey]wire.Validator {
	e.t.Helper()
	var vs []wire.Validator
	e.q(wire.PathValidators(), &vs)
	out := map[wire.ValidatorKey]wire.Validator{}
	for _, v := range vs {
		out[v.PubKey] = v
	}
	return out
}

// scenarioValidators: join with a bond and a proof of the key, leave and
// get the bond back, and every refusal. Stakes are one unit of power, so
// on a real node the validators that never run stay far below a third
// of the genesis validator's power.
func scenarioValidators(e env) {
	const stake = wire.ValidatorPowerUnit
	op := e.newAccount(10 * stake)
	other := e.newAccount(10 * stake)
	key := newConsensusKey(e.t)
	id := e.b.chainID()
	pk := wire.ValidatorKey(key.Account())

	bad := joinCall(id, op, key, stake)
	bad.Proof[0] ^= 1
	e.fail(op, bad, core.Corrupt, 0)
	e.fail(op, joinCall(id, other, key, stake), core.Corrupt, 0) // a proof for another operator
	e.fail(op, joinCall("cairn-other", op, key, stake), core.Corrupt, 0)
	e.fail(op, joinCall(id, op, key, stake-1), core.Invalid, 0)
	e.fail(op, joinCall(id, op, key, 11*stake), core.Conflict, wire.CodeInsufficientFunds)
	zero := wire.JoinValidator{Stake: stake} // the all-zero key and signature verify under ZIP-215
	e.fail(op, zero, core.Corrupt, 0)

	// Another validator, so the one under test is never the last one
	// (the direct backend records no genesis validator).
	e.ok(other, joinCall(id, other, newConsensusKey(e.t), stake))
	before := e.account(op.Account()).Balance
	res := e.ok(op, joinCall(id, op, key, 3*stake))
	ev := event(e.t, res, wire.EventValidatorJoined)
	if ev["pub_key"] != pk.String() || ev["operator"] != op.Account().String() || ev["power"] != "3" || ev["stake"] != itoa(3*stake) {
		e.t.Errorf("validator.joined %v", ev)
	}
	if after := e.account(op.Account()).Balance; after > before-3*stake || after+1000 < before-3*stake {
		e.t.Errorf("balance %d after a join with bond %d, was %d", after, 3*stake, before)
	}
	v, ok := e.validators()[pk]
	if !ok || v.Operator != op.Account() || v.Power != 3 || v.Stake != 3*stake || v.JoinedHeight != res.Height {
		e.t.Fatalf("validator after join: %+v %v", v, ok)
	}
	e.fail(other, joinCall(id, other, key, stake), core.Exists, 0)
	e.fail(other, wire.LeaveValidator{PubKey: pk}, core.Unauthorized, 0)
	e.fail(op, wire.LeaveValidator{PubKey: wire.ValidatorKey(newConsensusKey(e.t).Account())}, core.NotFound, 0)

	before = e.account(op.Account()).Balance
	res = e.ok(op, wire.LeaveValidator{PubKey: pk})
	if ev := event(e.t, res, wire.EventValidatorLeft); ev["stake"] != itoa(3*stake) {
		e.t.Errorf("validator.left %v", ev)
	}
	if got := e.account(op.Account()).Balance; got+100 < before+3*stake || got > before+3*stake {
		e.t.Errorf("balance %d after leaving, was %d with a bond of %d", got, before, 3*stake)
	}
	if _, ok := e.validators()[pk]; ok {
		e.t.Errorf("%s still listed after leaving", pk.Short())
	}
	e.fail(op, wire.LeaveValidator{PubKey: pk}, core.NotFound, 0)
	e.fail(op, joinCall(id, op, key, stake), core.Exists, 0) // a key is used once
}

// newDirectValidators is a direct backend whose genesis has these
// validators (CometBFT passes the genesis file's to InitChain).
func newDirectValidators(t *testing.T, keys ...core.PrivateKey) *direct {
	app, err := chain.New(chain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	d := &direct{app: app, id: "cairn-direct"}
	gj, _ := testGenesis().JSON()
	var vals []abci.ValidatorUpdate
	for _, k := range keys {
		a := k.Account()
		vals = append(vals, abci.Ed25519ValidatorUpdate(a[:], 10))
	}
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: d.id, InitialHeight: 1, AppStateBytes: gj, Validators: vals}); err != nil {
		t.Fatal(err)
	}
	d.block(t)
	return d
}

// updates runs one block of calls (signer, nonce from state, in order)
// and returns the block's validator updates as key -> power.
func (d *direct) updates(t *testing.T, calls ...signed) map[wire.ValidatorKey]int64 {
	t.Helper()
	nonces := map[core.AccountID]uint64{}
	var txs [][]byte
	for _, c := range calls {
		a := c.k.Account()
		if _, ok := nonces[a]; !ok {
			var n wire.NextNonce
			if err := d.query(t, wire.PathNonce(a), &n); err != nil {
				t.Fatal(err)
			}
			nonces[a] = n.Next
		}
		tx, err := wire.EncodeTx(c.k, d.id, nonces[a], c.call)
		if err != nil {
			t.Fatal(err)
		}
		nonces[a]++
		txs = append(txs, tx)
	}
	res := d.block(t, txs...)
	for i, r := range res.TxResults {
		if r.Code != wire.CodeOK {
			t.Fatalf("tx %d (%s): %s", i, calls[i].call.CallName(), r.Log)
		}
	}
	out := map[wire.ValidatorKey]int64{}
	for _, u := range res.ValidatorUpdates {
		out[wire.ValidatorKey(u.PubKey.GetEd25519())] = u.Power
	}
	return out
}

type signed struct {
	k    core.PrivateKey
	call wire.Call
}

// The validator set reaches CometBFT as FinalizeBlock's updates: a join
// adds the key with its power, a leave removes it, a join and leave in
// one block (CometBFT never had the key) gives no update at all, and
// genesis validators are recorded and cannot be removed by anyone.
func TestValidatorUpdates(t *testing.T) {
	g1 := newConsensusKey(t)
	d := newDirectValidators(t, g1)
	e := env{t, d}
	gk := wire.ValidatorKey(g1.Account())
	if v, ok := e.validators()[gk]; !ok || v.Power != 10 || !v.Operator.IsZero() || len(e.validators()) != 1 {
		t.Fatalf("genesis validators %+v", e.validators())
	}
	op := e.newAccount(100 * wire.ValidatorPowerUnit)
	a, b := newConsensusKey(t), newConsensusKey(t)
	ak, bk := wire.ValidatorKey(a.Account()), wire.ValidatorKey(b.Account())

	for _, c := range []struct {
		name  string
		calls []signed
		want  map[wire.ValidatorKey]int64
	}{
		{"join", []signed{{op, joinCall(d.id, op, a, 7*wire.ValidatorPowerUnit+5)}}, map[wire.ValidatorKey]int64{ak: 7}},
		{"join and leave in one block", []signed{{op, joinCall(d.id, op, b, wire.ValidatorPowerUnit)}, {op, wire.LeaveValidator{PubKey: bk}}},
			map[wire.ValidatorKey]int64{}},
		{"leave", []signed{{op, wire.LeaveValidator{PubKey: ak}}}, map[wire.ValidatorKey]int64{ak: 0}},
		{"no validator call", []signed{{op, wire.Transfer{To: dev("bob").Account(), Amount: 1}}}, map[wire.ValidatorKey]int64{}},
	} {
		got := d.updates(t, c.calls...)
		if len(got) != len(c.want) {
			t.Fatalf("%s: updates %v, want %v", c.name, got, c.want)
		}
		for k, p := range c.want {
			if got[k] != p {
				t.Fatalf("%s: updates %v, want %v", c.name, got, c.want)
			}
		}
	}
	e.fail(op, wire.LeaveValidator{PubKey: gk}, core.Unauthorized, 0)
	if len(e.validators()) != 1 {
		t.Fatalf("validators %+v", e.validators())
	}
}

// The last validator cannot leave, whoever it is.
func TestLastValidatorStays(t *testing.T) {
	d := newDirectValidators(t) // no genesis validator recorded
	e := env{t, d}
	op := e.newAccount(100 * wire.ValidatorPowerUnit)
	a, b := newConsensusKey(t), newConsensusKey(t)
	e.ok(op, joinCall(d.id, op, a, wire.ValidatorPowerUnit))
	e.ok(op, joinCall(d.id, op, b, wire.ValidatorPowerUnit))
	e.ok(op, wire.LeaveValidator{PubKey: wire.ValidatorKey(a.Account())})
	e.fail(op, wire.LeaveValidator{PubKey: wire.ValidatorKey(b.Account())}, core.Conflict, 0)
	if v := e.validators(); len(v) != 1 {
		t.Fatalf("validators %+v", v)
	}
}

// The validator records are part of the hashed state: two apps given the
// same genesis validators agree on the hash, different ones do not.
func TestGenesisValidatorsHashed(t *testing.T) {
	k1, k2 := newConsensusKey(t), newConsensusKey(t)
	h := func(keys ...core.PrivateKey) []byte { return newDirectValidators(t, keys...).app.AppHash() }
	if a, b := h(k1), h(k1); !bytes.Equal(a, b) {
		t.Fatal("same genesis validators, different app hashes")
	}
	if a, b := h(k1), h(k2); bytes.Equal(a, b) {
		t.Fatal("different genesis validators, same app hash")
	}
}
