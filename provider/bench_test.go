package provider_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// Benchmarks of docs/benchmarks.md, "## provider". The provider runs over
// real HTTP on 127.0.0.1 with a Pebble store in a temp dir; the chain is the
// in-memory fake (chain reads are cached and off the hot path).

func benchServer(b *testing.B, st store.Store) (*testProvider, *fakeChain) {
	fc := newFakeChain()
	charlie, alice, bob := devKey("charlie"), devKey("alice"), devKey("bob")
	fc.addBucket(1, alice.Account(), charlie.Account(), 1<<50, bob.Account())
	p := startServer(b, provider.DefaultConfig(), provider.Deps{Key: charlie, Store: st, Chain: fc}, false)
	return p, fc
}

// BenchmarkWrite writes objects of 1 MiB and 64 MiB (64 writes of 1 MiB,
// each fsynced before it is acknowledged) and, in the same loop, the same
// bytes to a plain file with one fsync, and again with an fsync after each
// MiB; it reports the three rates and the ratios of the times (provider /
// file).
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			st, err := store.OpenPebble(b.TempDir(), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			p, _ := benchServer(b, st)
			bob := devKey("bob")
			ctx := context.Background()
			chunk := blob(1, 1<<20)
			dir := b.TempDir()
			var seq uint64
			var prov, file, fileEach time.Duration
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				for off := 0; off < size; off += len(chunk) {
					chunk[0], chunk[1], chunk[2] = byte(seq), byte(seq>>8), byte(seq>>16) // fresh content: no dedup
					if _, err := put(ctx, p.client, 1, seq, chunk, bob); err != nil {
						b.Fatal(err)
					}
					seq++
				}
				t1 := time.Now()
				f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < size; off += len(chunk) {
					chunk[0]++
					if _, err := f.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				f.Close()
				t2 := time.Now()
				f, err = os.Create(filepath.Join(dir, fmt.Sprint(i, "-each")))
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < size; off += len(chunk) {
					chunk[0]++
					if _, err := f.Write(chunk); err != nil {
						b.Fatal(err)
					}
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
				prov += t1.Sub(t0)
				file += t2.Sub(t1)
				fileEach += time.Since(t2)
			}
			b.StopTimer()
			total := float64(size) * float64(b.N) / 1e6
			b.ReportMetric(total/prov.Seconds(), "provider-MB/s")
			b.ReportMetric(total/file.Seconds(), "file-MB/s")
			b.ReportMetric(total/fileEach.Seconds(), "file-fsync-each-MiB-MB/s")
			b.ReportMetric(prov.Seconds()/file.Seconds(), "x-file-time")
			b.ReportMetric(prov.Seconds()/fileEach.Seconds(), "x-file-fsync-each-time")
		})
	}
}

// BenchmarkCommitment measures GET /commitment from parallel clients.
func BenchmarkCommitment(b *testing.B) {
	st, err := store.OpenPebble(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p, _ := benchServer(b, st)
	bob := devKey("bob")
	ctx := context.Background()
	for i := range 10 {
		d := blob(i, 1000)
		if _, err := put(ctx, p.client, 1, uint64(i), d, bob); err != nil {
			b.Fatal(err)
		}
	}
	// Keep a connection per client goroutine (http.DefaultClient keeps 2).
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c, err := providerclient.New(p.url, providerclient.Options{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Commitment(ctx, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

var (
	bigOnce  sync.Once
	bigStore store.Store
	bigErr   error
)

const bigLeaves = 1_000_000

// bigLog is a Pebble store holding one bucket of 10^6 leaves (empty blobs,
// appended without fsync to build it in seconds), kept for the process.
func bigLog(b *testing.B) store.Store {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-bench-")
		if err != nil {
			bigErr = err
			return
		}
		bigStore, bigErr = store.OpenPebble(dir, store.Options{NoSync: true})
		if bigErr != nil {
			return
		}
		empty := core.Sum256(nil)
		start := time.Now()
		for i := range uint64(bigLeaves) {
			if _, err := bigStore.Append(1, store.Write{Leaf: core.SignedLeaf{Leaf: core.Leaf{Seq: i, ContentHash: empty}}, Data: bytes.NewReader(nil), MaxBytes: 1}); err != nil {
				bigErr = err
				return
			}
		}
		fmt.Fprintf(os.Stderr, "built a log of %d leaves in %v\n", bigLeaves, time.Since(start))
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigStore
}

// BenchmarkProof measures an inclusion proof of a random leaf at 10^6
// leaves: from the store, and over HTTP (GET /proof) with its p99.
func BenchmarkProof(b *testing.B) {
	st := bigLog(b)
	r := rand.New(rand.NewPCG(1, 2))
	b.Run("store", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := st.Proof(1, r.Uint64N(bigLeaves), bigLeaves); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		p, _ := benchServer(b, nopCloseStore{st})
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := p.client.ProofAt(ctx, 1, r.Uint64N(bigLeaves), bigLeaves); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
}

// nopCloseStore keeps the shared big store open when a server closes it.
type nopCloseStore struct{ store.Store }

func (nopCloseStore) Close() error { return nil }
