package chain_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

var feeParams = func() wire.Params {
	p := testParams
	p.TxFeeBase, p.TxFeePerKiB = 100, 7
	return p
}()

func feeGenesis() chain.Genesis {
	g := chain.DevGenesis()
	g.Params = feeParams
	return g
}

// feeOf is the fee the cairn.tx event of res says was burned.
func feeOf(t *testing.T, res *wire.TxResult) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(event(t, res, wire.EventTx)["fee"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// scenarioFees: every executed transaction pays base x weight + per KiB,
// burned whether its call succeeds or fails; a signer that cannot pay is
// refused.
func scenarioFees(e env) {
	a := e.newAccount(100_000)
	b := e.newAccount(0)
	before := e.account(a.Account())
	res := e.ok(a, wire.Transfer{To: b.Account(), Amount: 1_000})
	fee := feeOf(e.t, res)
	// One transfer (weight 1) of under 1 KiB.
	if fee != feeParams.TxFeeBase+feeParams.TxFeePerKiB {
		e.t.Fatalf("fee %d, want %d", fee, feeParams.TxFeeBase+feeParams.TxFeePerKiB)
	}
	after := e.account(a.Account())
	if after.Balance != before.Balance-1_000-fee || after.Nonce != before.Nonce+1 {
		e.t.Fatalf("after a transfer %+v (was %+v)", after, before)
	}
	// A failing call burns its fee and consumes its nonce.
	e.fail(a, wire.Transfer{To: b.Account(), Amount: 1 << 40}, core.Conflict, wire.CodeInsufficientFunds)
	failed := e.account(a.Account())
	if failed.Balance != after.Balance-fee || failed.Nonce != after.Nonce+1 {
		e.t.Fatalf("after a failed call %+v (was %+v)", failed, after)
	}
	// Heavier calls weigh more: a checkpoint weighs 4.
	res = e.ok(a, wire.CreateBucket{Quorum: 1})
	if got := feeOf(e.t, res); got != feeParams.TxFeeBase+feeParams.TxFeePerKiB {
		e.t.Errorf("create_bucket fee %d", got)
	}
	id := core.BucketID(attrID(e.t, res, wire.EventBucketCreated, "bucket"))
	l := newLog(e.t, 0)
	l.write([]byte("x"))
	p := e.newProvider()
	e.ok(a, wire.CreateAgreement{Bucket: id, Provider: p.Account(), Role: wire.Primary, MaxBytes: 10, Duration: 100})
	res = e.ok(a, l.checkpoint(e.b.chainID(), id, 1, p))
	if got := feeOf(e.t, res); got != 4*feeParams.TxFeeBase+feeParams.TxFeePerKiB {
		e.t.Errorf("submit_checkpoint fee %d", got)
	}
	// b holds exactly 1 000: the fee comes first, so a transfer of it all
	// fails, and b keeps 1 000 less the fee.
	e.fail(b, wire.Transfer{To: a.Account(), Amount: 1_000}, core.Conflict, wire.CodeInsufficientFunds)
	if got := e.account(b.Account()); got.Balance != 1_000-fee || got.Nonce != 1 {
		e.t.Errorf("b %+v, want balance %d nonce 1", got, 1_000-fee)
	}
	// An account that cannot pay the fee is refused with nothing changed.
	poor := e.newAccount(0)
	e.fail(poor, wire.AddStake{Amount: 1}, core.Conflict, wire.CodeInsufficientFunds)
	if got := e.account(poor.Account()); got.Nonce != 0 || got.Balance != 0 {
		e.t.Errorf("unfunded account %+v", got)
	}
}

func TestFeesDirect(t *testing.T) {
	scenarioFees(env{t, newDirectGenesis(t, "", feeGenesis())})
}

func TestFeesNode(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping a CometBFT run")
	}
	scenarioFees(env{t, newViaNodeGenesis(t, feeGenesis())})
}

// A transaction whose signer cannot pay its fee, reaching FinalizeBlock
// (a proposer need not run CheckTx), changes nothing: the block's app hash
// equals an empty block's, and no account appears.
func TestUnpaidTxChangesNothing(t *testing.T) {
	stranger, err := core.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d1 := newDirectGenesis(t, "", feeGenesis())
	d2 := newDirectGenesis(t, "", feeGenesis())
	for _, call := range []wire.Call{
		wire.Transfer{To: dev("bob").Account(), Amount: 1},
		wire.CreateBucket{Quorum: 0}, // would fail anyway
	} {
		tx, err := wire.EncodeTx(stranger, d1.id, 0, call)
		if err != nil {
			t.Fatal(err)
		}
		r1 := d1.block(t, tx)
		r2 := d2.block(t)
		if c := r1.TxResults[0].Code; c != wire.CodeInsufficientFunds {
			t.Fatalf("%s: code %d (%s)", call.CallName(), c, r1.TxResults[0].Log)
		}
		if len(r1.TxResults[0].Events) != 0 {
			t.Errorf("events of an unpaid tx: %+v", r1.TxResults[0].Events)
		}
		if !bytes.Equal(r1.AppHash, r2.AppHash) {
			t.Fatalf("%s: an unpaid tx changed the state", call.CallName())
		}
	}
	ct, err := d1.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: func() []byte {
		tx, _ := wire.EncodeTx(stranger, d1.id, 0, wire.Transfer{To: dev("bob").Account(), Amount: 1})
		return tx
	}()})
	if err != nil || ct.Code != wire.CodeInsufficientFunds {
		t.Fatalf("CheckTx of an unfunded signer: %v %+v", err, ct)
	}
}

