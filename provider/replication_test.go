package provider_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
	"github.com/cairn-storage/cairn/provider/wire"
)

// faultyTransport perturbs a provider's requests to its peers.
type faultyTransport struct {
	mode  atomic.Value // string: "", "corrupt-blob", "corrupt-leaves", "fail-after"
	calls atomic.Int64
	limit int64
}

func (f *faultyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	mode, _ := f.mode.Load().(string)
	if mode == "fail-after" && f.calls.Add(1) > f.limit {
		return nil, errors.New("injected: connection refused")
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || resp.StatusCode != 200 {
		return resp, err
	}
	corrupt := (mode == "corrupt-blob" && strings.Contains(r.URL.Path, "/blobs/")) ||
		(mode == "corrupt-leaves" && r.URL.Path == wire.PathLeaves)
	if !corrupt {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if mode == "corrupt-blob" && len(body) > 0 {
		body[len(body)/2] ^= 1
	} else {
		// Change one hex digit of the first content hash listed.
		i := bytes.Index(body, []byte(`"content_hash":"`)) + len(`"content_hash":"`)
		if body[i] == '0' {
			body[i] = '1'
		} else {
			body[i] = '0'
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (f *faultyTransport) set(mode string, limit int64) {
	f.calls.Store(0)
	f.limit = limit
	f.mode.Store(mode)
}

// TestReplication: a primary that missed writes catches up (after a 409
// "behind"), refusing a peer's corrupt answers on the way and resuming an
// interrupted sync; a replica that joins later converges from zero by
// itself.
func TestReplication(t *testing.T) {
	e := newEnv(t)
	alice, bob := devKey("alice"), devKey("bob")
	a := e.startProvider("charlie")
	ft := &faultyTransport{}
	ft.set("", 0)
	late := e.startProvider("dave", providerOpts{noStart: true, hc: &http.Client{Transport: ft}})
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	e.agree(alice, b, a, chainwire.Primary, 1<<30)
	e.agree(alice, b, late, chainwire.Primary, 1<<30)
	ctx := e.ctx

	write := func(p *testProvider, seq int) (wire.WriteResult, error) {
		data := blob(100+seq, 500+seq*37)
		return put(ctx, p.client, b, uint64(seq), data, bob)
	}
	const n = 12
	for i := range n {
		if _, err := write(a, i); err != nil {
			t.Fatal(err)
		}
		if i < 3 { // the late primary saw the first three writes only
			if _, err := write(late, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Leaf lists are private: the late primary's reads are authorised by
	// a's view of the chain, which may predate late's agreement for up to
	// its cache TTL.
	poll.True(t, 5*time.Second, "a to authorise late's reads", func() bool {
		_, err := a.clientAs(t, late.key).Leaves(ctx, b, 0, 1)
		return err == nil
	})
	// The next write finds the late primary behind: 409 with its count.
	_, err := write(late, n)
	var behind *core.BehindError
	if !errors.Is(err, core.Conflict) || !errors.As(err, &behind) || behind.LeafCount != 3 {
		t.Fatalf("write to a primary that missed writes: %v", err)
	}

	t.Run("CorruptBlobRefused", func(t *testing.T) {
		ft.set("corrupt-blob", 0)
		lag, err := late.srv.Sync(ctx, b)
		if err == nil || lag != n-3 {
			t.Fatalf("sync through corrupted blobs: lag %d, %v", lag, err)
		}
		if st, _ := late.st.State(b); st.LeafCount != 3 {
			t.Fatalf("corrupt blob appended: %d leaves", st.LeafCount)
		}
	})
	t.Run("CorruptLeafListRefused", func(t *testing.T) {
		ft.set("corrupt-leaves", 0)
		if _, err := late.srv.Sync(ctx, b); !errors.Is(err, core.Corrupt) {
			t.Fatalf("sync through a corrupted leaf list: %v", err)
		}
		if st, _ := late.st.State(b); st.LeafCount != 3 {
			t.Fatalf("unproved leaf appended: %d leaves", st.LeafCount)
		}
	})
	t.Run("InterruptedThenResumed", func(t *testing.T) {
		// Commitment, leaves (one page, up to the signed count, so no
		// consistency proof), then a blob per leaf: the connection dies
		// after three leaves have been pulled.
		ft.set("fail-after", 2+3)
		if lag, err := late.srv.Sync(ctx, b); err == nil || lag != n-6 {
			t.Fatalf("interrupted sync: lag %d, %v", lag, err)
		}
		ft.set("", 0)
		if lag, err := late.srv.Sync(ctx, b); err != nil || lag != 0 {
			t.Fatalf("resumed sync: lag %d, %v", lag, err)
		}
	})
	ca, _ := a.client.Commitment(ctx, b)
	cl, _ := late.client.Commitment(ctx, b)
	if ca.Commitment != cl.Commitment {
		t.Fatalf("after sync: %+v, want %+v", cl.Commitment, ca.Commitment)
	}
	// Both primaries now take the next write and agree on it.
	ra, err := write(a, n)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := write(late, n)
	if err != nil || rl != ra {
		t.Fatalf("next write: %+v %v, want %+v", rl, err, ra)
	}

	// A replica agreed after the writes converges from zero on its own: it
	// learns of the agreement from the chain and pulls everything.
	start := time.Now()
	pagedCfg := fastConfig()
	pagedCfg.SyncPage = 4 // pages checked by consistency proofs, the last against the signed root
	replica := e.startProvider("eve", providerOpts{cfg: &pagedCfg})
	e.agree(alice, b, replica, chainwire.Replica, 1<<30)
	poll.True(t, 20*time.Second, "the replica to converge", func() bool {
		c, err := replica.client.Commitment(ctx, b)
		return err == nil && c.Commitment == func() core.Commitment { c, _ := a.client.Commitment(ctx, b); return c.Commitment }()
	})
	t.Logf("replica converged %v after it started", time.Since(start))
	poll.True(t, 5*time.Second, "the replica to report no lag", func() bool {
		h, err := replica.client.Status(ctx)
		u, uerr := replica.clientAs(t, alice).Usage(ctx, b)
		return err == nil && uerr == nil && u.SyncLag == 0 && h.Status == "ok" && h.Lagging == 0 && h.Buckets == 1 && u.Role == "replica"
	})
	if m := get(t, replica.url+"/metrics"); !strings.Contains(m, "cairn_provider_sync_leaves_total 13") {
		t.Errorf("replica metrics: no sync count of 13 leaves")
	}
}

// TestChallengeAnswered: a challenge opened on a real chain against a
// provider's signed commitment is answered by the provider on its own.
func TestChallengeAnswered(t *testing.T) {
	e := newEnv(t)
	alice, bob := devKey("alice"), devKey("bob")
	p := e.startProvider("charlie")
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	e.agree(alice, b, p, chainwire.Primary, 1<<30)
	ctx := e.ctx
	for i := range 5 {
		data := blob(i, 10_000*(i+1))
		if _, err := put(ctx, p.client, b, uint64(i), data, bob); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := p.client.Commitment(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.chain.Account(ctx, p.key.Account())
	res := e.submit(alice, chainwire.OpenChallenge{Provider: p.key.Account(), Bucket: b, LeafIndex: 3, Evidence: chainwire.ChallengeEvidence{Commitment: &sc}, Deposit: chainwire.DefaultParams().MinChallengeDeposit})
	var id core.ChallengeID
	for _, ev := range res.Events {
		if ev.Type == chainwire.EventChallengeOpened {
			id, _ = core.ParseChallengeID(ev.Attributes["id"])
		}
	}
	if id == 0 {
		t.Fatal("no challenge.opened event")
	}
	var ch chainwire.Challenge
	poll.True(t, 20*time.Second, "the challenge to be answered", func() bool {
		ch, err = e.chain.Challenge(ctx, id)
		return err == nil && ch.State != chainwire.ChallengeOpen
	})
	if ch.State != chainwire.ChallengeAnswered {
		t.Fatalf("challenge %+v", ch)
	}
	after, _ := e.chain.Account(ctx, p.key.Account())
	if after.Stake < before.Stake {
		t.Fatalf("stake went from %d to %d", before.Stake, after.Stake)
	}
	poll.True(t, 5*time.Second, "the answer in the metrics", func() bool {
		return strings.Contains(get(t, p.url+"/metrics"), `cairn_provider_challenges_total{result="answered"} 1`)
	})
}
