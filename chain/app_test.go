package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

var bg = context.Background()

func devKey(name string) core.PrivateKey {
	k, _ := core.DevKey(name)
	return k
}

func openApp(t testing.TB, dir string) *App {
	t.Helper()
	a, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func initApp(t testing.TB, a *App) { initAppGenesis(t, a, DevGenesis()) }

// initAppGenesis runs InitChain with genesis g.
func initAppGenesis(t testing.TB, a *App, g Genesis) {
	t.Helper()
	gj, _ := g.JSON()
	if _, err := a.InitChain(bg, &abci.RequestInitChain{ChainId: DevChainID, InitialHeight: 1, AppStateBytes: gj}); err != nil {
		t.Fatal(err)
	}
}

func finalize(t testing.TB, a *App, h int64, txs ...[]byte) *abci.ResponseFinalizeBlock {
	t.Helper()
	res, err := a.FinalizeBlock(bg, &abci.RequestFinalizeBlock{Height: h, Txs: txs, Time: time.Unix(h, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func commit(t testing.TB, a *App) {
	t.Helper()
	if _, err := a.Commit(bg, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
}

// tx is call signed by the dev account signer.
func tx(t testing.TB, signer string, nonce uint64, call wire.Call) []byte {
	t.Helper()
	return mustTx(t, devKey(signer), nonce, call)
}

// mustTx is call signed by k.
func mustTx(t testing.TB, k core.PrivateKey, nonce uint64, call wire.Call) []byte {
	t.Helper()
	b, err := wire.EncodeTx(k, DevChainID, nonce, call)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// blocks is a fixed history: transfers and a bucket, one block each.
func blocks(t *testing.T) [][][]byte {
	bob := devKey("bob").Account()
	return [][][]byte{
		{},
		{tx(t, "alice", 0, wire.Transfer{To: bob, Amount: 5}), tx(t, "alice", 1, wire.Transfer{To: bob, Amount: 6})},
		{tx(t, "charlie", 0, wire.CreateBucket{Quorum: 1})},
		{},
		{tx(t, "alice", 2, wire.AddStake{Amount: 100})},
	}
}

func queryJSON(t *testing.T, a *App, path string, out any) {
	t.Helper()
	res, err := a.Query(bg, &abci.RequestQuery{Path: path})
	if err != nil || res.Code != 0 {
		t.Fatalf("query %s: %v %s", path, err, res.Log)
	}
	if err := json.Unmarshal(res.Value, out); err != nil {
		t.Fatal(err)
	}
}

func TestAppHashDeterministic(t *testing.T) {
	a, b := openApp(t, ""), openApp(t, "")
	initApp(t, a)
	initApp(t, b)
	seen := map[string]bool{}
	for i, txs := range blocks(t) {
		h := int64(i + 1)
		ra, rb := finalize(t, a, h, txs...), finalize(t, b, h, txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("height %d: app hashes differ", h)
		}
		// Even an empty block moves the hash: it commits to the height.
		if seen[string(ra.AppHash)] {
			t.Fatalf("height %d repeats an app hash", h)
		}
		seen[string(ra.AppHash)] = true
		commit(t, a)
		commit(t, b)
	}
	// A different history gives a different hash.
	c := openApp(t, "")
	initApp(t, c)
	var last []byte
	for i, txs := range blocks(t) {
		if i == 1 {
			txs = txs[:1]
		}
		last = finalize(t, c, int64(i+1), txs...).AppHash
		commit(t, c)
	}
	if bytes.Equal(last, a.AppHash()) {
		t.Fatal("different histories, same app hash")
	}
}

// TestRestart: a reopened data dir has the same height, app hash and
// state, and continues exactly as a node that never stopped.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	twin := openApp(t, "")
	initApp(t, a)
	initApp(t, twin)
	bs := blocks(t)
	for i, txs := range bs[:4] {
		finalize(t, a, int64(i+1), txs...)
		finalize(t, twin, int64(i+1), txs...)
		commit(t, a)
		commit(t, twin)
	}
	height, hash := a.Height(), a.AppHash()
	var before wire.Account
	queryJSON(t, a, wire.PathAccount(devKey("bob").Account()), &before)
	// A finalized but uncommitted block is lost with the process...
	finalize(t, a, 5, bs[4]...)
	a.Close()

	b := openApp(t, dir)
	info, _ := b.Info(bg, &abci.RequestInfo{})
	if info.LastBlockHeight != height || !bytes.Equal(info.LastBlockAppHash, hash) || b.Height() != 4 {
		t.Fatalf("reopened at %d %X, want %d %X", info.LastBlockHeight, info.LastBlockAppHash, height, hash)
	}
	var after wire.Account
	queryJSON(t, b, wire.PathAccount(devKey("bob").Account()), &after)
	if after != before || after.Balance != DevBalance+11 {
		t.Fatalf("bob %+v, want %+v", after, before)
	}
	var st wire.Status
	queryJSON(t, b, wire.PathStatus(), &st)
	if st.ChainID != DevChainID || st.Height != 4 || !bytes.Equal(st.AppHash[:], hash) || st.Params != wire.DefaultParams() {
		t.Fatalf("status %+v", st)
	}
	// ...and CometBFT replays it: the same hash as the twin's.
	r := finalize(t, b, 5, bs[4]...)
	tr := finalize(t, twin, 5, bs[4]...)
	if !bytes.Equal(r.AppHash, tr.AppHash) {
		t.Fatal("replayed block after restart gives another app hash")
	}
	commit(t, b)
}

func TestFinalizeBlockChecksEnvelope(t *testing.T) {
	a := openApp(t, "")
	initApp(t, a)
	bob := devKey("bob").Account()
	good := tx(t, "alice", 0, wire.Transfer{To: bob, Amount: 1})
	replay := tx(t, "alice", 0, wire.Transfer{To: bob, Amount: 2})
	other, _ := wire.EncodeTx(devKey("alice"), "other", 1, wire.Transfer{To: bob, Amount: 3})
	forged := bytes.Clone(tx(t, "alice", 1, wire.Transfer{To: bob, Amount: 4}))
	forged[len(wire.TxDomain)] ^= 1
	failing := tx(t, "alice", 1, wire.Transfer{To: bob, Amount: 0})
	after := tx(t, "alice", 2, wire.Transfer{To: bob, Amount: 5})
	res := finalize(t, a, 1, good, replay, other, forged, []byte("junk"), failing, after)
	want := []uint32{wire.CodeOK, wire.CodeBadNonce, wire.CodeWrongChainID, wire.CodeBadTxSignature, wire.CodeTxDecode, wire.CodeInvalid, wire.CodeOK}
	for i, r := range res.TxResults {
		if r.Code != want[i] {
			t.Errorf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
	commit(t, a)
	var acc wire.Account
	queryJSON(t, a, wire.PathAccount(devKey("alice").Account()), &acc)
	// Three transactions ran (one failed): each paid its fee.
	var fees uint64
	for _, raw := range [][]byte{good, failing, after} {
		f, _ := txFee(wire.DefaultParams(), wire.Transfer{}, len(raw))
		fees += f
	}
	if acc.Nonce != 3 || acc.Balance != DevBalance-6-fees || fees == 0 {
		t.Fatalf("alice %+v, want balance %d - 6 - fees %d", acc, uint64(DevBalance), fees)
	}
}

func TestCheckTxNonces(t *testing.T) {
	a := openApp(t, "")
	initApp(t, a)
	finalize(t, a, 1)
	commit(t, a)
	bob := devKey("bob").Account()
	check := func(b []byte) uint32 {
		r, err := a.CheckTx(bg, &abci.RequestCheckTx{Tx: b})
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	t0, t1 := tx(t, "alice", 0, wire.Transfer{To: bob, Amount: 1}), tx(t, "alice", 1, wire.Transfer{To: bob, Amount: 1})
	for i, c := range []struct {
		tx   []byte
		code uint32
	}{
		{t0, wire.CodeOK},
		{tx(t, "alice", 0, wire.Transfer{To: bob, Amount: 9}), wire.CodeBadNonce}, // pending nonce 0 taken
		{tx(t, "alice", 2, wire.Transfer{To: bob, Amount: 1}), wire.CodeBadNonce}, // gap
		{t1, wire.CodeOK},
	} {
		if got := check(c.tx); got != c.code {
			t.Errorf("check %d: code %d, want %d", i, got, c.code)
		}
	}
	var n wire.NextNonce
	queryJSON(t, a, wire.PathNonce(devKey("alice").Account()), &n)
	if n.Next != 2 || n.Committed != 0 {
		t.Fatalf("nonce %+v", n)
	}
	// The block takes only t0; after Commit the mempool rechecks t1.
	finalize(t, a, 2, t0)
	commit(t, a)
	if got := check(t1); got != wire.CodeOK {
		t.Fatalf("recheck of t1: %d", got)
	}
}

func TestBps(t *testing.T) {
	tests := []struct{ v, bp, want uint64 }{
		{10_000_000, 1000, 1_000_000},
		{999, 1000, 99},
		{1, 5000, 0},
		{3, 5000, 1},
		{math.MaxUint64, 10000, math.MaxUint64},
		{math.MaxUint64, 1000, math.MaxUint64 / 10},
		{math.MaxUint64, 0, 0},
	}
	for _, tt := range tests {
		if got := bps(tt.v, tt.bp); got != tt.want {
			t.Errorf("bps(%d, %d) = %d, want %d", tt.v, tt.bp, got, tt.want)
		}
	}
}

func TestGenesisRejects(t *testing.T) {
	a := openApp(t, "")
	bad := []string{
		`{"params":{"challenge_deadline_blocks":0},"accounts":[]}`,
		`{"params":{"challenge_deadline_blocks":5},"accounts":[],"extra":1}`,
		`not json`,
	}
	for _, g := range bad {
		if _, err := a.InitChain(bg, &abci.RequestInitChain{ChainId: "x", InitialHeight: 1, AppStateBytes: []byte(g)}); err == nil {
			t.Errorf("genesis %s accepted", g)
		}
	}
}

// TestBatchVerifiedBlock: in a block verified as one batch, a forged
// checkpoint signature or envelope fails just its own transaction.
func TestBatchVerifiedBlock(t *testing.T) {
	c := newBenchChain(t, 4, 6)
	good0 := c.nextCheckpoint(t, 0)
	bad := c.nextCheckpoint(t, 1)
	// Corrupt the last provider signature inside the JSON body: the
	// envelope is re-signed, so only the checkpoint signature is wrong.
	d, err := wire.DecodeTx(bad)
	if err != nil {
		t.Fatal(err)
	}
	cp := d.Call.(wire.SubmitCheckpoint)
	cp.Signatures[2].Signature[7] ^= 1
	bad = mustTx(t, c.owner, d.Nonce, cp)
	good2 := c.nextCheckpoint(t, 2)
	forgedEnv := bytes.Clone(c.nextCheckpoint(t, 3))
	forgedEnv[len(wire.TxDomain)+1] ^= 1
	res := c.blockResults(t, [][]byte{good0, bad, good2, forgedEnv})
	want := []uint32{wire.CodeOK, wire.CodeCorrupt, wire.CodeOK, wire.CodeBadTxSignature}
	for i, r := range res {
		if r.Code != want[i] {
			t.Errorf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
}
