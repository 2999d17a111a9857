//go:build linux

package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cairnBin is the cairn binary TestMain built for this run, and
// moduleRoot the directory of its go.mod.
var cairnBin, moduleRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairn-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, root, err := buildCairn(dir)
	if err != nil {
		// Never a skip: without the binary there is nothing to test, and
		// a broken build must fail loudly.
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	cairnBin, moduleRoot = bin, root
	return m.Run()
}

// buildCairn builds ./cmd/cairn of this module into dir. It is built
// without the race detector even under `go test -race`: the children's
// memory is measured, and the race detector multiplies it.
func buildCairn(dir string) (bin, root string, err error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", "", fmt.Errorf("not inside the cairn module (go env GOMOD = %q)", gomod)
	}
	root = filepath.Dir(gomod)
	bin = filepath.Join(dir, "cairn")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/cairn")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/cairn: %v\n%s", err, out)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", bin, time.Since(start).Round(time.Millisecond))
	}
	return bin, root, nil
}

// binary returns the cairn binary, first reading every Go source and
// module file of the module (once). The binary is built in a child
// process, which go test's result cache cannot see; files a test reads
// are part of the cache key, so reading them makes a cached "ok" invalid
// as soon as any source of the binary changes. (TestMain runs before the
// cache starts recording, so the reading happens here, inside the tests.)
func binary(t testing.TB) string {
	sourcesOnce.Do(func() { sourcesErr = readSources(moduleRoot) })
	if sourcesErr != nil {
		t.Fatalf("reading the module's sources: %v", sourcesErr)
	}
	return cairnBin
}

var (
	sourcesOnce sync.Once
	sourcesErr  error
)

func readSources(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			_, err := os.ReadFile(path)
			return err
		}
		return nil
	})
}

// need fails the test (under CAIRN_CI) or skips it (elsewhere) when the
// program is not installed.
func need(t *testing.T, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	if os.Getenv("CAIRN_CI") != "" {
		t.Fatalf("CAIRN_CI is set and %s is missing: %v", program, err)
	}
	t.Skipf("%s is not installed: %v", program, err)
	return ""
}
