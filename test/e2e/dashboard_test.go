//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cairn-storage/cairn/internal/poll"
)

// browserTimeout bounds the whole browser session; each wait inside it
// has its own, shorter limit.
const browserTimeout = 4 * time.Minute

// TestDashboardBrowser opens the dashboard in headless Chromium and
// checks what a user sees: the drive, its three providers and the latest
// checkpoint height; a new checkpoint appearing after an upload (through
// WebDAV to a drive that checkpoints each change) without a reload, with
// its time to quorum plotted; and a SIGSTOPped provider shown at risk. The
// page is `cairn serve`'s, which submits the checkpoints it shows; `cairn
// dev`'s ready line names its own, checked to serve the page. A screenshot
// goes to $CAIRN_ARTIFACTS (default: the test's temp dir).
func TestDashboardBrowser(t *testing.T) {
	t.Parallel()
	browser := need(t, "chromium")
	n := startNetwork(t)
	if code, body := httpGet(t, n.dashboardURL(t)); code != http.StatusOK || !strings.Contains(body, "Cairn dashboard") {
		t.Fatalf("cairn dev's dashboard: %d %.200s", code, body)
	}
	n.createDrive(t, "web", "immediate")
	serve := n.serve(t)
	dav := serve.WebDAV["web"]
	upload := func(name, body string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, dav+name, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %s", name, res.Status)
		}
	}
	upload("a.txt", "first\n")
	first := n.committedHeight(t, "web", 0)

	ctx := newBrowser(t, browser)
	wait := func(what, js string, within time.Duration) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("the page never showed %s (%s): %v\npage text:\n%s", what, js, err, pageText(ctx))
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(serve.UI)); err != nil {
		t.Fatalf("opening %s: %v", serve.UI, err)
	}
	wait("the drive", `document.querySelector('#drives tr[data-drive="web"]') !== null`, time.Minute)
	wait("three providers", `document.querySelectorAll('#providers tbody tr').length === 3`, time.Minute)
	wait("the latest checkpoint height", latestHeightIs(first), time.Minute)

	// A page that reloads loses this mark.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.cairnMark = "still here"`)); err != nil {
		t.Fatal(err)
	}
	upload("b.txt", "second\n")
	second := n.committedHeight(t, "web", first)
	wait("the new checkpoint", latestHeightIs(second), time.Minute)
	wait("its time to quorum", `[...document.querySelectorAll('#checkpoints tbody tr')].some(r => r.textContent.includes(" ms"))`, 30*time.Second)
	wait("no reload", `window.cairnMark === "still here"`, time.Second)
	if code, svg := httpGet(t, strings.TrimSuffix(serve.UI, "/ui/")+"/api/drives/web/chart.svg"); code != http.StatusOK || !strings.Contains(svg, "<circle") {
		t.Errorf("chart: %d, want a time-to-quorum point:\n%.500s", code, svg)
	}

	stopped := n.m.Providers[0]
	if err := syscall.Kill(stopped.PID, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP %s: %v", stopped.Name, err)
	}
	t.Cleanup(func() { syscall.Kill(stopped.PID, syscall.SIGCONT) })
	row := fmt.Sprintf(`document.querySelector('#providers tr[data-provider="%s"]')`, stopped.Account)
	wait("the stopped provider at risk", row+`.classList.contains("at-risk") && `+row+`.textContent.includes("failing")`, 2*time.Minute)
	for _, p := range n.m.Providers[1:] {
		atRisk, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector('#providers tr[data-provider="%s"]').classList.contains("at-risk")`, p.Account)))
		if err != nil {
			t.Fatal(err)
		}
		if atRisk {
			t.Errorf("running provider %s shown at risk:\n%s", p.Name, pageText(ctx))
		}
	}
	saveScreenshot(t, ctx)
}

// serveReady is the part of `cairn serve --json`'s ready line the test
// reads.
type serveReady struct {
	WebDAV map[string]string `json:"webdav"`
	UI     string            `json:"ui"`
}

// serve starts `cairn serve` on a free loopback port, with client state
// of its own, and returns its ready line.
func (n *network) serve(t *testing.T) serveReady {
	t.Helper()
	b := startBackground(t, "serve", "--listen", "127.0.0.1:0", "--chain", n.chain, "--home", t.TempDir(), "--json")
	select {
	case line := <-b.lines:
		var r serveReady
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.UI == "" || r.WebDAV["web"] == "" {
			t.Fatalf("cairn serve's ready line %q: %v", line, err)
		}
		return r
	case <-b.done:
		t.Fatalf("cairn serve exited before it was ready:\n%s", b.log.String())
	case <-time.After(readyTimeout):
		t.Fatalf("cairn serve not ready within %s:\n%s", readyTimeout, b.log.String())
	}
	return serveReady{}
}

// committedHeight waits until the drive's root was last committed above
// after, and returns that height.
func (n *network) committedHeight(t *testing.T, drive string, after int64) int64 {
	t.Helper()
	var h int64
	poll.Until(t, time.Minute, "a checkpoint of "+drive+" above "+strconv.FormatInt(after, 10), func() error {
		h = n.driveInfo(t, drive).LastCommittedHeight
		if h <= after {
			return fmt.Errorf("last committed at %d", h)
		}
		return nil
	})
	return h
}

// httpGet returns a GET's status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, string(b)
}

// latestHeightIs is a page condition: the latest checkpoint shown is h.
func latestHeightIs(h int64) string {
	return `document.getElementById("latest-height").textContent === "` + strconv.FormatInt(h, 10) + `"`
}

// dashboardURL reads the ui= field of cairn dev's ready line.
func (n *network) dashboardURL(t *testing.T) string {
	t.Helper()
	n.mu.Lock()
	out := n.log.String()
	n.mu.Unlock()
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "devnet ready ")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			if v, ok := strings.CutPrefix(f, "ui="); ok && strings.HasPrefix(v, "http://") {
				return v
			}
		}
	}
	t.Fatalf("cairn dev's ready line names no ui= URL:\n%s", out)
	return ""
}

// newBrowser starts headless Chromium for the test and closes it after.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1100),
		chromedp.UserDataDir(t.TempDir()),
	)
	// The browser lives as long as the context of its first action: the
	// test's time limit, at most.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// pageText is the page's visible text, for failure messages.
func pageText(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(cannot read the page: " + err.Error() + ")"
	}
	return s
}

// saveScreenshot writes the page as dashboard.png to $CAIRN_ARTIFACTS, or
// to the test's temp dir.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("CAIRN_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dashboard.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
