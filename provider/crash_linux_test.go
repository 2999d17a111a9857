package provider_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/providerclient"
)

var (
	buildOnce sync.Once
	cairnBin  string
	buildErr  error
)

// cairnBinary builds cmd/cairn once per test binary.
func cairnBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-bin-")
		if err != nil {
			buildErr = err
			return
		}
		cairnBin = filepath.Join(dir, "cairn")
		out, err := exec.Command("go", "build", "-o", cairnBin, "github.com/cairn-storage/cairn/cmd/cairn").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cairnBin
}

// child is a `cairn provider run` process.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
}

func startChild(t *testing.T, bin, chainURL, data, keyFile string) *child {
	t.Helper()
	cmd := exec.Command(bin, "provider", "run", "--chain", chainURL, "--listen", "127.0.0.1:0", "--data", data, "--key", keyFile, "--log-level", "debug")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test
	c := &child{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: c.stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("provider log:\n%s", c.stderr)
		}
	})
	ready := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if line := s.Text(); strings.HasPrefix(line, "provider ready ") {
				for _, f := range strings.Fields(line) {
					if u, ok := strings.CutPrefix(f, "url="); ok {
						ready <- u
					}
				}
			}
		}
	}()
	select {
	case c.url = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("provider did not get ready:\n%s", c.stderr)
	}
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestKill9MidWrite kills a real provider process with SIGKILL while a
// client writes to it, restarts it on the same data, and checks that every
// acknowledged write is there, that at most the one write in flight landed
// besides, and that the log is whole: it opens, and its root is the root of
// exactly those leaves.
func TestKill9MidWrite(t *testing.T) {
	bin := cairnBinary(t)
	e := newEnv(t)
	alice, bob, charlie := devKey("alice"), devKey("bob"), devKey("charlie")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "charlie.key")
	if err := core.WriteKeyFile(keyFile, charlie); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	chainURL := e.chain.URL()
	c := startChild(t, bin, chainURL, data, keyFile)
	e.submit(charlie, chainwire.RegisterProvider{Endpoint: c.url, Stake: chainwire.DefaultParams().MinProviderStake, Capacity: 1 << 40,
		Terms: chainwire.ProviderTerms{Accepting: true}})
	b := e.bucket(alice, chainwire.Member{Account: bob.Account(), Role: chainwire.Writer})
	e.submit(alice, chainwire.CreateAgreement{Bucket: b, Provider: charlie.Account(), Role: chainwire.Primary, MaxBytes: 1 << 40, Duration: 1_000_000})

	content := func(seq uint64) []byte { return blob(int(seq), 128<<10+int(seq%7)*1000) }
	leafOf := func(seq uint64) core.Leaf {
		d := content(seq)
		return core.Leaf{Seq: seq, ContentHash: core.Sum256(d), Size: uint64(len(d))}
	}
	var acked uint64 // writes 0..acked-1 were acknowledged
	rounds := 6
	for round := range rounds {
		pc, err := providerclient.New(c.url, providerclient.Options{Timeout: 10 * time.Second, Signer: alice})
		if err != nil {
			t.Fatal(err)
		}
		// Write as fast as possible; kill -9 at a varying moment.
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan uint64)
		go func() {
			seq := acked
			for ctx.Err() == nil {
				d := content(seq)
				if _, err := put(ctx, pc, b, seq, d, bob); err != nil {
					break
				}
				seq++
			}
			done <- seq
		}()
		time.Sleep(time.Duration(150+round*70) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.cmd.Wait()
		acked = <-done
		cancel()

		c = startChild(t, bin, chainURL, data, keyFile)
		pc, _ = providerclient.New(c.url, providerclient.Options{Timeout: 10 * time.Second, Signer: alice})
		sc, err := pc.Commitment(e.ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.VerifyBy(charlie.Account()); err != nil {
			t.Fatal(err)
		}
		n := sc.LeafCount
		if n < acked || n > acked+1 {
			t.Fatalf("round %d: %d writes acknowledged, %d leaves after restart", round, acked, n)
		}
		ref, _ := mmr.New(mmr.NewMemStore())
		leaves, err := pc.Leaves(e.ctx, b, 0, int(n)+1)
		if err != nil || uint64(len(leaves)) != n {
			t.Fatalf("round %d: %d leaves listed (%v)", round, len(leaves), err)
		}
		for i, lf := range leaves {
			if lf.Leaf != leafOf(uint64(i)) {
				t.Fatalf("round %d: leaf %d is %+v, want %+v", round, i, lf, leafOf(uint64(i)))
			}
			ref.Append(lf.Bytes())
		}
		if root, _ := ref.Root(); core.H256(root) != sc.MMRRoot {
			t.Fatalf("round %d: root %s is not the root of the leaves", round, sc.MMRRoot)
		}
		// The last blob written reads back whole.
		if n > 0 {
			rc, err := pc.Blob(e.ctx, b, leaves[n-1].ContentHash)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if _, err := got.ReadFrom(rc); err != nil || !bytes.Equal(got.Bytes(), content(n-1)) {
				t.Fatalf("round %d: last blob reads back wrong: %v", round, err)
			}
			rc.Close()
		}
		t.Logf("round %d: %d acknowledged, %d leaves after kill -9 and restart", round, acked, n)
		acked = n
	}
	if acked < uint64(rounds) {
		t.Fatalf("only %d writes in %d rounds: the test did not exercise writes", acked, rounds)
	}
}
