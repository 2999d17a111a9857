package faultnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/internal/faultnet"
)

// body is what the fake peer answers every request with.
var body = []byte("0123456789abcdefghijklmnopqrstuvwxyz")

// peer is a fake base transport: it counts the requests that reach it and
// answers each with body (status 200), or with status when set.
type peer struct {
	reached atomic.Int32
	status  int
}

func (p *peer) RoundTrip(req *http.Request) (*http.Response, error) {
	p.reached.Add(1)
	status := http.StatusOK
	if p.status != 0 {
		status = p.status
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req, Header: http.Header{}}, nil
}

func get(t *testing.T, ctx context.Context, rt http.RoundTripper, url string) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// differing counts the bytes at which a and b differ (a, b equal length).
func differing(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestFaults(t *testing.T) {
	blobsOnly := func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/blobs/") }
	for _, tc := range []struct {
		name    string
		fault   faultnet.Fault
		url     string // default http://a:1/x
		status  int    // of the peer; default 200
		wantErr error
		reached bool // the request reached the peer
		flipped int  // bytes of the body that differ
	}{
		{name: "no fault", reached: true},
		{name: "other host untouched", fault: faultnet.Fault{Drop: true}, url: "http://b:2/x", reached: true},
		{name: "drop", fault: faultnet.Fault{Drop: true}, wantErr: faultnet.ErrDropped},
		{name: "corrupt", fault: faultnet.Fault{Corrupt: true}, reached: true, flipped: 1},
		{name: "corrupt leaves errors alone", fault: faultnet.Fault{Corrupt: true}, status: 404, reached: true},
		{name: "match narrows", fault: faultnet.Fault{Drop: true, Match: blobsOnly}, url: "http://a:1/leaves", reached: true},
		{name: "match hits", fault: faultnet.Fault{Drop: true, Match: blobsOnly}, url: "http://a:1/blobs/00", wantErr: faultnet.ErrDropped},
		{name: "chance one is every request", fault: faultnet.Fault{Drop: true, Chance: 1}, wantErr: faultnet.ErrDropped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &peer{status: tc.status}
			tr := faultnet.New(p, 1)
			tr.Set("a:1", tc.fault)
			url := tc.url
			if url == "" {
				url = "http://a:1/x"
			}
			got, err := get(t, context.Background(), tr, url)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if r := p.reached.Load() == 1; r != tc.reached {
				t.Errorf("reached the peer: %v, want %v", r, tc.reached)
			}
			if err != nil {
				return
			}
			if len(got) != len(body) {
				t.Fatalf("body %q, want %d bytes", got, len(body))
			}
			if d := differing(got, body); d != tc.flipped {
				t.Errorf("%d bytes flipped (%q), want %d", d, got, tc.flipped)
			}
		})
	}
}

func TestClearHeals(t *testing.T) {
	p := &peer{}
	tr := faultnet.New(p, 1)
	tr.Set("a:1", faultnet.Fault{Drop: true})
	if _, err := get(t, context.Background(), tr, "http://a:1/x"); !errors.Is(err, faultnet.ErrDropped) {
		t.Fatalf("before Clear: %v, want dropped", err)
	}
	tr.Clear("a:1")
	if got, err := get(t, context.Background(), tr, "http://a:1/x"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("after Clear: %q, %v", got, err)
	}
	if seen, hit := tr.Requests("a:1"); seen != 2 || hit != 1 {
		t.Errorf("Requests: seen %d hit %d, want 2 and 1", seen, hit)
	}
}

// TestSeeded: the same seed hits the same requests and flips the same
// bytes; Chance hits about its share.
func TestSeeded(t *testing.T) {
	run := func(seed uint64) (pattern []bool, bodies [][]byte) {
		tr := faultnet.New(&peer{}, seed)
		tr.Set("a:1", faultnet.Fault{Corrupt: true, Chance: 0.3})
		for range 200 {
			got, err := get(t, context.Background(), tr, "http://a:1/x")
			if err != nil {
				t.Fatal(err)
			}
			pattern = append(pattern, !bytes.Equal(got, body))
			bodies = append(bodies, got)
		}
		return pattern, bodies
	}
	p1, b1 := run(7)
	p2, b2 := run(7)
	p3, _ := run(8)
	hits := 0
	for i := range p1 {
		if p1[i] != p2[i] || !bytes.Equal(b1[i], b2[i]) {
			t.Fatalf("request %d differs between two runs of seed 7", i)
		}
		if p1[i] {
			hits++
		}
	}
	if hits < 30 || hits > 90 {
		t.Errorf("Chance 0.3 hit %d of 200 requests", hits)
	}
	same := true
	for i := range p1 {
		same = same && p1[i] == p3[i]
	}
	if same {
		t.Error("seeds 7 and 8 hit exactly the same requests")
	}
	offsets := map[int]bool{}
	for _, b := range b1 {
		for i := range b {
			if b[i] != body[i] {
				offsets[i] = true
			}
		}
	}
	if len(offsets) < 5 {
		t.Errorf("corruption flipped only offsets %v: want them spread over the body", offsets)
	}
}

func TestDelay(t *testing.T) {
	const d = 50 * time.Millisecond
	p := &peer{}
	tr := faultnet.New(p, 1)
	tr.Set("a:1", faultnet.Fault{Delay: d})
	start := time.Now()
	if _, err := get(t, context.Background(), tr, "http://a:1/x"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < d {
		t.Errorf("delayed request answered after %s, want at least %s", took, d)
	}
	// A delay gives way to the caller's deadline, and the request is
	// never sent.
	tr.Set("a:1", faultnet.Fault{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := get(t, ctx, tr, "http://a:1/x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an hour's delay under a 20 ms deadline: %v, want deadline exceeded", err)
	}
	if n := p.reached.Load(); n != 1 {
		t.Errorf("%d requests reached the peer, want 1 (the cancelled one never sent)", n)
	}
}

// TestHang runs against a real server: a hung request ends with its
// context, and the server never sees it.
func TestHang(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Write(body)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	tr := faultnet.New(base, 1)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Millisecond}

	tr.Set(host, faultnet.Fault{Hang: true})
	_, err := client.Get(srv.URL + "/x")
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("hung request: %v, want a client timeout", err)
	}
	if n := served.Load(); n != 0 {
		t.Errorf("server served %d requests while hung", n)
	}
	tr.Clear(host)
	resp, err := client.Get(srv.URL + "/x")
	if err != nil {
		t.Fatalf("after healing: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) || served.Load() != 1 {
		t.Errorf("after healing: %q (served %d), want the body once", got, served.Load())
	}
}
