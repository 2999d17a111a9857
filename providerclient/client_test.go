package providerclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/wire"
	"github.com/cairn-storage/cairn/providerclient"
)

func TestBaseURL(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"http://127.0.0.1:7070", "http://127.0.0.1:7070"},
		{"http://127.0.0.1:7070/", "http://127.0.0.1:7070"},
		{"https://provider.example/cairn/", "https://provider.example/cairn"},
		{"  http://h:1  ", "http://h:1"},
		{"127.0.0.1:7070", "http://127.0.0.1:7070"},
		{"/ip4/127.0.0.1/tcp/7070/http", "http://127.0.0.1:7070"},
		{"/ip4/10.0.0.1/tcp/443/https", "https://10.0.0.1:443"},
		{"/ip4/10.0.0.1/tcp/443/tls/http", "https://10.0.0.1:443"},
		{"/ip6/::1/tcp/8080/http", "http://[::1]:8080"},
		{"/dns4/host/tcp/443/tls/http", "https://host:443"},
		{"/dns/provider.example/tcp/80/http/", "http://provider.example:80"},
		{"/dns6/provider.example/tcp/80/http", "http://provider.example:80"},
	} {
		got, err := providerclient.BaseURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "ftp://h/", "http://", "http://user:pw@h/", "http://h:0", "http://h:99999", "http://h/?q=1",
		"/ip4/1.2.3.4/tcp/80", "/ip4/1.2.3.4/udp/80/http", "/ip4/::1/tcp/80/http", "/ip6/1.2.3.4/tcp/80/http",
		"/ip4/1.2.3.4/tcp/x/http", "/ip4/1.2.3.4/tcp/0/http", "/ip4/1.2.3.4/tcp/80/ws", "/onion3/x/tcp/80/http",
		"/dns4/bad host/tcp/80/http", "just-a-name", "h:",
	} {
		if got, err := providerclient.BaseURL(bad); core.KindOf(err) != core.Invalid {
			t.Errorf("BaseURL(%q) = %q, %v; want kind invalid", bad, got, err)
		}
	}
}

func FuzzBaseURL(f *testing.F) {
	for _, s := range []string{"http://h:1", "/ip4/1.2.3.4/tcp/80/http", "/dns4/h/tcp/443/tls/http", "h:80", "/ip6/::1/tcp/1/https"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := providerclient.BaseURL(s)
		if err != nil {
			if core.KindOf(err) != core.Invalid {
				t.Fatalf("kind %v", core.KindOf(err))
			}
			return
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("BaseURL(%q) = %q", s, u)
		}
		if _, err := providerclient.BaseURL(u); err != nil {
			t.Fatalf("BaseURL(%q) = %q does not parse again: %v", s, u, err)
		}
	})
}

// fakeProvider answers with whatever the test puts in routes.
func fakeProvider(t *testing.T, h http.HandlerFunc) *providerclient.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	alice, _ := core.DevKey("alice")
	c, err := providerclient.New(srv.URL, providerclient.Options{ChainID: "test-chain", Signer: alice, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Kinds raised by a provider come out of the client unchanged.
func TestErrorKinds(t *testing.T) {
	for _, k := range []core.Kind{core.Invalid, core.NotFound, core.Unauthorized, core.Conflict, core.Unavailable, core.Corrupt, core.Internal} {
		c := fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
			wire.WriteError(w, core.Errorf("provider.x", k, "because"))
		})
		_, err := c.Commitment(context.Background(), 1)
		if core.KindOf(err) != k {
			t.Errorf("kind %v came back as %v (%v)", k, core.KindOf(err), err)
		}
		var re *wire.RemoteError
		if !errors.As(err, &re) || re.Op != "provider.x" || !strings.Contains(re.Message, "because") {
			t.Errorf("remote error %+v", re)
		}
	}
	c := fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>proxy</html>")
	})
	if _, err := c.Leaves(context.Background(), 1, 0, 5); !errors.Is(err, core.Unavailable) {
		t.Errorf("a proxy's 502 page: %v", err)
	}
}

