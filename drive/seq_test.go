package drive

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

const seqChainID = "cairn-seq-test"

// seqProvider is one provider's answer to a commitment request.
type seqProvider struct {
	key       core.PrivateKey
	leafCount uint64
	signer    core.PrivateKey // who signs the answer (a forger when not key)
	bucket    core.BucketID   // the bucket the answer is about
	err       error
	// hold, if set, keeps each request unanswered until it is closed or
	// the request is cancelled (a hung provider).
	hold  chan struct{}
	calls atomic.Int32 // commitment requests received
}

func (p *seqProvider) Commitment(ctx context.Context, _ core.BucketID) (core.SignedCommitment, error) {
	p.calls.Add(1)
	if p.hold != nil {
		select {
		case <-p.hold:
		case <-ctx.Done():
			return core.SignedCommitment{}, core.E("test", core.Unavailable, ctx.Err())
		}
	}
	if p.err != nil {
		return core.SignedCommitment{}, p.err
	}
	sc, err := core.Commitment{ChainID: seqChainID, Bucket: p.bucket, MMRRoot: core.H256{1}, LeafCount: p.leafCount}.Sign(p.signer)
	sc.Provider = p.key.Account()
	return sc, err
}

func (p *seqProvider) Write(context.Context, core.BucketID, core.SignedLeaf, []byte) (core.Leaf, error) {
	return core.Leaf{}, core.Errorf("test", core.Internal, "not in this test")
}

func (p *seqProvider) Blob(context.Context, core.BucketID, core.H256) (io.ReadCloser, error) {
	return nil, core.Errorf("test", core.NotFound, "not in this test")
}

func (p *seqProvider) Used(context.Context, core.BucketID) (uint64, error) { return 0, nil }

func (p *seqProvider) Leaves(context.Context, core.BucketID, uint64, int) ([]core.SignedLeaf, error) {
	return nil, nil
}

// seqChain serves the providers' registrations to the pool, and the chain
// id to the drive.
type seqChain struct {
	Chain // the drive's other chain calls are not made here
	ps    []*seqProvider
}

func (c seqChain) ChainID(context.Context) (string, error) { return seqChainID, nil }

func (c seqChain) Bucket(_ context.Context, b core.BucketID) (wire.Bucket, error) {
	return wire.Bucket{ID: b}, nil
}

func (c seqChain) BucketAgreements(context.Context, core.BucketID) ([]wire.Agreement, error) {
	var out []wire.Agreement
	for _, p := range c.ps {
		out = append(out, wire.Agreement{Provider: p.key.Account(), Role: wire.Primary, Active: true})
	}
	return out, nil
}

func (c seqChain) Provider(_ context.Context, a core.AccountID) (wire.Provider, error) {
	return wire.Provider{Account: a, Endpoint: a.String()}, nil
}

type noCheckpoints struct{}

func (noCheckpoints) SetPendingRoot(core.BucketID, checkpoint.PendingRoot) error { return nil }
func (noCheckpoints) PendingRootOf(core.BucketID) (checkpoint.PendingRoot, bool) {
	return checkpoint.PendingRoot{}, false
}
func (noCheckpoints) SubmitCheckpoint(context.Context, core.BucketID) *checkpoint.Result { return nil }

