package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/poll"
)

func validServe() ServeOptions {
	return ServeOptions{Listen: "127.0.0.1:0", MaxConns: 8, MaxHeaderBytes: 4096, ReadHeaderTimeout: time.Second,
		IdleTimeout: time.Second, BodyIdleTimeout: time.Second, ShutdownTimeout: time.Second}
}

func TestServeOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*ServeOptions)
		ok   bool
	}{
		{"loopback without credentials", func(o *ServeOptions) {}, true},
		{"localhost", func(o *ServeOptions) { o.Listen = "localhost:8080" }, true},
		{"ipv6 loopback", func(o *ServeOptions) { o.Listen = "[::1]:8080" }, true},
		{"every interface without credentials", func(o *ServeOptions) { o.Listen = ":8080" }, false},
		{"0.0.0.0 without credentials", func(o *ServeOptions) { o.Listen = "0.0.0.0:8080" }, false},
		{"a public address without credentials", func(o *ServeOptions) { o.Listen = "192.0.2.1:80" }, false},
		{"a public address with credentials", func(o *ServeOptions) { o.Listen = "0.0.0.0:8080"; o.User, o.Password = "u", "p" }, true},
		{"user without password", func(o *ServeOptions) { o.User = "u" }, false},
		{"no port", func(o *ServeOptions) { o.Listen = "127.0.0.1" }, false},
		{"zero connections", func(o *ServeOptions) { o.MaxConns = 0 }, false},
		{"zero header bytes", func(o *ServeOptions) { o.MaxHeaderBytes = 0 }, false},
		{"zero header timeout", func(o *ServeOptions) { o.ReadHeaderTimeout = 0 }, false},
		{"zero idle timeout", func(o *ServeOptions) { o.IdleTimeout = 0 }, false},
		{"zero body timeout", func(o *ServeOptions) { o.BodyIdleTimeout = 0 }, false},
		{"zero shutdown timeout", func(o *ServeOptions) { o.ShutdownTimeout = 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validServe()
			tc.edit(&o)
			err := o.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil && ExitCode(err) != ExitUsage {
				t.Fatalf("refusal exits %d, want usage", ExitCode(err))
			}
		})
	}
}

func TestServeCredentialsFromEnv(t *testing.T) {
	env := map[string]string{"CAIRN_DAV_USER": "envuser", "CAIRN_DAV_PASSWORD": "envpass"}
	for _, tc := range []struct {
		name               string
		user, pass         string
		wantUser, wantPass string
	}{
		{"from the environment", "", "", "envuser", "envpass"},
		{"flags win", "flaguser", "flagpass", "flaguser", "flagpass"},
	} {
		o := ServeOptions{User: tc.user, Password: tc.pass}
		o.credentialsFromEnv(func(k string) string { return env[k] })
		if o.User != tc.wantUser || o.Password != tc.wantPass {
			t.Errorf("%s: %q %q", tc.name, o.User, o.Password)
		}
	}
	// The help never shows the password, whatever the environment holds.
	t.Setenv("CAIRN_DAV_PASSWORD", "do-not-print")
	var out bytes.Buffer
	Main([]string{"serve", "--help"}, strings.NewReader(""), &out, &out)
	if strings.Contains(out.String(), "do-not-print") {
		t.Fatalf("serve --help shows the password:\n%s", out.String())
	}
}

// lines hands each line written to it to a channel.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	c   chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.c <- strings.TrimSpace(line)
	}
}

// TestServe runs `cairn serve` against a real network: it prints where it
// serves, asks for basic auth, stores a PUT in a batched drive, serves
// metrics, and on a stop (the context a signal cancels) finishes an upload
// in flight and commits it, so a fresh client reads it from the chain's root.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := devnettest.Start(t, 3)
	home := t.TempDir()
	setup, err := newClientStack(ctx, clientOptions{Chain: n.ChainURL(), Signer: "alice", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	d, err := setup.FS.CreateDrive(ctx, drive.CreateDriveOptions{Name: "web", Strategy: wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: 1000}})
	if err != nil {
		t.Fatal(err)
	}

	g := &Globals{Chain: n.ChainURL(), Signer: "alice", Home: home, JSON: true, Stderr: io.Discard}
	o := validServe()
	o.User, o.Password = "u", "secret"
	o.ShutdownTimeout = time.Minute
	ready, stop, done := startServe(t, ctx, g, o)
	url := ready.WebDAV["web"]
	if !strings.HasSuffix(url, "/dav/web/") || !ready.Auth {
		t.Fatalf("ready: %+v", ready)
	}

	do := func(method, u string, body io.Reader, auth bool) (int, string) {
		// A connection of its own each time: a kept-alive one that the
		// stop closes as idle would fail the in-flight PUT on the client.
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		req, _ := http.NewRequestWithContext(ctx, method, u, body)
		if auth {
			req.SetBasicAuth("u", "secret")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, u, err)
			return 0, ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := do("GET", url, nil, false); code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", code)
	}
	if code, body := do("PUT", url+"a.txt", strings.NewReader("through webdav"), true); code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if code, body := do("GET", url+"a.txt", nil, true); code != http.StatusOK || body != "through webdav" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code, body := do("GET", ready.Metrics, nil, true); code != http.StatusOK || !strings.Contains(body, `cairn_gateway_requests_total{code="201",method="PUT",protocol="webdav"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	// The dashboard shares the listener and the credentials.
	if code, _ := do("GET", ready.UI, nil, false); code != http.StatusUnauthorized {
		t.Fatalf("dashboard without credentials: %d", code)
	}
	if code, body := do("GET", ready.UI, nil, true); code != http.StatusOK || !strings.Contains(body, "Cairn dashboard") {
		t.Fatalf("dashboard %s: %d %.200s", ready.UI, code, body)
	}
	poll.Until(t, 30*time.Second, "the drive on /api/drives", func() error {
		if code, body := do("GET", strings.TrimSuffix(ready.UI, "/ui/")+"/api/drives", nil, true); code != http.StatusOK || !strings.Contains(body, `"name":"web"`) {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})

	// An upload in flight when the stop comes is finished, not cut.
	pr, pw := io.Pipe()
	putDone := make(chan int, 1)
	go func() {
		code, _ := do("PUT", url+"late.txt", pr, true)
		putDone <- code
	}()
	if _, err := pw.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the PUT in flight", func() error {
		if _, body := do("GET", ready.Metrics, nil, true); !strings.Contains(body, `cairn_gateway_requests_in_flight{protocol="webdav"} 1`) {
			return errors.New("not yet")
		}
		return nil
	})
	stopMidUpload(t, stop, pw, putDone, done, http.StatusCreated)

	// The stop committed the batched drive: a fresh client reads both files
	// from the root on chain.
	dr, err := n.Chain().Drive(ctx, d.ID)
	if err != nil || dr.RootCID == "" {
		t.Fatalf("root on chain after the stop: %q %v", dr.RootCID, err)
	}
	fresh, err := newClientStack(ctx, clientOptions{Chain: n.ChainURL(), Signer: "alice", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for p, want := range map[string]string{"/a.txt": "through webdav", "/late.txt": "first half, second half"} {
		var buf bytes.Buffer
		if _, err := fresh.FS.DownloadFile(ctx, "web", p, &buf); err != nil || buf.String() != want {
			t.Errorf("%s: %q %v", p, buf.String(), err)
		}
	}
}