// CheckTx counts the fees of the signer's transactions already in the
// mempool: a balance that pays two admits two.
func TestCheckTxCountsPendingFees(t *testing.T) {
	d := newDirectGenesis(t, "", feeGenesis())
	e := env{t, d}
	k := e.newAccount(0)
	tx := func(nonce uint64) []byte {
		b, err := wire.EncodeTx(k, d.id, nonce, wire.AddStake{Amount: 0})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fee := feeParams.TxFeeBase + feeParams.TxFeePerKiB
	e.ok(dev("alice"), wire.Transfer{To: k.Account(), Amount: 2*fee + fee/2})
	for i, want := range []uint32{wire.CodeOK, wire.CodeOK, wire.CodeInsufficientFunds} {
		r, err := d.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx(uint64(i))})
		if err != nil || r.Code != want {
			t.Fatalf("check %d: %v code %d (%s), want %d", i, err, r.Code, r.Log, want)
		}
	}
}

// Fees arithmetic: base x weight + per KiB rounded up, overflow refused.
func TestTxFee(t *testing.T) {
	p := wire.Params{TxFeeBase: 10, TxFeePerKiB: 3}
	for _, c := range []struct {
		call wire.Call
		size int
		want uint64
		ok   bool
	}{
		{wire.Transfer{}, 1, 13, true},
		{wire.Transfer{}, 1024, 13, true},
		{wire.Transfer{}, 1025, 16, true},
		{wire.SubmitCheckpoint{}, 100, 43, true},
		{wire.RespondChallenge{}, 1 << 20, 40 + 3*1024, true},
		{wire.CreateDrive{}, 0, 40, true},
	} {
		got, ok := chain.TxFee(p, c.call, c.size)
		if got != c.want || ok != c.ok {
			t.Errorf("%s of %d bytes: %d %v, want %d %v", c.call.CallName(), c.size, got, ok, c.want, c.ok)
		}
	}
	if _, ok := chain.TxFee(wire.Params{TxFeeBase: 1 << 63}, wire.SubmitCheckpoint{}, 1); ok {
		t.Error("overflowing base accepted")
	}
	if _, ok := chain.TxFee(wire.Params{TxFeeBase: 1 << 63, TxFeePerKiB: 1 << 63}, wire.Transfer{}, 1); ok {
		t.Error("overflowing sum accepted")
	}
}
