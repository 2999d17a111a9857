//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/providerclient"
)

// The apply and heal steps of the fault rows (faults_test.go), and the
// network whose chain a test can stop.

// pid is provider i's process: the one the test restarted, else the one
// devnet.json names.
func (n *network) pid(i int) int {
	if b := n.restarted[i]; b != nil {
		return b.cmd.Process.Pid
	}
	return n.m.Providers[i].PID
}

// killProvider sends SIGKILL to provider i and waits until it is gone.
func killProvider(t *testing.T, m *matrix, i int) { m.n.kill(t, i, syscall.SIGKILL) }

// kill sends sig to provider i and waits until the process is gone.
func (n *network) kill(t *testing.T, i int, sig syscall.Signal) {
	t.Helper()
	if b := n.restarted[i]; b != nil {
		b.cmd.Process.Signal(syscall.SIGCONT) // a stopped process cannot handle SIGTERM
		b.cmd.Process.Signal(sig)
		<-b.done
		delete(n.restarted, i)
		return
	}
	pid := n.m.Providers[i].PID
	syscall.Kill(pid, syscall.SIGCONT)
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%d %d (%s): %v", sig, pid, n.m.Providers[i].Name, err)
	}
	eventually(t, 30*time.Second, "provider process exiting after "+sig.String(), func() error {
		// Its parent reaps it; until then the pid exists.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pid %d still exists", pid)
		}
		return nil
	})
}

// restartProvider runs the exact command devnet.json gives for provider
// i and waits for its ready line.
func restartProvider(t *testing.T, m *matrix, i int) {
	t.Helper()
	p := m.n.m.Providers[i]
	m.n.startProvider(t, i, p.Command, p.URL)
}

// startProvider starts argv as provider i, waits for its ready line and
// returns the URL it serves on (which must be wantURL if given). The
// process serves the rows after this one too.
func (n *network) startProvider(t *testing.T, i int, argv []string, wantURL string) string {
	t.Helper()
	p := n.m.Providers[i]
	b := startCommandFor(t, n.t, argv)
	timeout := time.After(readyTimeout)
	for {
		select {
		case line := <-b.lines:
			rest, ok := strings.CutPrefix(line, "provider ready ")
			if !ok {
				continue
			}
			var u string
			for _, f := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(f, "url="); ok {
					u = v
				}
			}
			if (wantURL != "" && u != wantURL) || !strings.Contains(line, "account="+p.Account) {
				t.Fatalf("restarted %s: %q, want url=%s account=%s", p.Name, line, wantURL, p.Account)
			}
			if n.restarted == nil {
				n.restarted = map[int]*background{}
			}
			n.restarted[i] = b
			return u
		case <-b.done:
			t.Fatalf("restarted %s exited (%v):\n%s", p.Name, b.cmd.ProcessState, b.log.String())
		case <-timeout:
			t.Fatalf("restarted %s not ready within %s:\n%s", p.Name, readyTimeout, b.log.String())
		}
	}
}

func stopProvider(t *testing.T, m *matrix, i int) {
	t.Helper()
	pid := m.n.pid(i)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP %d: %v", pid, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
}

func continueProvider(t *testing.T, m *matrix, i int) {
	t.Helper()
	pid := m.n.pid(i)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT %d: %v", pid, err)
	}
}

// Slowness: the provider runs 100 ms in every 500 (SIGSTOP, SIGCONT), so
// each answer comes late but comes.
const slowStopped, slowRunning = 400 * time.Millisecond, 100 * time.Millisecond

func slowProvider(t *testing.T, m *matrix, i int) {
	pid := m.n.pid(i)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer syscall.Kill(pid, syscall.SIGCONT)
		for {
			syscall.Kill(pid, syscall.SIGSTOP)
			select {
			case <-stop:
				return
			case <-time.After(slowStopped):
			}
			syscall.Kill(pid, syscall.SIGCONT)
			select {
			case <-stop:
				return
			case <-time.After(slowRunning):
			}
		}
	}()
	m.slow = stop
	t.Cleanup(func() {
		if m.slow != nil {
			close(m.slow)
			m.slow = nil
		}
		<-done
	})
}

func unslowProvider(t *testing.T, m *matrix, i int) {
	if m.slow != nil {
		close(m.slow)
		m.slow = nil
	}
}

// restartGracefully stops provider i with SIGTERM and starts it again.
func restartGracefully(t *testing.T, m *matrix, i int) {
	t.Helper()
	m.n.kill(t, i, syscall.SIGTERM)
	restartProvider(t, m, i)
}

