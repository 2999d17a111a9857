package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// benchFake is newFake with a long history: 1000 checkpoints, of which the
// snapshot keeps the configured 60.
func benchFake() *fake {
	f := newFake()
	f.history = f.history[:0]
	for h := range int64(1000) {
		f.history = append(f.history, wire.Checkpoint{Bucket: 7, MMRRoot: core.H256{byte(h)}, LeafCount: uint64(h), Height: h + 1, Signers: []core.AccountID{p1, p2, p3}})
	}
	return f
}

// BenchmarkRefresh is one refresh of a drive on three providers from a
// chain that answers at once: the dashboard's own cost per block.
func BenchmarkRefresh(b *testing.B) {
	s, err := New(benchFake().sources(), DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s.Refresh(ctx)
	s.Probe(ctx)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDashboardJSON is one GET /api/dashboard of that snapshot.
func BenchmarkDashboardJSON(b *testing.B) {
	s, err := New(benchFake().sources(), DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s.Refresh(ctx)
	s.Probe(ctx)
	s.Refresh(ctx)
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/dashboard", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}

// BenchmarkPublish is one event sent to 16 streams that keep up.
func BenchmarkPublish(b *testing.B) {
	h := newHub(16, 32)
	var streams []*stream
	for range 16 {
		s, _ := h.join()
		streams = append(streams, s)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.publish(Event{Kind: EventBlock, Height: 1})
		for _, s := range streams {
			<-s.events
		}
	}
}
