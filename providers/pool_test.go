package providers

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// fakeChain is a ChainReader over fixed state that counts agreement reads.
type fakeChain struct {
	mu     sync.Mutex
	quorum uint32
	ags    []wire.Agreement
	reads  int
	fail   error
}

func (f *fakeChain) Bucket(_ context.Context, b core.BucketID) (wire.Bucket, error) {
	return wire.Bucket{ID: b, Quorum: f.quorum}, nil
}

func (f *fakeChain) BucketAgreements(context.Context, core.BucketID) ([]wire.Agreement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.fail != nil {
		return nil, f.fail
	}
	return f.ags, nil
}

func (f *fakeChain) Provider(_ context.Context, a core.AccountID) (wire.Provider, error) {
	return wire.Provider{Account: a, Endpoint: "http://" + a.Short()}, nil
}

func acct(i byte) core.AccountID { return core.AccountID{i} }

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newChain(n int) *fakeChain {
	f := &fakeChain{}
	for i := n; i >= 1; i-- { // out of order: discovery sorts
		f.ags = append(f.ags, wire.Agreement{Provider: acct(byte(i)), Role: wire.Primary, Active: true})
	}
	f.ags = append(f.ags,
		wire.Agreement{Provider: acct(100), Role: wire.Replica, Active: true},  // not a primary
		wire.Agreement{Provider: acct(101), Role: wire.Primary, Active: false}) // ended
	return f
}

func TestDiscoveryAndCache(t *testing.T) {
	ctx := context.Background()
	ch := newChain(3)
	clk := &clock{t: time.Unix(1000, 0)}
	p, err := New(ch, DefaultConfig(), WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := p.Providers(ctx, 1)
	if err != nil || len(ps) != 3 || ps[0].Account != acct(1) || ps[2].Account != acct(3) || ps[0].URL != "http://"+acct(1).Short() {
		t.Fatalf("providers %+v %v", ps, err)
	}
	for _, step := range []struct {
		name      string
		advance   time.Duration
		invalid   bool
		wantReads int
	}{
		{"within the TTL: cached", 299 * time.Second, false, 1},
		{"past the TTL: asks the chain", 2 * time.Second, false, 2},
		{"after a failure: asks the chain", 0, true, 3},
		{"and caches again", time.Second, false, 3},
	} {
		clk.t = clk.t.Add(step.advance)
		if step.invalid {
			p.Invalidate(1)
		}
		if _, err := p.Providers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if ch.reads != step.wantReads {
			t.Errorf("%s: %d chain reads, want %d", step.name, ch.reads, step.wantReads)
		}
	}
	ch.fail = core.Errorf("chain", core.Unavailable, "down")
	p.Invalidate(1)
	if _, err := p.Providers(ctx, 1); core.KindOf(err) != core.Unavailable {
		t.Errorf("a chain that is down: %v, want unavailable", err)
	}
}

func TestPoolThreshold(t *testing.T) {
	for _, tc := range []struct {
		name      string
		providers int
		quorum    uint32
		want      int
	}{
		{"51 % of 3", 3, 0, 2},
		{"on-chain quorum raises it", 3, 3, 3},
		{"on-chain quorum never lowers it", 4, 1, 3},
		{"no providers", 0, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newChain(tc.providers)
			ch.quorum = tc.quorum
			p, err := New(ch, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			ps, req, err := p.Threshold(context.Background(), 1)
			if err != nil || len(ps) != tc.providers || req != tc.want {
				t.Errorf("threshold %d of %d (%v), want %d of %d", req, len(ps), err, tc.want, tc.providers)
			}
		})
	}
}

func TestByHealth(t *testing.T) {
	ctx := context.Background()
	p, err := New(newChain(4), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("down")
	for i := 0; i < 5; i++ {
		p.Record(acct(1), time.Millisecond, down) // unreachable
	}
	p.Record(acct(2), 50*time.Millisecond, nil) // healthy, slow
	p.Record(acct(3), 5*time.Millisecond, nil)  // healthy, fast
	p.Record(acct(3), 5*time.Millisecond, nil)
	// acct(4): unknown
	rs, err := p.ByHealth(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []core.AccountID{acct(3), acct(2), acct(4), acct(1)}
	for i, r := range rs {
		if r.Account != want[i] {
			t.Fatalf("order %d: %s, want %s", i, r.Account.Short(), want[i].Short())
		}
	}
	if rs[3].Status != StatusUnreachable || rs[3].LastError != "down" {
		t.Errorf("unreachable provider shown as %+v", rs[3].Info)
	}
	if ok, err := p.HasEnoughHealthy(ctx, 1); !ok || err != nil {
		t.Errorf("3 of 4 healthy or unknown, threshold 3: %v %v", ok, err)
	}
	p.Record(acct(4), time.Millisecond, down)
	if ok, _ := p.HasEnoughHealthy(ctx, 1); ok {
		t.Error("2 of 4 healthy, threshold 3: enough")
	}
}

// Two pools on one file stand for two CLI runs (or two processes) of one
// account: each sees what the other saved, and neither loses the other's
// records.
func TestHealthFileShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "acct.health.json")
	clk := &clock{t: time.Unix(1000, 0)}
	open := func() *Pool {
		p, err := New(newChain(3), DefaultConfig(), WithHealthFile(path), WithClock(clk.now))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := open(), open()
	a.Record(acct(1), time.Millisecond, nil)
	b.Record(acct(2), time.Millisecond, errors.New("refused"))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	c := open()
	if h, ok := c.Health(acct(1)); !ok || h.Successes != 1 {
		t.Errorf("a's record lost: %+v %v", h, ok)
	}
	if h, ok := c.Health(acct(2)); !ok || h.LastError != "refused" {
		t.Errorf("b's record lost: %+v %v", h, ok)
	}
	a.Record(acct(1), time.Millisecond, nil)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if h, ok := a.Health(acct(2)); !ok || h.LastError != "refused" {
		t.Errorf("a did not pick up b's record on its next save: %+v %v", h, ok)
	}

	// Record saves by itself once saveEvery has passed.
	clk.t = clk.t.Add(saveEvery)
	c.Record(acct(3), time.Millisecond, nil)
	if h, ok := open().Health(acct(3)); !ok || h.TotalRequests != 1 {
		t.Errorf("record not saved after %s: %+v %v", saveEvery, h, ok)
	}
}

func TestHealthFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.json")
	if err := core.WriteFileAtomic(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := New(newChain(1), DefaultConfig(), WithHealthFile(path))
	if err != nil {
		t.Fatalf("a corrupt health file stopped the pool: %v", err)
	}
	p.Record(acct(1), time.Millisecond, nil)
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	hs, err := (&healthFile{path: path}).load()
	if err != nil || hs[acct(1)].Successes != 1 {
		t.Fatalf("after a save the file holds %+v (%v), want the new record", hs, err)
	}
}

func TestClientsDialOncePerURL(t *testing.T) {
	dials := 0
	cs := NewClients(func(url string) (string, error) {
		dials++
		if url == "bad" {
			return "", errors.New("no")
		}
		return "client of " + url, nil
	})
	for _, u := range []string{"a", "b", "a", "a"} {
		if c, err := cs.Get(u); err != nil || c != "client of "+u {
			t.Fatalf("Get(%s) = %q %v", u, c, err)
		}
	}
	if _, err := cs.Get("bad"); err == nil {
		t.Fatal("a failed dial gave a client")
	}
	if dials != 3 {
		t.Errorf("%d dials, want 3 (a, b, bad)", dials)
	}
}