// TestNextSeq checks that the next seq is the highest leaf count among
// the first threshold of answers a provider signed with its registered
// key, about this bucket; that forged, misdirected or missing answers do
// not count; that the search returns at the threshold without waiting for
// a hung provider; that a provider the record says is unresponsive is
// never asked by the search itself, only probed in the background (the
// search returns while that probe is still held); and that a refused
// connection is not retried.
func TestNextSeq(t *testing.T) {
	key := func() core.PrivateKey {
		k, err := core.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	const bucket = core.BucketID(5)
	down := core.Errorf("test", core.Unavailable, "no answer")
	refused := core.E("test", core.Unavailable, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	type answer struct {
		count       uint64
		forged      bool
		otherBucket bool
		hung        bool // answers only once the test (or the search) lets it go
		err         error
		// unresponsive: the pool's record says so before the request
		unresponsive bool
		calls        int32 // commitment requests it must have had (-1: not checked)
	}
	for _, tc := range []struct {
		name     string
		answers  []answer
		want     uint64
		wantKind core.Kind
	}{
		{"all agree", []answer{{count: 4}, {count: 4}, {count: 4}}, 4, 0},
		{"the highest counts", []answer{{count: 4}, {count: 9}, {count: 9}, {count: 9}}, 9, 0},
		{"a forged answer does not count", []answer{{count: 4}, {count: 4}, {count: 50, forged: true}}, 4, 0},
		{"nor one about another bucket", []answer{{count: 4}, {count: 4}, {count: 50, otherBucket: true}}, 4, 0},
		{"one down, retried", []answer{{count: 3}, {err: down, calls: 3}}, 3, 0},
		{"a refused connection is not retried", []answer{{count: 3}, {err: refused, calls: 1}}, 3, 0},
		{"all down", []answer{{err: down}, {err: down}, {err: down}}, 0, core.Unavailable},
		// 2 of 3 answer: the search returns without the hung one.
		{"returns at the threshold", []answer{{count: 4}, {count: 6}, {count: 9, hung: true}}, 6, 0},
		// Known unresponsive: the search does not ask it, a background
		// probe does (held until the search returned), and its answer
		// clears its record.
		{"known unresponsive: probed, not waited for", []answer{{count: 4}, {count: 4}, {count: 9, unresponsive: true, hung: true, calls: 1}}, 4, 0},
		// A stale record: the others cannot reach the threshold without
		// the probed provider (one is hung), so its probe's answer counts.
		{"a stale record: the probe's answer counts", []answer{{count: 4}, {count: 4, hung: true}, {count: 9, unresponsive: true, calls: 1}}, 9, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ch seqChain
			stores := map[string]Storage{}
			for _, a := range tc.answers {
				p := &seqProvider{key: key(), leafCount: a.count, bucket: bucket, err: a.err}
				p.signer = p.key
				if a.forged {
					p.signer = key()
				}
				if a.otherBucket {
					p.bucket = bucket + 1
				}
				if a.hung {
					p.hold = make(chan struct{})
				}
				ch.ps = append(ch.ps, p)
				stores[p.key.Account().String()] = p
			}
			pool, err := providers.New(ch, providers.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range tc.answers {
				for range 5 {
					if a.unresponsive {
						pool.Record(ch.ps[i].key.Account(), time.Millisecond, down)
					}
				}
			}
			cfg := DefaultConfig()
			cfg.FirstByteTimeout = time.Hour // a probe ends by its answer, not a timeout
			dial := func(url string) (Storage, error) { return stores[url], nil }
			c, err := New(ch, pool, dial, noCheckpoints{}, key(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := c.seqFor(context.Background(), bucket)
			for _, p := range ch.ps {
				if p.hold != nil {
					close(p.hold) // only now: the search returned without them
				}
			}
			c.WaitProbes()
			if tc.wantKind != 0 {
				if core.KindOf(err) != tc.wantKind {
					t.Fatalf("err %v, want kind %v", err, tc.wantKind)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("next seq %d (%v), want %d", got, err, tc.want)
			}
			for i, a := range tc.answers {
				if a.calls != 0 && ch.ps[i].calls.Load() != a.calls {
					t.Errorf("provider %d had %d commitment requests, want %d", i, ch.ps[i].calls.Load(), a.calls)
				}
				if h, _ := pool.Health(ch.ps[i].key.Account()); a.unresponsive && h.ConsecutiveFailures != 0 {
					t.Fatalf("provider %d answered the probe, its record still says failing: %+v", i, h)
				}
			}
		})
	}
}