// killAndWriteOn kills provider i, then writes and commits a file it
// misses (besides the row's own).
func killAndWriteOn(t *testing.T, m *matrix, i int) {
	t.Helper()
	killProvider(t, m, i)
	m.put(t, "/missed.txt", "a write provider "+m.n.m.Providers[i].Name+" missed\n").ok(t)
	m.n.cairnWithin(t, faultDeadline, "commit", m.d.ref()).ok(t)
}

// restartAndWrite brings provider i back and writes at once, while it is
// still behind: the write reaches it through the client's catch-up or
// its sync.
func restartAndWrite(t *testing.T, m *matrix, i int) {
	t.Helper()
	restartProvider(t, m, i)
	m.put(t, "/on-return.txt", "written as "+m.n.m.Providers[i].Name+" came back\n").ok(t)
	m.n.cairnWithin(t, faultDeadline, "commit", m.d.ref()).ok(t)
}

// corruptBlobs stops provider i, flips a byte of the blob of every file
// acknowledged so far (each is one chunk: its blob's hash is the file's),
// and starts it again. It then serves bytes that do not match their
// hashes; readers must move on to another provider.
func corruptBlobs(t *testing.T, m *matrix, i int) {
	t.Helper()
	p := m.n.m.Providers[i]
	killProvider(t, m, i)
	for _, a := range m.acked {
		if err := store.CorruptBlob(devnet.StoreDir(p.DataDir), hashOf(t, a.sha256)); err != nil {
			t.Fatalf("corrupting the blob of %s on %s: %v", a.path, p.Name, err)
		}
	}
	m.rotted[p.Account] = true // an audit may rightly slash it
	m.rotten = len(m.acked)
	restartProvider(t, m, i)
}

// readPastRot checks that provider i now serves bad bytes for every
// blob the row rotted, then reads every file with a client that has no
// health history, so it asks i first (first in the drive's order): each
// read must move past the bad bytes by their hash.
func readPastRot(t *testing.T, m *matrix, i int) {
	t.Helper()
	p := m.n.m.Providers[i]
	alice, _ := core.DevKey("alice")
	pc, err := providerclient.New(p.URL, providerclient.Options{Signer: alice, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if m.rotten == 0 {
		t.Fatal("no blob was corrupted")
	}
	for _, a := range m.acked[:m.rotten] {
		h := hashOf(t, a.sha256)
		rc, err := pc.Blob(t.Context(), core.BucketID(m.d.Bucket), h)
		if err != nil {
			continue // refusing to serve it is as good
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err == nil && core.Sum256(b) == h {
			t.Fatalf("%s still serves %s intact after its blob was corrupted", p.Name, a.path)
		}
	}
	fresh := t.TempDir()
	out := filepath.Join(m.dir, "got")
	for _, a := range m.acked {
		os.Remove(out)
		runCairn(t, t.Context(), "--chain", m.n.chain, "--home", fresh, "get", m.d.ref()+":"+a.path, out).ok(t)
		if got := sha256File(t, out); got != a.sha256 {
			t.Fatalf("get %s past rotten %s: sha256 %s, want %s", a.path, p.Name, got, a.sha256)
		}
	}
}

// hashOf parses a hex SHA-256.
func hashOf(t *testing.T, s string) core.H256 {
	t.Helper()
	var h core.H256
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		t.Fatalf("sha256 %q: %v", s, err)
	}
	copy(h[:], b)
	return h
}

// forger is an HTTP proxy in front of a provider that flips a bit of the
// signature of every commitment it passes on: a provider answering with
// a bad signature.
type forger struct {
	srv    *httptest.Server
	forged atomic.Int32 // commitments forged
}

// forgeCommitments moves provider i to another port and puts a forger on
// its registered address.
func forgeCommitments(t *testing.T, m *matrix, i int) {
	t.Helper()
	n, p := m.n, m.n.m.Providers[i]
	killProvider(t, m, i)
	argv := slices.Clone(p.Command)
	j := slices.Index(argv, "--listen")
	if j < 0 || j+1 >= len(argv) {
		t.Fatalf("%s's command has no --listen: %v", p.Name, argv)
	}
	argv[j+1] = "127.0.0.1:0"
	real, err := url.Parse(n.startProvider(t, i, argv, ""))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pub.Host)
	if err != nil {
		t.Fatalf("listening on %s's address %s: %v", p.Name, pub.Host, err)
	}
	f := &forger{}
	proxy := httputil.NewSingleHostReverseProxy(real)
	proxy.ModifyResponse = f.forge
	f.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: proxy}}
	f.srv.Start()
	m.forged = f
	n.t.Cleanup(f.srv.Close)
}

