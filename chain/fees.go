package chain

import (
	"math/bits"

	"github.com/cairn-storage/cairn/chain/wire"
)

// callWeight is how many base fees a call costs: the calls that verify
// signatures or proofs, or make several records, cost more. Unlisted
// calls weigh 1. docs/chain.md ("Fees") publishes this table.
var callWeight = map[string]uint64{
	"submit_checkpoint":   4,
	"open_challenge":      2,
	"respond_challenge":   4,
	"report_equivocation": 2,
	"create_drive":        4,
}

// txFee is what a transaction of size bytes carrying call pays, burned
// whether the call succeeds or fails:
//
//	tx_fee_base x weight(call) + tx_fee_per_kib x ceil(size / 1024)
//
// ok is false if it overflows (no balance can pay it).
func txFee(p wire.Params, call wire.Call, size int) (fee uint64, ok bool) {
	w := uint64(1)
	if v, found := callWeight[call.CallName()]; found {
		w = v
	}
	hi, base := bits.Mul64(p.TxFeeBase, w)
	if hi != 0 {
		return 0, false
	}
	kib := (uint64(size) + 1023) / 1024
	hi, perSize := bits.Mul64(p.TxFeePerKiB, kib)
	if hi != 0 {
		return 0, false
	}
	fee, carry := bits.Add64(base, perSize, 0)
	return fee, carry == 0
}

// chargeFee is the fee check of CheckTx and FinalizeBlock: the fee of the
// transaction, or an error (code insufficient_funds) if balance, less
// what is reserved already, cannot pay it.
func chargeFee(p wire.Params, tx *wire.Tx, size int, balance, reserved uint64) (uint64, error) {
	fee, ok := txFee(p, tx.Call, size)
	if need, carry := bits.Add64(fee, reserved, 0); !ok || carry != 0 || balance < need {
		return 0, wire.Coded(wire.CodeInsufficientFunds, "%s cannot pay the fee %d of a %d-byte %s (balance %d, %d reserved by its transactions in the mempool)",
			tx.Signer.Short(), fee, size, tx.Call.CallName(), balance, reserved)
	}
	return fee, nil
}
