package chain

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzExecute seeds")

// fuzzSeeds are call unions that reach deep into execution against the
// fuzz chain's state (bucket 1 with alice as admin, bob a provider).
func fuzzSeeds() []string {
	alice, bob := devKey("alice").Account(), devKey("bob").Account()
	leaf := func(data string) core.Leaf {
		return core.Leaf{Seq: 0, ContentHash: core.Sum256([]byte(data)), Size: uint64(len(data))}
	}
	signed := func(data string) core.SignedLeaf {
		sl, _ := core.SignLeaf(devKey("alice"), DevChainID, 1, leaf(data))
		return sl
	}
	calls := []wire.Call{
		wire.Transfer{To: bob, Amount: 5},
		wire.CreateBucket{Quorum: 1, Members: []wire.Member{{Account: bob, Role: wire.Writer}}},
		wire.SetMember{Bucket: 1, Member: wire.Member{Account: bob, Role: wire.Reader}},
		wire.CreateAgreement{Bucket: 1, Provider: bob, Role: wire.Primary, MaxBytes: 1, Duration: 5, Payment: 1},
		wire.SubmitCheckpoint{Bucket: 1, LeafCount: 1, Signatures: []wire.Signature{{Provider: bob}}},
		wire.OpenChallenge{Provider: bob, Bucket: 1, Evidence: wire.ChallengeEvidence{FromCheckpoint: true}, Deposit: 1000},
		wire.RespondChallenge{Challenge: 1, Data: []byte("x")},
		wire.ResolveChallenge{Challenge: 1},
		wire.CreateDrive{Name: "d", Providers: []core.AccountID{bob}, Duration: 9, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}},
		wire.ShareDrive{Drive: 1, Member: wire.Member{Account: alice, Role: wire.Writer}},
		wire.DeleteDrive{Drive: 1},
		wire.WithdrawStake{Amount: 1},
		// Signed leaves: an answer to the open challenge 1, and two leaves
		// alice (bucket 1's admin) signed at one seq.
		wire.RespondChallenge{Challenge: 1, Leaf: signed(""), Data: []byte{}},
		wire.ReportEquivocation{Bucket: 1, A: signed("a"), B: signed("b")},
		wire.EndAgreement{Bucket: 1, Provider: bob},
		wire.RegisterProvider{Endpoint: "http://a", Stake: 1_000_000, Capacity: 1, Terms: wire.ProviderTerms{Accepting: true, PricePerGiBBlock: 1, MaxDuration: 1, Roles: []wire.Role{wire.Replica}}},
		// dave's key as a consensus key, with its proof for operator alice.
		wire.JoinValidator{PubKey: wire.ValidatorKey(devKey("dave").Account()), Stake: wire.ValidatorPowerUnit,
			Proof: devKey("dave").Sign(wire.ValidatorProofPayload(DevChainID, alice))},
		wire.LeaveValidator{PubKey: wire.ValidatorKey(devKey("dave").Account())},
	}
	var out []string
	for _, c := range calls {
		b, _ := wire.MarshalCall(c)
		out = append(out, string(b))
	}
	return out
}

// FuzzExecute signs whatever call JSON the fuzzer makes (as alice) and
// runs it through CheckTx and FinalizeBlock on a chain with a bucket, a
// provider and a drive: the chain must never fail internally (a recovered
// panic gives code internal) and the app hash must stay deterministic.
func FuzzExecute(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	// One chain per fuzz process, built once: each input runs
	// FinalizeBlock on it and is then discarded (nothing is committed), so
	// no database is opened per input and coverage stays deterministic.
	a := fuzzChain(f)
	base := a.Height()
	f.Fuzz(func(t *testing.T, callJSON []byte) {
		body, err := json.Marshal(map[string]any{"chain_id": DevChainID, "signer": devKey("alice").Account(), "nonce": 4, "call": json.RawMessage(callJSON)})
		if err != nil {
			return // not JSON: nothing to run
		}
		k := devKey("alice")
		sig := k.Sign(append([]byte(wire.TxDomain), body...))
		tx := append(append([]byte(wire.TxDomain), sig[:]...), body...)
		run := func() *abci.ResponseFinalizeBlock {
			defer a.discardPending()
			a.CheckTx(bg, &abci.RequestCheckTx{Tx: tx})
			return finalize(t, a, base+1, tx)
		}
		ra, rb := run(), run()
		if r := ra.TxResults[0]; r.Code == wire.CodeInternal {
			t.Fatalf("internal error: %s", r.Log)
		}
		if string(ra.AppHash) != string(rb.AppHash) || ra.TxResults[0].Code != rb.TxResults[0].Code {
			t.Fatal("same block, different outcomes")
		}
	})
}

// discardPending forgets a finalized, uncommitted block and the mempool
// bookkeeping, as a restart would.
func (a *App) discardPending() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending, a.pendingHash, a.pendingHeight = nil, nil, 0
	a.checkNonces = map[core.AccountID]uint64{}
	a.checkFees = map[core.AccountID]uint64{}
	a.checked, a.checkedBytes = map[core.H256]*wire.Tx{}, 0
}

// fuzzChain: bob is a provider with a primary agreement on alice's bucket
// 1; alice owns drive 1 on bucket 2; bucket 1 has a checkpoint signed by
// bob and an open challenge against him.
func fuzzChain(t testing.TB) *App {
	a := openApp(t, "")
	initApp(t, a)
	bob := devKey("bob")
	com := core.Commitment{ChainID: DevChainID, Bucket: 1, MMRRoot: core.Sum256(nil), LeafCount: 1}
	sc, _ := com.Sign(bob)
	txs := [][]byte{
		tx(t, "bob", 0, wire.RegisterProvider{Endpoint: "http://b", Stake: 5_000_000, Capacity: 1 << 40, Terms: wire.ProviderTerms{Accepting: true}}),
		tx(t, "alice", 0, wire.CreateBucket{Quorum: 1}),
		tx(t, "alice", 1, wire.CreateAgreement{Bucket: 1, Provider: bob.Account(), Role: wire.Primary, Duration: 100}),
		tx(t, "alice", 2, wire.CreateDrive{Name: "d", Providers: []core.AccountID{bob.Account()}, Duration: 100, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}),
		tx(t, "alice", 3, wire.SubmitCheckpoint{Bucket: 1, MMRRoot: com.MMRRoot, LeafCount: 1, Signatures: []wire.Signature{{Provider: bob.Account(), Signature: sc.Signature}}}),
		tx(t, "charlie", 0, wire.OpenChallenge{Provider: bob.Account(), Bucket: 1, Evidence: wire.ChallengeEvidence{Commitment: &sc}, Deposit: 1000}),
	}
	for i, r := range finalize(t, a, 1, txs...).TxResults {
		if r.Code != 0 {
			t.Fatalf("fuzz chain setup tx %d: %s", i, r.Log)
		}
	}
	commit(t, a)
	return a
}

func TestFuzzExecuteCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzExecute")
	if *updateCorpus {
		os.MkdirAll(dir, 0o755)
		for i, s := range fuzzSeeds() {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) == 0 {
		t.Fatalf("seed corpus %s missing: %v", dir, err)
	}
}
