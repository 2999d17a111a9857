package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
)

// eventStream is one open GET /api/events.
type eventStream struct {
	resp *http.Response
	r    *bufio.Reader
}

func openEvents(t *testing.T, url string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return &eventStream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads one event (the server writes "event: K\ndata: JSON\n\n").
func (s *eventStream) next(t *testing.T) Event {
	t.Helper()
	var e Event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
		}
		if line == "\n" {
			return e
		}
	}
}

// newCheckpoint puts a checkpoint at height 30 on the fake chain.
func newCheckpoint(f *fake) {
	cp := wire.Checkpoint{Bucket: 7, MMRRoot: core.H256{0x33}, LeafCount: 6, Height: 30, Signers: []core.AccountID{p1, p2, p3}}
	f.history = append(f.history, cp)
	f.bucket.Latest = &cp
	f.height = 31
}

func TestEventsOnChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fake)
		want   []string
	}{
		{name: "block only", change: func(f *fake) { f.height++ }, want: []string{EventBlock}},
		{name: "checkpoint", change: newCheckpoint, want: []string{EventBlock, EventCheckpoint, EventHealth}}, // lag changes with the checkpoint
		{name: "health", change: func(f *fake) { f.health[1].History = failing(5) }, want: []string{EventHealth}},
		{name: "challenge", change: func(f *fake) {
			f.challenges = []wire.Challenge{{ID: 1, Bucket: 7, Provider: p2, State: wire.ChallengeOpen, Deadline: 90}}
		}, want: []string{EventHealth, EventChallenge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s := served(t, f)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			defer s.Close()
			es := openEvents(t, srv.URL)
			if e := es.next(t); e.Kind != EventHello || e.Height != 25 {
				t.Fatalf("first event %+v, want hello at 25", e)
			}
			f.set(tt.change)
			s.Probe(context.Background())
			if err := s.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.want {
				if e := es.next(t); e.Kind != k {
					t.Fatalf("event %+v, want %s", e, k)
				}
			}
		})
	}
}

func TestEventsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxClients = 1
	s, err := New(newFake().sources(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	defer s.Close()
	openEvents(t, srv.URL).next(t)
	resp, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second stream: %s, want 503", resp.Status)
	}
}

func TestSlowStreamDropped(t *testing.T) {
	h := newHub(4, 2)
	slow, _ := h.join()
	fast, _ := h.join()
	for i := range 3 {
		h.publish(Event{Kind: EventBlock, Height: int64(i)})
		<-fast.events
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("a stream that took no event of three (buffer 2) was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("a stream that kept up was dropped")
	default:
	}
	if open, dropped := h.counts(); open != 1 || dropped != 1 {
		t.Errorf("open %d dropped %d, want 1 and 1", open, dropped)
	}
	h.leave(slow) // leaving after a drop is harmless
}

func TestCloseEndsStreams(t *testing.T) {
	s := served(t, newFake())
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	es := openEvents(t, srv.URL)
	es.next(t)
	s.Close()
	if _, err := es.r.ReadString('\n'); err == nil {
		t.Fatal("the stream went on after Close")
	}
}

func TestRun(t *testing.T) {
	f := newFake()
	s, err := New(f.sources(), DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	poll.True(t, 10*time.Second, "first snapshot and probe", func() bool {
		snap, ok := s.Snapshot()
		return ok && len(snap.Drives) == 1 && snap.Drives[0].Providers[0].Class == classAgrees
	})
	// A block with a new checkpoint, and the manager's event for it.
	f.set(newCheckpoint)
	f.blocks <- 31
	f.events <- checkpoint.Event{Kind: checkpoint.EventSubmitted, Bucket: 7,
		Result: &checkpoint.Result{Kind: checkpoint.Submitted, Bucket: 7, Height: 30, Duration: 700 * time.Millisecond}}
	poll.True(t, 10*time.Second, "the new checkpoint with its time to quorum", func() bool {
		snap, _ := s.Snapshot()
		l := snap.Drives[0].Latest
		return snap.Height == 31 && l.Height == 30 && l.QuorumMS != nil && *l.QuorumMS == 700
	})
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	f.set(func(f *fake) {
		if f.unsubscribe != 1 {
			t.Errorf("unsubscribed %d times, want 1", f.unsubscribe)
		}
	})
}

func TestRunEndsWithItsBlockStream(t *testing.T) {
	f := newFake()
	s, err := New(f.sources(), DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	close(f.blocks)
	if err := s.Run(context.Background()); core.KindOf(err) != core.Unavailable {
		t.Errorf("Run after the block stream closed: %v, want unavailable", err)
	}
}

// TestRunOutlivesItsEventSubscription: if the manager ends the
// subscription, Run goes on refreshing on blocks.
func TestRunOutlivesItsEventSubscription(t *testing.T) {
	f := newFake()
	s, err := New(f.sources(), DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	close(f.events)
	for _, h := range []int64{40, 41} {
		f.set(func(f *fake) { f.height = h })
		f.blocks <- h
		poll.True(t, 10*time.Second, "the refresh at the new height", func() bool {
			snap, ok := s.Snapshot()
			return ok && snap.Height == h
		})
	}
	// A refresh per block, the first, and one after each probe; a loop
	// spinning on the closed channel would have made hundreds.
	f.set(func(f *fake) {
		if f.heights > 10 {
			t.Errorf("%d refreshes for 2 blocks", f.heights)
		}
	})
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
}
