package webdav_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// litmusSummary matches a suite's summary line, e.g.
// "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%".
var litmusSummary = regexp.MustCompile("summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")

type suiteResult struct{ run, passed, failed int }

func parseLitmus(out []byte) map[string]suiteResult {
	res := map[string]suiteResult{}
	for _, m := range litmusSummary.FindAllSubmatch(out, -1) {
		run, _ := strconv.Atoi(string(m[2]))
		passed, _ := strconv.Atoi(string(m[3]))
		failed, _ := strconv.Atoi(string(m[4]))
		res[string(m[1])] = suiteResult{run, passed, failed}
	}
	return res
}

func TestParseLitmus(t *testing.T) {
	out := []byte("-> running `basic':\n 0. init.................. pass\n<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%\n" +
		"<- summary for `locks': of 41 tests run: 38 passed, 3 failed. 92.7%\n-> 1 warning was issued.\n")
	got := parseLitmus(out)
	want := map[string]suiteResult{"basic": {16, 16, 0}, "locks": {41, 38, 3}}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %+v, want %+v", k, got[k], v)
		}
	}
}

// TestLitmus runs the litmus WebDAV test suite (Debian package litmus)
// against a drive served by the gateway: basic, copymove and props must
// pass whole; locks and http are run and reported.
func TestLitmus(t *testing.T) {
	bin, err := exec.LookPath("litmus")
	if err != nil {
		if os.Getenv("CAIRN_CI") != "" {
			t.Fatal("litmus is not installed (Debian package litmus); CAIRN_CI requires it")
		}
		t.Skip("litmus is not installed (apt-get install litmus); skipping the litmus suites")
	}
	n := startNet(t)
	c := newClient(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "litmus", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webdav.NewHandler(c, nil))
	t.Cleanup(srv.Close)

	cmd := exec.CommandContext(ctx, bin, "--keep-going", srv.URL+"/dav/litmus/")
	cmd.Dir = t.TempDir() // litmus writes debug.log into its working directory
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
	out, err := cmd.CombinedOutput()
	res := parseLitmus(out)
	t.Logf("litmus (exit %v):\n%s", err, out)
	for _, s := range []string{"basic", "copymove", "props", "locks", "http"} {
		r, ok := res[s]
		t.Logf("litmus %s: %d of %d passed", s, r.passed, r.run)
		switch {
		case !ok:
			t.Errorf("litmus suite %s did not report a summary", s)
		case s == "basic" || s == "copymove" || s == "props":
			if r.failed != 0 || r.passed == 0 {
				t.Errorf("litmus %s: %d of %d failed", s, r.failed, r.run)
			}
		}
	}

	// What litmus left behind is in the drive, read by the drive client.
	if _, err := c.Stat(ctx, "litmus", "/"); err != nil {
		t.Fatal(err)
	}
}
