package checkpoint_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// Benchmarks of docs/benchmarks.md, "## checkpoint"; bench/checkpoint.sh
// runs them. They never run in plain `go test`, and assert only that each
// operation succeeded, never how long it took.

// BenchmarkCheckpointLatency is one SubmitCheckpoint (collect five signed
// commitments, check the on-chain state, get a consistency proof, submit
// the transaction and wait for its block) on a devnet of five providers
// with 50 ms blocks, each iteration over one new leaf written to every
// provider beforehand (outside the timer). Providers: all healthy, one
// hung (accepts the connection, never answers) with nothing known about
// it, or one hung that the pool's health record already knows does not
// answer (as a later CLI run would, from the health file). Collection:
// early quorum with the default adaptive grace for stragglers (half the
// quorum's time, 10 ms to 200 ms), early quorum with the former fixed
// 200 ms grace, with no grace, or WaitForAll (the seed's behaviour).
// ProviderTimeout 2 s, MaxRetries 1, RetryDelay 100 ms, so a hung provider
// costs WaitForAll about 2 s + 0.1 s + 2 s; with the seed's 30 s and 3
// retries it would be about 2 minutes.
func BenchmarkCheckpointLatency(b *testing.B) {
	tn := startNet(b, netOptions{providers: 5, noUpload: true})
	const hung = 4
	modes := []struct {
		name    string
		waitAll bool
		grace   func(*checkpoint.Config)
	}{
		{"early", false, func(*checkpoint.Config) {}},
		{"early-fixed200", false, func(c *checkpoint.Config) { c.GraceWindow, c.GraceFloor = 200*time.Millisecond, 200*time.Millisecond }},
		{"early-nograce", false, func(c *checkpoint.Config) { c.GraceWindow, c.GraceFloor, c.GraceFactor = 0, 0, 0 }},
		{"waitall", true, func(*checkpoint.Config) {}},
	}
	seq := tn.nextSeq(0)
	// A fresh network is still busy (providers discovering the bucket,
	// first syncs): let it settle over a few untimed checkpoints.
	warm := tn.newManager(fastConfig())
	for i := 0; i < 10; i++ {
		tn.mustWrite(seq, []byte(fmt.Sprintf("leaf %d", seq)), 0, 1, 2, 3, 4)
		seq++
		if r := warm.SubmitCheckpoint(tn.ctx, tn.bucket()); r.Kind != checkpoint.Submitted {
			b.Fatal(r.Err())
		}
	}
	for _, providers := range []string{"healthy", "hung", "hung-known"} {
		for _, mode := range modes {
			if providers == "hung-known" && mode.name != "early" {
				continue // only early quorum's default uses the record
			}
			cfg := checkpoint.DefaultConfig()
			cfg.ProviderTimeout = 2 * time.Second
			cfg.MaxRetries = 1
			cfg.RetryDelay = 100 * time.Millisecond
			cfg.WaitForAll = mode.waitAll
			mode.grace(&cfg)
			mgr := tn.newManager(cfg)
			if _, err := mgr.CollectCommitments(tn.ctx, tn.bucket()); err != nil { // discovery, chain id, connections
				b.Fatal(err)
			}
			if providers == "hung-known" {
				for i := 0; i < 5; i++ { // as an earlier run's health file would say
					mgr.Pool().Record(tn.accounts[hung], cfg.ProviderTimeout, context.DeadlineExceeded)
				}
			}
			b.Run("providers="+providers+"/collect="+mode.name, func(b *testing.B) {
				if providers != "healthy" {
					tn.faults.set(tn.hosts[hung], fault{hang: true})
					defer tn.faults.set(tn.hosts[hung], fault{})
				}
				signers := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					tn.mustWrite(seq, []byte(fmt.Sprintf("leaf %d", seq)), 0, 1, 2, 3, 4)
					seq++
					b.StartTimer()
					r := mgr.SubmitCheckpoint(tn.ctx, tn.bucket())
					if r.Kind != checkpoint.Submitted || r.AlreadyOnChain {
						b.Fatalf("%s (already on chain: %v): %v", r.Kind, r.AlreadyOnChain, r.Err())
					}
					signers += len(r.Signers)
				}
				b.ReportMetric(float64(signers)/float64(b.N), "signers/op")
			})
		}
	}
}

