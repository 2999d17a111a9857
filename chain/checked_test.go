package chain

import (
	"bytes"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// TestCheckTxDecodingReused: FinalizeBlock takes a transaction's decoding
// from CheckTx, and a block of such transactions (valid, failing, and one
// whose nonce is stale by then) ends in the state of a node that never saw
// them in its mempool.
func TestCheckTxDecodingReused(t *testing.T) {
	alice, bob := devKey("alice"), devKey("bob")
	txs := [][]byte{
		mustTx(t, alice, 0, wire.Transfer{To: bob.Account(), Amount: 5}),
		mustTx(t, alice, 1, wire.Transfer{To: bob.Account(), Amount: 1 << 62}), // fails: funds
		mustTx(t, bob, 0, wire.CreateBucket{Quorum: 1}),
	}
	stale := mustTx(t, alice, 0, wire.Transfer{To: bob.Account(), Amount: 7})

	var hashes [][]byte
	for _, viaMempool := range []bool{false, true} {
		a := openApp(t, "")
		initAppGenesis(t, a, DevGenesis())
		commit(t, a)
		block := txs
		if viaMempool {
			for _, tx := range txs {
				if r, _ := a.CheckTx(bg, &abci.RequestCheckTx{Tx: tx}); r.Code != wire.CodeOK {
					t.Fatalf("CheckTx: %s", r.Log)
				}
				if a.checked[wire.TxHash(tx)] == nil {
					t.Fatal("CheckTx kept no decoding of a small transaction")
				}
			}
		}
		// The stale duplicate passed CheckTx on another node, say; here
		// it is in the block only, and must fail on its nonce either way.
		block = append(append([][]byte{}, block...), stale)
		res := finalize(t, a, 1, block...)
		commit(t, a)
		codes := []uint32{}
		for _, r := range res.TxResults {
			codes = append(codes, r.Code)
		}
		if codes[0] != wire.CodeOK || codes[1] == wire.CodeOK || codes[2] != wire.CodeOK || codes[3] != wire.CodeBadNonce {
			t.Fatalf("via mempool %v: codes %v", viaMempool, codes)
		}
		hashes = append(hashes, a.AppHash())
	}
	if !bytes.Equal(hashes[0], hashes[1]) {
		t.Fatalf("app hash %X via the mempool, %X without", hashes[1], hashes[0])
	}
}

// TestCheckedBounded: the decodings CheckTx keeps stay within their byte
// bound, and a large transaction is remembered as verified, not kept.
func TestCheckedBounded(t *testing.T) {
	a := openApp(t, "")
	tx := &wire.Tx{}
	for i := range 3 * maxCheckedBytes / maxKeptTxBytes {
		a.remember(core.H256{byte(i), byte(i >> 8), byte(i >> 16)}, tx, maxKeptTxBytes)
		if a.checkedBytes > maxCheckedBytes {
			t.Fatalf("after %d: %d bytes kept, bound %d", i, a.checkedBytes, maxCheckedBytes)
		}
	}
	big := core.H256{0xff}
	a.remember(big, tx, maxKeptTxBytes+1)
	if got, ok := a.checked[big]; !ok || got != nil {
		t.Fatalf("large tx: kept %v, remembered %v", got != nil, ok)
	}
}