func TestTransportFailures(t *testing.T) {
	ctx := context.Background()
	// A provider that hangs: the per-request timeout gives unavailable.
	release := make(chan struct{})
	defer close(release)
	c := fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	if err := c.Health(ctx); !errors.Is(err, core.Unavailable) || time.Since(start) > 5*time.Second {
		t.Errorf("hung provider: %v after %v", err, time.Since(start))
	}
	// The caller's shorter deadline wins.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Commitment(short, 1); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("caller deadline: %v after %v", err, time.Since(start))
	}
	// Nobody listening.
	dead, _ := providerclient.New("http://127.0.0.1:1", providerclient.Options{})
	if _, err := dead.Commitment(ctx, 1); !errors.Is(err, core.Unavailable) {
		t.Errorf("refused connection: %v", err)
	}
	// Garbage instead of JSON is corrupt; so is an answer about another bucket.
	c = fakeProvider(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{not json") })
	if _, err := c.Commitment(ctx, 1); !errors.Is(err, core.Corrupt) {
		t.Errorf("garbage answer: %v", err)
	}
	c = fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(core.SignedCommitment{Commitment: core.Commitment{ChainID: "c", Bucket: 2}})
	})
	if _, err := c.Commitment(ctx, 1); !errors.Is(err, core.Corrupt) {
		t.Errorf("commitment to another bucket: %v", err)
	}
	c = fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(wire.Leaves{Bucket: 1, LeafCount: 9, From: 0, Leaves: []core.SignedLeaf{{Leaf: core.Leaf{Seq: 0}}, {Leaf: core.Leaf{Seq: 2}}}})
	})
	if _, err := c.Leaves(ctx, 1, 0, 5); !errors.Is(err, core.Corrupt) {
		t.Errorf("leaves with a gap: %v", err)
	}
}

// Blob verifies the bytes while they stream: a corrupt or truncated blob
// ends in a corrupt error instead of io.EOF.
func TestBlobVerified(t *testing.T) {
	data := bytes.Repeat([]byte("cairn"), 50_000)
	h := core.Sum256(data)
	for _, tt := range []struct {
		name string
		body func() []byte
		kind core.Kind // Other: reads fine
	}{
		{"intact", func() []byte { return data }, core.Other},
		{"flipped bit", func() []byte { b := bytes.Clone(data); b[1000] ^= 1; return b }, core.Corrupt},
		{"extra byte", func() []byte { return append(bytes.Clone(data), 0) }, core.Corrupt},
		{"short", func() []byte { return data[:len(data)-1] }, core.Corrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sawSignature bool
			c := fakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
				sr, err := wire.ParseRead("1", h.String(), r.Header)
				sr.ChainID = "test-chain"
				sawSignature = err == nil && sr.Verify(sr.Reader, sr.Signature) == nil
				w.Write(tt.body())
			})
			rc, err := c.Blob(context.Background(), 1, h)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if core.KindOf(err) != tt.kind || (err == nil && !bytes.Equal(got, data)) {
				t.Fatalf("read %d bytes: %v, want kind %v", len(got), err, tt.kind)
			}
			if !sawSignature {
				t.Fatal("the read was not signed")
			}
		})
	}
}

// Write streams its body and signs what it sends.
func TestWriteSigned(t *testing.T) {
	alice, _ := core.DevKey("alice")
	bob, _ := core.DevKey("bob")
	data := []byte("hello cairn")
	h := core.Sum256(data)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	handler := func(w http.ResponseWriter, r *http.Request) {
		sw, err := wire.ParseWrite(r.PathValue("id"), r.PathValue("seq"), r.Header)
		if err != nil {
			wire.WriteError(w, err)
			return
		}
		sw.ChainID = "test-chain"
		body, _ := io.ReadAll(r.Body)
		if err := sw.Verify(sw.Writer, sw.Signature); err != nil || sw.SignedLeaf().Verify("test-chain", 3) != nil || sw.LeafWriter != alice.Account() || sw.Writer != bob.Account() || sw.Seq != 7 || sw.Bucket != 3 || !bytes.Equal(body, data) || sw.ContentHash != h || r.ContentLength != int64(len(data)) {
			wire.WriteError(w, core.Errorf("fake", core.Invalid, "bad write %+v %v", sw, err))
			return
		}
		json.NewEncoder(w).Encode(wire.WriteResult{Leaf: core.Leaf{Seq: 7, ContentHash: h, Size: uint64(len(data))}, LeafIndex: 7, LeafCount: 8})
	}
	mux.HandleFunc("PUT /buckets/{id}/writes/{seq}", handler)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(wire.Health{ChainID: "test-chain"})
	})
	wc, _ := providerclient.New(srv.URL, providerclient.Options{}) // learns the chain id from /health
	// bob forwards a leaf alice wrote (as when catching a provider up).
	leaf, _ := core.SignLeaf(alice, "test-chain", 3, core.Leaf{Seq: 7, ContentHash: h, Size: uint64(len(data))})
	res, err := wc.Write(context.Background(), 3, leaf, bytes.NewReader(data), bob)
	if err != nil || res.LeafCount != 8 {
		t.Fatalf("write: %+v %v", res, err)
	}
	// An acknowledgement of another leaf is corrupt.
	other := []byte("other data!")
	leaf, _ = core.SignLeaf(alice, "test-chain", 3, core.Leaf{Seq: 7, ContentHash: core.Sum256(other), Size: uint64(len(other))})
	if _, err := wc.Write(context.Background(), 3, leaf, bytes.NewReader(other), bob); core.KindOf(err) == core.Other {
		t.Fatalf("mismatched acknowledgement accepted: %v", err)
	}

}