// BenchmarkCheckpointCollect is one CollectCommitments over 5, 25 and 100
// providers. They are real provider servers (provider.Server, its HTTP
// handlers, over a memory store holding the same 64 leaves, signing with
// its own ed25519 key), each on its own 127.0.0.1 port, in this process;
// the chain is a small fake that only answers discovery (agreements,
// endpoints, keys). Each provider signs its commitment once and serves it
// from its cache, as a real one does between writes, so an iteration is
// the HTTP round trips, the JSON and the manager's ed25519 verification of
// every answer. Default configuration (early quorum, adaptive grace).
func BenchmarkCheckpointCollect(b *testing.B) {
	for _, n := range []int{5, 25, 100} {
		b.Run(fmt.Sprintf("providers=%d", n), func(b *testing.B) {
			fc := startBenchProviders(b, n, 64)
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConns = 0 // no global limit: one idle connection per provider
			b.Cleanup(tr.CloseIdleConnections)
			hc := &http.Client{Transport: tr}
			owner, _ := core.DevKey("alice")
			dial := func(baseURL string) (checkpoint.Provider, error) {
				// Leaves and proofs are private: the bucket's owner signs.
				c, err := providerclient.New(baseURL, providerclient.Options{HTTPClient: hc, Signer: owner, ChainID: fc.chainID, Timeout: time.Hour})
				if err != nil {
					return nil, err
				}
				return c, nil
			}
			alice, _ := core.DevKey("alice")
			mgr, err := checkpoint.New(fc, dial, alice, checkpoint.DefaultConfig(), checkpoint.WithEndpointResolver(providerclient.BaseURL))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := mgr.CollectCommitments(ctx, fc.bucket); err != nil { // discovery, connections, signing
				b.Fatal(err)
			}
			agreeing := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				coll, err := mgr.CollectCommitments(ctx, fc.bucket)
				if err != nil || !coll.Reached || len(coll.Invalid)+len(coll.Unreachable) != 0 {
					b.Fatalf("collection %+v: %v", coll, err)
				}
				agreeing += len(coll.Agreeing)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/provider")
			b.ReportMetric(float64(agreeing)/float64(b.N), "agreeing/op")
		})
	}
}

// BenchmarkCheckpointEndToEnd uploads a small file (one chunk, its
// manifest and the new root directory: three leaves) to a drive with the
// Immediate strategy on a devnet of three providers with 50 ms blocks, and
// waits for the checkpoint that carries the new root. blocks/op is the
// chain height of that checkpoint minus the height when the upload began.
func BenchmarkCheckpointEndToEnd(b *testing.B) {
	tn := startNet(b, netOptions{noUpload: true, strategy: wire.StrategyImmediate})
	cfg := fastConfig()
	mgr := tn.newManager(cfg)
	fsc := tn.fsFor(mgr)
	blocks := int64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h0 := tn.height()
		up, err := fsc.UploadFile(tn.ctx, "docs", fmt.Sprintf("/f%d.txt", i), bytes.NewReader([]byte(fmt.Sprintf("file %d", i))), drive.UploadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if r := up.Checkpoint; r == nil || r.Kind != checkpoint.Submitted || r.DriveRoot != up.RootCID {
			b.Fatalf("upload %+v: checkpoint %+v", up, r)
		}
		blocks += up.Checkpoint.Height - h0
	}
	b.ReportMetric(float64(blocks)/float64(b.N), "blocks/op")
}

// benchChain is the chain as discovery and an unstarted provider see it:
// one bucket owned by alice, every provider a primary of it.
type benchChain struct {
	chainID   string
	bucket    core.BucketID
	owner     core.AccountID
	providers []wire.Provider
}

func (c *benchChain) ChainID(context.Context) (string, error) { return c.chainID, nil }
func (c *benchChain) Height(context.Context) (int64, error)   { return 10, nil }

