package ui

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
)

// served builds a Server over f, refreshed and probed.
func served(t *testing.T, f *fake) *Server {
	t.Helper()
	s, err := New(f.sources(), DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s.Probe(ctx)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// apiCase is one route of TestAPI: the fake's state, the request, and
// what its answer must say.
type apiCase struct {
	name   string
	setup  func(f *fake)
	path   string
	status int
	check  func(t *testing.T, body []byte)
}

var apiCases = []apiCase{
	{name: "dashboard", path: "/api/dashboard", status: 200, check: func(t *testing.T, b []byte) {
		var s Snapshot
		mustJSON(t, b, &s)
		if s.Height != 25 || len(s.Drives) != 1 || s.Drives[0].Name != "photos" || s.Drives[0].Latest.Height != 20 {
			t.Errorf("snapshot = %+v", s)
		}
	}},
	{name: "drives", path: "/api/drives", status: 200, check: func(t *testing.T, b []byte) {
		var ds []DriveSummary
		mustJSON(t, b, &ds)
		if len(ds) != 1 || ds[0].Bucket != 7 || ds[0].RootCID != "bafyroot" || ds[0].Strategy.Kind != "immediate" {
			t.Errorf("drives = %+v", ds)
		}
	}},
	{name: "drive by id", path: "/api/drives/3", status: 200, check: func(t *testing.T, b []byte) {
		var d DriveView
		mustJSON(t, b, &d)
		if d.Name != "photos" || d.Quorum != 2 || d.AtRisk != 0 {
			t.Errorf("drive = %+v", d)
		}
	}},
	{name: "healthy providers", path: "/api/drives/photos/providers", status: 200, check: func(t *testing.T, b []byte) {
		ps := providersOf(t, b)
		if len(ps) != 3 {
			t.Fatalf("%d providers, want 3", len(ps))
		}
		for _, p := range ps {
			if p.AtRisk || p.Status != "healthy" || p.Class != "agrees" || *p.Leaves != 4 || *p.Lag != 0 || p.Stake != 1000 || p.SuccessRate != 1 || p.LatencyMS != 3 {
				t.Errorf("provider = %+v", p)
			}
		}
	}},
	{name: "providers at risk", setup: func(f *fake) {
		f.divergeP3()
		f.health[0].History = failing(5)
		f.challenges = []wire.Challenge{{ID: 9, Bucket: 7, Provider: p1, State: wire.ChallengeOpen, Deadline: 40, OpenedHeight: 20}}
	}, path: "/api/drives/photos/providers", status: 200, check: func(t *testing.T, b []byte) {
		ps := providersOf(t, b)
		want := map[string][]string{p1.String(): {RiskFailing, RiskChallenged}, p2.String(): {RiskBehind}, p3.String(): {RiskDiverged}}
		for _, p := range ps {
			var got []string
			for _, r := range p.Risks {
				got = append(got, r.Reason)
			}
			if !p.AtRisk || strings.Join(got, ",") != strings.Join(want[p.Account.String()], ",") {
				t.Errorf("%s: at risk %v for %v, want %v", p.Account.Short(), p.AtRisk, got, want[p.Account.String()])
			}
		}
		if *ps[1].Lag != 2 || ps[0].Status != "unreachable" {
			t.Errorf("p2 lag %d, p1 status %s", *ps[1].Lag, ps[0].Status)
		}
	}},
	{name: "checkpoints newest first with time to quorum", setup: func(f *fake) {
		f.result = &checkpoint.Result{Kind: checkpoint.Submitted, Bucket: 7, Height: 20, Duration: 1500 * time.Millisecond}
	}, path: "/api/drives/photos/checkpoints", status: 200, check: func(t *testing.T, b []byte) {
		var cs []CheckpointView
		mustJSON(t, b, &cs)
		if len(cs) != 2 || cs[0].Height != 20 || cs[1].Height != 10 || len(cs[0].Signers) != 3 || cs[0].QuorumMS == nil || *cs[0].QuorumMS != 1500 || cs[1].QuorumMS != nil {
			t.Errorf("checkpoints = %s", b)
		}
	}},
	{name: "conflicts with their proof", setup: func(f *fake) { f.divergeP3() }, path: "/api/drives/photos/conflicts", status: 200, check: func(t *testing.T, b []byte) {
		var cs []ConflictView
		mustJSON(t, b, &cs)
		want := []string{"agrees", "sync_delay", "data_divergence"}
		for i, c := range cs {
			if c.Class != want[i] || c.Proof == "" {
				t.Errorf("conflict %d = %+v, want class %s with a proof", i, c, want[i])
			}
		}
		if !cs[2].Proven || !strings.Contains(cs[1].Proof, "consistency proof verified") {
			t.Errorf("conflicts = %+v", cs)
		}
	}},
	{name: "challenges", setup: func(f *fake) {
		f.challenges = []wire.Challenge{
			{ID: 1, Bucket: 7, Provider: p2, State: wire.ChallengeSlashed, Deadline: 15, ClosedHeight: 16, Slashed: 50},
			{ID: 2, Bucket: 7, Provider: p1, State: wire.ChallengeOpen, Deadline: 40},
		}
	}, path: "/api/drives/photos/challenges", status: 200, check: func(t *testing.T, b []byte) {
		var cs []ChallengeView
		mustJSON(t, b, &cs)
		if len(cs) != 2 || cs[0].ID != 2 || cs[0].BlocksLeft != 15 || !strings.Contains(cs[1].Outcome, "slashed 50") {
			t.Errorf("challenges = %+v", cs)
		}
	}},
	{name: "chart", setup: func(f *fake) {
		f.result = &checkpoint.Result{Kind: checkpoint.Submitted, Bucket: 7, Height: 20, Duration: time.Second}
	}, path: "/api/drives/photos/chart.svg", status: 200, check: func(t *testing.T, b []byte) {
		if err := xml.Unmarshal(b, new(struct{ XMLName xml.Name })); err != nil {
			t.Fatalf("chart is not XML: %v", err)
		}
		if n := strings.Count(string(b), `fill="#9ecae1"`); n != 2 {
			t.Errorf("%d signer bars, want 2", n)
		}
		if !strings.Contains(string(b), "<circle") {
			t.Error("no time-to-quorum point")
		}
	}},
	{name: "unknown drive", path: "/api/drives/nope/providers", status: 404, check: errorKind("not_found")},
	{name: "unknown route", path: "/api/nothing", status: 404, check: errorKind("not_found")},
	{name: "page", path: "/ui/", status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `<script src="app.js"`) {
			t.Errorf("page = %.200s", b)
		}
	}},
	{name: "script", path: "/ui/app.js", status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), "EventSource") {
			t.Error("app.js does not listen for events")
		}
	}},
}