func (f *forger) forge(resp *http.Response) error {
	if resp.Request.URL.Path != "/commitment" || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var sc core.SignedCommitment
	if err := json.Unmarshal(body, &sc); err != nil {
		return fmt.Errorf("forger: %q is not a signed commitment: %w", body, err)
	}
	sc.Signature[7] ^= 0x10
	if body, err = json.Marshal(sc); err != nil {
		return err
	}
	f.forged.Add(1)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// unforge removes the forger and restarts provider i on its own address.
func unforge(t *testing.T, m *matrix, i int) {
	t.Helper()
	if m.forged.forged.Load() == 0 {
		t.Errorf("the forger in front of %s passed on no commitment: the fault was not exercised", m.n.m.Providers[i].Name)
	}
	m.forged.srv.Close()
	m.forged = nil
	killProvider(t, m, i)
	restartProvider(t, m, i)
}

// quietPeers restarts every provider but i with replica sync all but
// off, so a leaf only i holds stays only there until wakePeers.
func quietPeers(t *testing.T, m *matrix, i int) {
	t.Helper()
	for j, p := range m.n.m.Providers {
		if j == i {
			continue
		}
		killProvider(t, m, j)
		m.n.startProvider(t, j, append(slices.Clone(p.Command), "--sync-interval", "1h"), p.URL)
		m.quiet = append(m.quiet, j)
	}
}

// wakePeers restarts the quieted providers as devnet.json runs them.
func wakePeers(t *testing.T, m *matrix, _ int) {
	t.Helper()
	for _, j := range m.quiet {
		killProvider(t, m, j)
		restartProvider(t, m, j)
	}
	m.quiet = nil
}

// rawWrite writes content straight to provider i's log at its next seq
// (seq < 0) or at seq, bypassing quorum writes.
func (m *matrix) rawWrite(t *testing.T, i int, seq int64, content string) rawWriteJSON {
	t.Helper()
	local := writeFile(t, m.dir, fmt.Sprintf("raw-%d-%d", i, seq), content)
	args := []string{"raw", "write", "--provider", m.n.m.Providers[i].URL, "--bucket", fmt.Sprint(m.d.Bucket), local, "--json"}
	if seq >= 0 {
		args = append(args, "--seq", fmt.Sprint(seq))
	}
	return decode[rawWriteJSON](t, m.n.cairnWithin(t, faultDeadline, args...).ok(t))
}

// rawWriteVictim puts provider i one writer-signed leaf ahead of the
// others.
func rawWriteVictim(t *testing.T, m *matrix, i int) {
	t.Helper()
	m.rawWrite(t, i, -1, "a leaf only one provider holds\n")
}

// divergeVictim writes one leaf to provider i and another at the same
// seq to every other provider: i's log differs from the quorum's there
// for good.
func divergeVictim(t *testing.T, m *matrix, i int) {
	t.Helper()
	next := func(j int) int64 {
		c := m.n.commitment(t, m.n.m.Providers[j], m.d.Bucket).Commitment
		return int64(c.StartSeq + c.LeafCount)
	}
	seq := next(i)
	for j, p := range m.n.m.Providers {
		if j == i || next(j) >= seq {
			continue
		}
		// Early quorum may have left a quiet peer without the put's last
		// leaf (its write cut off at the drain, and its sync is off): it
		// syncs once, then is quieted again, so every log holds seq
		// leaves before they diverge.
		killProvider(t, m, j)
		restartProvider(t, m, j)
		eventually(t, 30*time.Second, fmt.Sprintf("%s syncing to %d leaves", p.Name, seq), func() error {
			if n := next(j); n < seq {
				return fmt.Errorf("at %d", n)
			}
			return nil
		})
		killProvider(t, m, j)
		m.n.startProvider(t, j, append(slices.Clone(p.Command), "--sync-interval", "1h"), p.URL)
	}
	if w := m.rawWrite(t, i, seq, "the minority's leaf\n"); w.Result.Leaf.Seq != uint64(seq) {
		t.Fatalf("raw write landed at seq %d, want %d", w.Result.Leaf.Seq, seq)
	}
	for j := range m.n.m.Providers {
		if j != i {
			m.rawWrite(t, j, seq, "the majority's leaf\n")
		}
	}
}

func killAll(t *testing.T, m *matrix, _ int) {
	t.Helper()
	for i := range m.n.m.Providers {
		killProvider(t, m, i)
	}
}

func restartAll(t *testing.T, m *matrix, _ int) {
	t.Helper()
	for i := range m.n.m.Providers {
		restartProvider(t, m, i)
	}
}

// midUploadSize is large enough that a put is still writing when the
// test sees its first leaves land.
const midUploadSize = 48 << 20

// killClientMidUpload starts a put of a large file, kills it with SIGKILL
// once some of its chunks are on a provider, and checks the drive did not
// move and the client's state still reads; a second put of the same file
// then succeeds.
func killClientMidUpload(t *testing.T, m *matrix, _ int) {
	t.Helper()
	n := m.n
	before := n.driveInfo(t, m.d.ref())
	p := n.m.Providers[m.order[0]]
	c := n.commitment(t, p, m.d.Bucket).Commitment
	start := c.StartSeq + c.LeafCount
	local := filepath.Join(m.dir, "big.bin")
	sum := writeRandomFile(t, local, midUploadSize, 9)
	put := startBackground(t, "--chain", n.chain, "--home", n.home, "put", local, m.d.ref()+":/big.bin")
	// Polled in-process and often: the whole upload takes a second or two.
	pc, err := providerclient.New(p.URL, providerclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(faultDeadline)
	for landed := false; !landed; {
		select {
		case <-put.done:
			t.Fatalf("put finished before it could be killed (%v): make midUploadSize larger", put.cmd.ProcessState)
		case <-deadline:
			t.Fatalf("no chunk of the put reached %s within %s", p.Name, faultDeadline)
		case <-time.After(10 * time.Millisecond):
		}
		sc, err := pc.Commitment(t.Context(), core.BucketID(m.d.Bucket))
		landed = err == nil && sc.StartSeq+sc.LeafCount >= start+2
	}
	put.cmd.Process.Kill()
	<-put.done
	if ws, ok := put.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("put was not killed mid-upload: %v", put.cmd.ProcessState)
	}
	if after := n.driveInfo(t, m.d.ref()); after.RootCID != before.RootCID || after.LastCommittedHeight != before.LastCommittedHeight {
		t.Errorf("the drive moved under a killed put: %+v -> %+v", before, after)
	}
	if st := n.status(t, m.d.ref()); st.HasPendingChanges || st.PendingRoot != nil || st.RootCID != before.RootCID {
		t.Errorf("checkpoint status after a killed put: %+v, want no pending root and root %s", st, before.RootCID)
	}
	ctx, cancel := context.WithTimeout(t.Context(), largeLimit)
	defer cancel()
	r := n.cairnCtx(t, ctx, "put", local, m.d.ref()+":/big.bin", "--json").ok(t)
	if op := decode[opJSON](t, r); op.Size != midUploadSize || op.RootCID == before.RootCID {
		t.Fatalf("put again after the kill: %+v, want %d bytes and a new root", op, midUploadSize)
	}
	m.acked = append(m.acked, acked{path: "/big.bin", local: local, sha256: sum})
}

// startOwnNetwork starts a network like cairn dev --processes, but with
// the chain inside this test process (devnet), so a row can stop it.
func startOwnNetwork(t *testing.T) *network {
	t.Helper()
	takeDevnetSlot(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	start := time.Now()
	dn, err := devnet.Start(ctx, devnet.Config{Dir: filepath.Join(dir, "net"), Providers: 3, Processes: true,
		Binary: binary(t), RPCListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	n := &network{t: t, dir: filepath.Join(dir, "net"), home: filepath.Join(dir, "client"), own: dn}
	n.chain = dn.Manifest().ChainRPC
	n.m = n.readManifest(t)
	t.Cleanup(func() {
		if t.Failed() {
			n.dumpProviderLogs(t)
		}
		if err := dn.Stop(); err != nil {
			t.Logf("stopping the devnet: %v", err)
		}
	})
	t.Logf("own devnet ready in %s: chain %s", time.Since(start).Round(time.Millisecond), n.chain)
	return n
}

func stopChain(t *testing.T, m *matrix, _ int) {
	t.Helper()
	if err := m.n.own.StopChain(); err != nil {
		t.Fatalf("stopping the chain: %v", err)
	}
}

func startChain(t *testing.T, m *matrix, _ int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	if err := m.n.own.StartChain(ctx); err != nil {
		t.Fatalf("starting the chain again: %v", err)
	}
}

// providerOrder is the drive's providers as devnet.json indexes, in the
// order drive info lists them: the order in which a client without health
// history tries them.
func (n *network) providerOrder(t *testing.T, d driveJSON) []int {
	t.Helper()
	var order []int
	for _, a := range n.driveInfo(t, d.ref()).Providers {
		i := slices.IndexFunc(n.m.Providers, func(p providerEntry) bool { return p.Account == a })
		if i < 0 {
			t.Fatalf("drive provider %s is not in devnet.json", a)
		}
		order = append(order, i)
	}
	if len(order) != 3 {
		t.Fatalf("drive has %d providers, want 3", len(order))
	}
	return order
}