func (c *benchChain) Bucket(_ context.Context, id core.BucketID) (wire.Bucket, error) {
	if id != c.bucket {
		return wire.Bucket{}, core.Errorf("bench.Bucket", core.NotFound, "no bucket %s", id)
	}
	return wire.Bucket{ID: id, Owner: c.owner, Members: []wire.Member{{Account: c.owner, Role: wire.Admin}}, Quorum: 1, MinProviders: 1}, nil
}

func (c *benchChain) BucketAgreements(_ context.Context, id core.BucketID) ([]wire.Agreement, error) {
	if id != c.bucket {
		return nil, nil
	}
	out := make([]wire.Agreement, len(c.providers))
	for i, p := range c.providers {
		out[i] = wire.Agreement{Bucket: id, Provider: p.Account, Role: wire.Primary, MaxBytes: 1 << 40, ExpiryHeight: 1 << 40, Active: true}
	}
	return out, nil
}

func (c *benchChain) ProviderAgreements(ctx context.Context, a core.AccountID) ([]wire.Agreement, error) {
	ags, _ := c.BucketAgreements(ctx, c.bucket)
	var out []wire.Agreement
	for _, ag := range ags {
		if ag.Provider == a {
			out = append(out, ag)
		}
	}
	return out, nil
}

func (c *benchChain) Provider(_ context.Context, a core.AccountID) (wire.Provider, error) {
	for _, p := range c.providers {
		if p.Account == a {
			return p, nil
		}
	}
	return wire.Provider{}, core.Errorf("bench.Provider", core.NotFound, "no provider %s", a.Short())
}

func (c *benchChain) LatestCheckpoint(context.Context, core.BucketID) (wire.Checkpoint, error) {
	return wire.Checkpoint{}, core.Errorf("bench.LatestCheckpoint", core.NotFound, "no checkpoint")
}

func (c *benchChain) Challenge(context.Context, core.ChallengeID) (wire.Challenge, error) {
	return wire.Challenge{}, core.Errorf("bench.Challenge", core.NotFound, "no challenge")
}

func (c *benchChain) Challenges(context.Context, wire.ChallengeFilter) ([]wire.Challenge, error) {
	return nil, nil
}

func (c *benchChain) SubscribeEvents(context.Context, string) (<-chan wire.Event, error) {
	return nil, core.Errorf("bench.SubscribeEvents", core.Unavailable, "no events")
}

func (c *benchChain) SubscribeEventsFor(context.Context, string, string, string) (<-chan wire.Event, error) {
	return nil, core.Errorf("bench.SubscribeEventsFor", core.Unavailable, "no events")
}

func (c *benchChain) Submit(context.Context, core.PrivateKey, wire.Call) (*wire.TxResult, error) {
	return nil, core.Errorf("bench.Submit", core.Unavailable, "read-only chain")
}

// startBenchProviders serves n providers, each with its own key and a
// memory store holding the same `leaves` leaves of the bucket, and
// returns the chain that lists them. Their background loops (sync,
// discovery, challenges) are not started: only the HTTP API serves.
func startBenchProviders(b *testing.B, n, leaves int) *benchChain {
	alice, _ := core.DevKey("alice")
	fc := &benchChain{chainID: "cairn-bench", bucket: 1, owner: alice.Account()}
	for i := 0; i < n; i++ {
		key, err := core.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		st := store.NewMemory(store.Options{})
		for seq := 0; seq < leaves; seq++ {
			data := []byte(fmt.Sprintf("leaf %d", seq))
			lf, err := core.SignLeaf(alice, fc.chainID, fc.bucket, core.Leaf{Seq: uint64(seq), ContentHash: core.Sum256(data), Size: uint64(len(data))})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Append(fc.bucket, store.Write{Leaf: lf, Data: bytes.NewReader(data), MaxBytes: 1 << 40}); err != nil {
				b.Fatal(err)
			}
		}
		srv, err := provider.New(provider.DefaultConfig(), provider.Deps{Key: key, Store: st, Chain: fc})
		if err != nil {
			b.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Serve(l)
		}()
		b.Cleanup(func() {
			srv.Close()
			<-done
			st.Close()
		})
		fc.providers = append(fc.providers, wire.Provider{Account: key.Account(), PublicKey: key.Account(), Endpoint: "http://" + l.Addr().String(), Stake: 1 << 20})
	}
	return fc
}
