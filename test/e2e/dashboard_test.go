//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserTimeout bounds the whole browser session; each wait inside it
// has its own, shorter limit.
const browserTimeout = 4 * time.Minute

// TestDashboardBrowser opens cairn dev's dashboard in headless Chromium
// and checks what a user sees: the drive, its three providers and the
// latest checkpoint height; a new checkpoint appearing after an upload and
// commit without a reload; and a SIGSTOPped provider shown at risk. It
// saves a screenshot to $CAIRN_ARTIFACTS (default: the test's temp dir).
func TestDashboardBrowser(t *testing.T) {
	t.Parallel()
	browser := need(t, "chromium")
	n := startNetwork(t)
	ui := n.dashboardURL(t)
	local := t.TempDir()

	n.createDrive(t, "web", "manual")
	n.put(t, writeFile(t, local, "a.txt", "first\n"), "web:/a.txt")
	first := decode[resultJSON](t, n.cairn(t, "commit", "web", "--json").ok(t))

	ctx := newBrowser(t, browser)
	wait := func(what, js string, within time.Duration) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("the page never showed %s (%s): %v\npage text:\n%s", what, js, err, pageText(ctx))
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ui)); err != nil {
		t.Fatalf("opening %s: %v", ui, err)
	}
	wait("the drive", `document.querySelector('#drives tr[data-drive="web"]') !== null`, time.Minute)
	wait("three providers", `document.querySelectorAll('#providers tbody tr').length === 3`, time.Minute)
	wait("the latest checkpoint height", latestHeightIs(first.Height), time.Minute)

	// A page that reloads loses this mark.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.cairnMark = "still here"`)); err != nil {
		t.Fatal(err)
	}
	n.put(t, writeFile(t, local, "b.txt", "second\n"), "web:/b.txt")
	second := decode[resultJSON](t, n.cairn(t, "commit", "web", "--json").ok(t))
	if second.Height <= first.Height {
		t.Fatalf("second checkpoint at %d, first at %d", second.Height, first.Height)
	}
	wait("the new checkpoint", latestHeightIs(second.Height), time.Minute)
	wait("two rows in the timeline", `document.querySelectorAll('#checkpoints tbody tr').length === 2`, 30*time.Second)
	wait("no reload", `window.cairnMark === "still here"`, time.Second)

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
