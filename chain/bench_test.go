package chain

import (
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// benchChain is an app with `buckets` buckets, each with three primaries
// drawn from a pool of providers, ready for checkpoints.
type benchChain struct {
	app       *App
	h         int64
	owner     core.PrivateKey
	nonce     uint64
	providers []core.PrivateKey
	buckets   []core.BucketID
	signers   [][3]core.PrivateKey
	logs      []*mmr.MMR
	counts    []uint64
}

func newBenchChain(b testing.TB, buckets, pool int) *benchChain {
	app := openApp(b, "")
	g := DevGenesis()
	owner, _ := core.GenerateKey(nil)
	g.Accounts = append(g.Accounts, GenesisAccount{ID: owner.Account(), Balance: 1 << 60})
	c := &benchChain{app: app, owner: owner}
	for range pool {
		k, _ := core.GenerateKey(nil)
		c.providers = append(c.providers, k)
		g.Accounts = append(g.Accounts, GenesisAccount{ID: k.Account(), Balance: 1 << 40})
	}
	initAppGenesis(b, app, g)
	var txs [][]byte
	for _, p := range c.providers {
		txs = append(txs, mustTx(b, p, 0, wire.RegisterProvider{Endpoint: "http://p", Stake: 1 << 30, Capacity: 1 << 40, Terms: wire.ProviderTerms{Accepting: true}}))
	}
	c.block(b, txs)
	txs = nil
	for i := range buckets {
		c.buckets = append(c.buckets, core.BucketID(i+1))
		txs = append(txs, c.ownerTx(b, wire.CreateBucket{Quorum: 3}))
		var s [3]core.PrivateKey
		for j := range 3 {
			s[j] = c.providers[(3*i+j)%pool]
			txs = append(txs, c.ownerTx(b, wire.CreateAgreement{Bucket: core.BucketID(i + 1), Provider: s[j].Account(), Role: wire.Primary, Duration: 1 << 40}))
		}
		c.signers = append(c.signers, s)
		m, _ := mmr.New(mmr.NewMemStore())
		c.logs = append(c.logs, m)
		c.counts = append(c.counts, 0)
		if len(txs) >= 2000 {
			c.block(b, txs)
			txs = nil
		}
	}
	c.block(b, txs)
	return c
}

func (c *benchChain) ownerTx(b testing.TB, call wire.Call) []byte {
	tx := mustTx(b, c.owner, c.nonce, call)
	c.nonce++
	return tx
}

func (c *benchChain) block(b testing.TB, txs [][]byte) {
	for i, r := range c.blockResults(b, txs) {
		if r.Code != 0 {
			b.Fatalf("block %d tx %d: %s", c.h, i, r.Log)
		}
	}
}

func (c *benchChain) blockResults(b testing.TB, txs [][]byte) []*abci.ExecTxResult {
	c.h++
	res := finalize(b, c.app, c.h, txs...)
	commit(b, c.app)
	return res.TxResults
}

// nextCheckpoint grows bucket i's log by one leaf and returns the signed
// checkpoint tx, with a consistency proof from the previous one.
func (c *benchChain) nextCheckpoint(b testing.TB, i int) []byte {
	m := c.logs[i]
	leaf := core.Leaf{Seq: c.counts[i], ContentHash: core.Sum256([]byte(fmt.Sprint(i, c.counts[i]))), Size: 1}
	m.Append(leaf.Bytes())
	old := c.counts[i]
	c.counts[i]++
	root, _ := m.Root()
	cp := wire.SubmitCheckpoint{Bucket: c.buckets[i], MMRRoot: core.H256(root), LeafCount: c.counts[i]}
	if old > 0 {
		cp.Consistency, _ = m.ConsistencyProof(old, c.counts[i])
	}
	com := core.Commitment{ChainID: DevChainID, Bucket: c.buckets[i], MMRRoot: cp.MMRRoot, LeafCount: cp.LeafCount}
	for _, k := range c.signers[i] {
		sc, _ := com.Sign(k)
		cp.Signatures = append(cp.Signatures, wire.Signature{Provider: k.Account(), Signature: sc.Signature})
	}
	return c.ownerTx(b, cp)
}

// BenchmarkCheckpoints: blocks of perBlock checkpoints (one per bucket,
// three signatures each, a consistency proof from the bucket's previous
// checkpoint) through FinalizeBlock and Commit. Each costs four ed25519
// verifications (three providers, one tx envelope).
//
// With checktx, each transaction first goes through CheckTx, as on a node
// (the mempool verifies the envelope; FinalizeBlock then skips it).
//
// %-of-block-batch and %-of-batch64 are the throughput as a share of the
// ceiling measured block by block, interleaved with the blocks: CometBFT's
// batch verifier alone over the same block's signatures, in one batch (as
// FinalizeBlock batches them; large batches verify faster per signature)
// and in batches of 64 (the ceiling, BenchmarkVerifyCeiling's
// batch64). Interleaving keeps the ratios steady on a machine whose load
// changes during the run.
func BenchmarkCheckpoints(b *testing.B) {
	for _, tc := range []struct {
		perBlock int
		checkTx  bool
	}{{100, false}, {1000, false}, {1000, true}} {
		perBlock := tc.perBlock
		b.Run(fmt.Sprintf("per_block=%d/checktx=%v", perBlock, tc.checkTx), func(b *testing.B) {
			c := newBenchChain(b, perBlock, 64)
			blocks := (b.N + perBlock - 1) / perBlock
			all := make([][][]byte, blocks)
			for k := range all {
				for i := range perBlock {
					all[k] = append(all[k], c.nextCheckpoint(b, i))
				}
			}
			b.ResetTimer()
			var el, ceiling, ceiling64 time.Duration
			for _, txs := range all {
				start := time.Now()
				if tc.checkTx {
					for _, tx := range txs {
						if r, _ := c.app.CheckTx(bg, &abci.RequestCheckTx{Tx: tx}); r.Code != 0 {
							b.Fatal(r.Log)
						}
					}
				}
				c.block(b, txs)
				el += time.Since(start)
				whole, by64 := batchVerifyTime(b, txs)
				ceiling += whole
				ceiling64 += by64
			}
			b.ReportMetric(float64(blocks*perBlock)/el.Seconds(), "checkpoints/s")
			b.ReportMetric(100*ceiling.Seconds()/el.Seconds(), "%-of-block-batch")
			b.ReportMetric(100*ceiling64.Seconds()/el.Seconds(), "%-of-batch64")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// batchVerifyTime is how long CometBFT's batch verifier, alone, takes over
// the signatures of a block of checkpoint txs (each envelope and each
// provider signature): in one batch, as FinalizeBlock batches them, and in
// batches of 64, as BenchmarkVerifyCeiling/batch64 does. Timed right after
// the block, they are the ceilings under the same load; decoding the txs
// to find the signatures is not timed.
func batchVerifyTime(b *testing.B, txs [][]byte) (whole, by64 time.Duration) {
	b.StopTimer()
	defer b.StartTimer()
	type item struct {
		key core.AccountID
		msg []byte
		sig core.Signature
	}
	var items []item
	for _, raw := range txs {
		tx, err := wire.DecodeTx(raw)
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, item{tx.Signer, tx.SignBytes(), tx.Signature})
		cp := tx.Call.(wire.SubmitCheckpoint)
		payload, _ := core.Commitment{ChainID: DevChainID, Bucket: cp.Bucket, MMRRoot: cp.MMRRoot, StartSeq: cp.StartSeq, LeafCount: cp.LeafCount}.Payload()
		for _, s := range cp.Signatures {
			items = append(items, item{s.Provider, payload, s.Signature})
		}
	}
	verify := func(items []item) {
		bv := cmted.NewBatchVerifier()
		for _, it := range items {
			bv.Add(cmted.PubKey(it.key[:]), it.msg, it.sig[:])
		}
		if ok, _ := bv.Verify(); !ok {
			b.Fatal("batch does not verify")
		}
	}
	start := time.Now()
	verify(items)
	whole = time.Since(start)
	start = time.Now()
	for i := 0; i < len(items); i += 64 {
		verify(items[i:min(i+64, len(items))])
	}
	return whole, time.Since(start)
}

// BenchmarkVerifyCeiling: what ed25519 verification alone allows, measured
// in the same run. core's verifier (one at a time, ZIP-215, CometBFT's
// cached keys) is what the chain uses; the batch verifier is the headroom.
func BenchmarkVerifyCeiling(b *testing.B) {
	keys := make([]core.PrivateKey, 64)
	for i := range keys {
		keys[i], _ = core.GenerateKey(nil)
	}
	const n = 1024
	msgs := make([][]byte, n)
	sigs := make([]core.Signature, n)
	for i := range msgs {
		msgs[i], _ = core.Commitment{ChainID: DevChainID, Bucket: core.BucketID(i + 1), MMRRoot: core.Sum256([]byte{byte(i)}), LeafCount: uint64(i)}.Payload()
		sigs[i] = keys[i%64].Sign(msgs[i])
	}
	b.Run("core.Verify", func(b *testing.B) {
		start := time.Now()
		for i := range b.N {
			if !keys[i%n%64].Account().Verify(msgs[i%n], sigs[i%n]) {
				b.Fatal("verify")
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifies/s")
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/4, "checkpoints/s")
	})
	b.Run("batch64", func(b *testing.B) {
		start := time.Now()
		done := 0
		for done < b.N {
			bv := cmted.NewBatchVerifier()
			for j := 0; j < 64; j++ {
				i := (done + j) % n
				a := keys[i%64].Account()
				bv.Add(cmted.PubKey(a[:]), msgs[i], sigs[i][:])
			}
			if ok, _ := bv.Verify(); !ok {
				b.Fatal("batch")
			}
			done += 64
		}
		b.ReportMetric(float64(done)/time.Since(start).Seconds(), "verifies/s")
		b.ReportMetric(float64(done)/time.Since(start).Seconds()/4, "checkpoints/s")
	})
}