func TestAPI(t *testing.T) {
	for _, tt := range apiCases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.setup != nil {
				tt.setup(f)
			}
			w := get(t, served(t, f).Handler(), tt.path)
			if w.Code != tt.status {
				t.Fatalf("GET %s: %d, want %d: %s", tt.path, w.Code, tt.status, w.Body)
			}
			tt.check(t, w.Body.Bytes())
		})
	}
}

func TestAPIBeforeFirstRefresh(t *testing.T) {
	s, err := New(newFake().sources(), DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := get(t, s.Handler(), "/api/dashboard")
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	errorKind("unavailable")(t, w.Body.Bytes())
}

func TestRefreshFailureKeepsLastSnapshot(t *testing.T) {
	f := newFake()
	s := served(t, f)
	f.set(func(f *fake) { f.err = io.ErrUnexpectedEOF })
	if err := s.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh succeeded with a failing chain")
	}
	var snap Snapshot
	mustJSON(t, get(t, s.Handler(), "/api/dashboard").Body.Bytes(), &snap)
	if len(snap.Drives) != 1 || !strings.Contains(snap.Error, "unexpected EOF") {
		t.Errorf("snapshot after a failure = %+v", snap)
	}
}

func TestPageHeaders(t *testing.T) {
	w := get(t, served(t, newFake()).Handler(), "/ui/")
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if w := get(t, served(t, newFake()).Handler(), "/ui"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ui/" {
		t.Errorf("/ui: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestNewRefusesMissingSources(t *testing.T) {
	src := newFake().sources()
	src.Probe = nil
	if _, err := New(src, DefaultConfig(), nil); err == nil {
		t.Error("New accepted sources without a prober")
	}
	if _, err := New(newFake().sources(), Config{}, nil); err == nil {
		t.Error("New accepted a zero config")
	}
}

func providersOf(t *testing.T, b []byte) []ProviderView {
	var ps []ProviderView
	mustJSON(t, b, &ps)
	return ps
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

func errorKind(kind string) func(t *testing.T, b []byte) {
	return func(t *testing.T, b []byte) {
		t.Helper()
		var e struct{ Kind, Message string }
		mustJSON(t, b, &e)
		if e.Kind != kind || e.Message == "" {
			t.Errorf("error body %s, want kind %s", b, kind)
		}
	}
}

// TestHistoryReadOnlyWhenItMoves: the chain answers a bucket's whole
// history, so a refresh reads it only when the latest checkpoint moved.
func TestHistoryReadOnlyWhenItMoves(t *testing.T) {
	f := newFake()
	s := served(t, f) // two refreshes
	for range 3 {
		if err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reads := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.histories
	}
	if n := reads(); n != 1 {
		t.Fatalf("history read %d times in 5 refreshes at one checkpoint, want 1", n)
	}
	f.set(newCheckpoint)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot()
	if n := reads(); n != 2 || len(snap.Drives[0].Checkpoints) != 3 || snap.Drives[0].Checkpoints[0].Height != 30 {
		t.Fatalf("after a new checkpoint: %d reads, timeline %+v", n, snap.Drives[0].Checkpoints)
	}
}

func TestChallengesBounded(t *testing.T) {
	f := newFake()
	for i := range 100 {
		f.challenges = append(f.challenges, wire.Challenge{ID: 1 + core.ChallengeID(i), Bucket: 7, Provider: p1, State: wire.ChallengeAnswered})
	}
	f.challenges[0].State = wire.ChallengeOpen // the oldest is still open
	f.challenges[0].Deadline = 90
	cfg := DefaultConfig()
	cfg.History = 5
	s, err := New(f.sources(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot()
	cs := snap.Drives[0].Challenges
	if len(cs) != 6 || cs[0].ID != 100 || cs[5].ID != 1 || cs[5].State != wire.ChallengeOpen {
		t.Fatalf("challenges %+v, want the 5 latest closed and the open one", cs)
	}
}

func TestProbeClasses(t *testing.T) {
	f := newFake()
	f.coll = &checkpoint.CommitmentCollection{Bucket: 7, MMRRoot: root1, LeafCount: 4, Agreeing: []core.AccountID{p1},
		Cancelled: []core.AccountID{p2}, Invalid: []core.AccountID{p3}}
	snap, _ := served(t, f).Snapshot()
	want := map[core.AccountID]string{p1: "agrees", p2: "late", p3: "no_answer"}
	for _, c := range snap.Drives[0].Conflicts {
		if c.Class != want[c.Provider] || c.Proof == "" {
			t.Errorf("%s: class %s (%s), want %s", c.Provider.Short(), c.Class, c.Proof, want[c.Provider])
		}
	}
	for _, p := range snap.Drives[0].Providers {
		if p.AtRisk {
			t.Errorf("%s at risk for its class alone: %+v", p.Account.Short(), p.Risks)
		}
	}
}

// TestRegistryReadEveryProbeInterval: the chain answers every registered
// provider, so a refresh reads them once per cfg.ProbeEvery blocks.
func TestRegistryReadEveryProbeInterval(t *testing.T) {
	f := newFake()
	s, err := New(f.sources(), DefaultConfig(), nil) // ProbeEvery 10
	if err != nil {
		t.Fatal(err)
	}
	for h := int64(25); h < 45; h++ {
		f.set(func(f *fake) {
			f.height = h
			if h == 40 {
				f.registry[0].Stake = 10 // slashed
			}
		})
		if err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	f.set(func(f *fake) {
		if f.registries != 2 {
			t.Errorf("providers read %d times over 20 blocks, want 2 (at 25 and 35)", f.registries)
		}
	})
	snap, _ := s.Snapshot()
	if st := snap.Drives[0].Providers[0].Stake; st != 1000 {
		t.Errorf("stake %d at 44, want 1000 as read at 35", st)
	}
	f.set(func(f *fake) { f.height = 45 })
	s.Refresh(context.Background())
	snap, _ = s.Snapshot()
	if st := snap.Drives[0].Providers[0].Stake; st != 10 {
		t.Errorf("stake %d at 45, want the slashed 10", st)
	}
}
