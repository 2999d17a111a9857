//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/internal/poll"
)

// Time limits. Generous: the machine is small and shared; a limit is
// there to turn a hang into a failure, not to measure speed.
const (
	readyTimeout   = 2 * time.Minute // cairn dev until its ready line
	stopTimeout    = time.Minute     // cairn dev after SIGINT
	commandTimeout = 2 * time.Minute // any one CLI command
)

// devnets bounds the networks running at once (each is a chain and three
// provider processes; the machine has two cores).
var devnets = make(chan struct{}, 3)

// manifest is the part of DIR/devnet.json the tests read, declared here
// rather than imported so that the file's documented format is what is
// tested.
type manifest struct {
	ChainID   string          `json:"chain_id"`
	ChainRPC  string          `json:"chain_rpc"`
	Providers []providerEntry `json:"providers"`
}

type providerEntry struct {
	Name    string   `json:"name"`
	Account string   `json:"account"`
	URL     string   `json:"url"`
	DataDir string   `json:"data_dir"`
	LogFile string   `json:"log_file"`
	PID     int      `json:"pid"`
	Command []string `json:"command"`
	Running bool     `json:"running"`
}

// network is one `cairn dev --processes` child and the client state the
// tests' commands share.
type network struct {
	t    *testing.T
	dir  string // --data
	home string // --home of the CLI commands (client state)

	mu    sync.Mutex
	dev   *exec.Cmd // nil while stopped
	log   *logBuffer
	done  chan struct{}
	chain string
	m     manifest
	// restarted are providers the test restarted itself, by index.
	restarted map[int]*background
	// own is the network when the test hosts it (startOwnNetwork)
	// instead of a cairn dev child.
	own *devnet.Network
}

// takeDevnetSlot waits for one of the devnet slots that bound how many
// networks run at once, and gives it back when the test ends.
func takeDevnetSlot(t *testing.T) {
	t.Helper()
	select {
	case devnets <- struct{}{}:
	case <-t.Context().Done():
		t.Fatal("test ended while waiting for a devnet slot")
	}
	t.Cleanup(func() { <-devnets })
}

// startNetwork starts `cairn dev --processes --providers 3` in a fresh
// directory and stops it (SIGINT, exit status 0) when the test ends.
func startNetwork(t *testing.T) *network {
	t.Helper()
	takeDevnetSlot(t)
	dir := t.TempDir()
	n := &network{t: t, dir: filepath.Join(dir, "net"), home: filepath.Join(dir, "client")}
	t.Cleanup(func() {
		if n.running() {
			n.Stop(t)
		}
		if t.Failed() {
			n.dumpProviderLogs(t)
		}
	})
	n.Start(t, false)
	return n
}

// Start starts cairn dev on the network's directory (again, after Stop).
// With jsonReady it reads the --json manifest instead of the ready line.
func (n *network) Start(t *testing.T, jsonReady bool) {
	t.Helper()
	args := []string{"dev", "--processes", "--providers", "3", "--data", n.dir,
		"--rpc", "127.0.0.1:0", "--home", filepath.Join(n.dir, "home")}
	if jsonReady {
		args = append(args, "--json")
	}
	cmd := exec.Command(binary(t), args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log := &logBuffer{}
	ready := make(chan string, 1)
	cmd.Stdout = &readyWriter{log: log, json: jsonReady, ready: ready}
	cmd.Stderr = log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting cairn dev: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	n.mu.Lock()
	n.dev, n.log, n.done = cmd, log, done
	n.mu.Unlock()
	// Show the devnet's output if the test fails while it runs.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cairn dev output (started %s):\n%s", start.Format(time.TimeOnly), log.String())
		}
	})
	select {
	case chain := <-ready:
		n.chain = chain
	case <-done:
		t.Fatalf("cairn dev exited before it was ready (%v):\n%s", cmd.ProcessState, log.String())
	case <-time.After(readyTimeout):
		t.Fatalf("cairn dev not ready within %s:\n%s", readyTimeout, log.String())
	}
	n.m = n.readManifest(t)
	if n.m.ChainRPC != n.chain {
		t.Fatalf("devnet.json chain_rpc %q, ready line chain=%q", n.m.ChainRPC, n.chain)
	}
	if len(n.m.Providers) != 3 {
		t.Fatalf("devnet.json lists %d providers, want 3", len(n.m.Providers))
	}
	for _, p := range n.m.Providers {
		if !p.Running || p.PID <= 0 || len(p.Command) == 0 || p.URL == "" {
			t.Fatalf("devnet.json: provider %s lacks pid, url or command: %+v", p.Name, p)
		}
	}
	t.Logf("devnet ready in %s: chain %s", time.Since(start).Round(time.Millisecond), n.chain)
}

// Stop interrupts cairn dev and checks that it stops cleanly.
func (n *network) Stop(t *testing.T) {
	t.Helper()
	n.mu.Lock()
	cmd, done, log := n.dev, n.done, n.log
	n.dev = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Errorf("SIGINT to cairn dev: %v", err)
	}
	select {
	case <-done:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-done
		t.Errorf("cairn dev did not stop within %s of SIGINT:\n%s", stopTimeout, log.String())
		return
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("cairn dev exited with %v after SIGINT, want status 0:\n%s", cmd.ProcessState, log.String())
	}
}

func (n *network) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dev != nil
}

func (n *network) readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, "devnet.json"))
	if err != nil {
		t.Fatalf("devnet.json: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("devnet.json: %v\n%s", err, b)
	}
	return m
}

func (n *network) dumpProviderLogs(t *testing.T) {
	for _, p := range n.m.Providers {
		b, err := os.ReadFile(p.LogFile)
		if err != nil {
			continue
		}
		t.Logf("provider %s log (tail):\n%s", p.Name, tail(string(b), 4000))
	}
}

// cairn runs a client command against the network as alice.
func (n *network) cairn(t *testing.T, args ...string) result {
	t.Helper()
	return n.cairnCtx(t, t.Context(), args...)
}

// cairnAs runs a client command signed by another dev account.
func (n *network) cairnAs(t *testing.T, signer string, args ...string) result {
	t.Helper()
	return n.cairnCtx(t, t.Context(), append([]string{"--signer", signer}, args...)...)
}

func (n *network) cairnCtx(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	return runCairn(t, ctx, append([]string{"--chain", n.chain, "--home", n.home}, args...)...)
}

// cairnWithin runs a client command and fails the test if it does not
// return within d; it logs how long the command took.
func (n *network) cairnWithin(t *testing.T, d time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	r := n.cairnCtx(t, ctx, args...)
	if r.timedOut {
		t.Fatalf("did not return within %s:\n%s", d, r)
	}
	t.Logf("cairn %s: exit %d in %s", strings.Join(args, " "), r.code, r.took.Round(time.Millisecond))
	return r
}

// result is what a finished command did.
type result struct {
	args           []string
	stdout, stderr string
	code           int           // exit status; -1 if killed
	maxRSSKiB      int64         // the child's peak resident set
	took           time.Duration // wall time
	timedOut       bool
}

func (r result) String() string {
	return fmt.Sprintf("cairn %s: exit %d after %s\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), tail(r.stdout, 4000), tail(r.stderr, 4000))
}

// runCairn runs the cairn binary with args and waits for it, for at most
// commandTimeout (or ctx).
func runCairn(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	return runCairnEnv(t, ctx, nil, args...)
}

// runCairnEnv is runCairn with extra environment variables (KEY=VALUE).
func runCairnEnv(t *testing.T, ctx context.Context, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	var peak int64
	err := cmd.Start()
	if err == nil {
		done := make(chan struct{})
		sampled := make(chan int64)
		go func() { sampled <- sampleHWM(cmd.Process.Pid, done) }()
		err = cmd.Wait()
		close(done)
		peak = <-sampled
	}
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start), code: -1, maxRSSKiB: peak}
	var ee *exec.ExitError
	switch {
	case err == nil || errors.As(err, &ee):
		r.code = cmd.ProcessState.ExitCode()
	default:
		t.Fatalf("running cairn %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		r.timedOut = true
	}
	return r
}

// sampleHWM reads the process's peak resident set (VmHWM in
// /proc/PID/status, KiB) every few milliseconds until done, and returns
// the last value read (VmHWM only grows). Not the rusage of the wait:
// Go starts children with a vfork-style clone, so the kernel's ru_maxrss
// of a child also counts the parent's resident set before the exec, and a
// large test process (the race detector's) would be charged to the child.
func sampleHWM(pid int, done <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if m, err := devnet.ReadProcMemory(pid); err == nil && m.Peak > peak {
			peak = m.Peak
		}
		select {
		case <-done:
			return peak
		case <-t.C:
		}
	}
}

// ok fails the test unless the command exited 0.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want exit status 0:\n%s", r)
	}
	return r
}

// exit fails the test unless the command exited with one of codes and
// printed its error on stderr.
func (r result) exit(t *testing.T, codes ...int) result {
	t.Helper()
	for _, c := range codes {
		if r.code == c {
			if c != 0 && strings.TrimSpace(r.stderr) == "" {
				t.Errorf("exit status %d but nothing on stderr:\n%s", c, r)
			}
			return r
		}
	}
	t.Fatalf("want exit status %v:\n%s", codes, r)
	return r
}

// decode parses the command's stdout as one JSON value of type T, failing
// the test if it is not exactly that.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not the JSON expected (%T): %v\n%s", v, err, r)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value:\n%s", r)
	}
	return v
}

// jsonError is the --json error contract: one object on stderr.
type jsonError struct {
	Error struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorJSON parses a failed --json command's stderr.
func (r result) errorJSON(t *testing.T) jsonError {
	t.Helper()
	var e jsonError
	if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || e.Error.Kind == "" || e.Error.Message == "" {
		t.Fatalf("stderr is not a JSON error {\"error\":{\"kind\",\"message\"}} (%v):\n%s", err, r)
	}
	return e
}

// cleanEnv is this process's environment without CAIRN_* variables, so
// a developer's settings never leak into a test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	return env
}

// eventually is poll.Until under the name the tests call it by: it polls f
// until it returns nil and fails the test with f's last error at the
// deadline.
var eventually = poll.Until

// logBuffer collects a child's output for showing on failure.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tail(l.b.String(), 8000)
}

// readyWriter is cairn dev's stdout: it keeps everything in log and sends
// the chain URL on ready once, from the line
// "devnet ready chain=URL ..." or, with json, from the manifest object.
type readyWriter struct {
	log   *logBuffer
	json  bool
	ready chan<- string
	mu    sync.Mutex
	buf   []byte
	sent  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.log.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if w.json {
		var m manifest
		dec := json.NewDecoder(bytes.NewReader(w.buf))
		if err := dec.Decode(&m); err == nil && m.ChainRPC != "" {
			w.send(m.ChainRPC)
		}
		return len(p), nil
	}
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if rest, ok := strings.CutPrefix(line, "devnet ready "); ok {
			for _, f := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(f, "chain="); ok {
					w.send(v)
				}
			}
		}
	}
	return len(p), nil
}

func (w *readyWriter) send(chain string) {
	w.sent = true
	w.buf = nil
	w.ready <- chain
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// background is a long-running cairn command (checkpoint watch, a
// restarted provider) whose stdout and stderr lines arrive on lines and
// errLines.
type background struct {
	cmd             *exec.Cmd
	lines, errLines chan string
	log             *logBuffer
	done            chan struct{}
}

// startBackground starts cairn with args; it is interrupted (and, if it
// does not stop, killed) when the test ends.
func startBackground(t *testing.T, args ...string) *background {
	t.Helper()
	return startCommand(t, append([]string{binary(t)}, args...))
}

// startCommand starts argv (a program and its arguments) like
// startBackground.
func startCommand(t *testing.T, argv []string) *background {
	t.Helper()
	return startCommandFor(t, t, argv)
}

// startCommandFor starts argv for owner, a test that may outlive t (a
// process started in a subtest and used by the next): it fails t if it
// cannot start, and is stopped when owner ends.
func startCommandFor(t, owner *testing.T, argv []string) *background {
	t.Helper()
	args := argv[1:]
	cmd := exec.Command(argv[0], args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	b := &background{cmd: cmd, lines: make(chan string, 1024), errLines: make(chan string, 1024),
		log: &logBuffer{}, done: make(chan struct{})}
	cmd.Stdout = &lineWriter{log: b.log, lines: b.lines}
	cmd.Stderr = &lineWriter{log: b.log, lines: b.errLines}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", strings.Join(argv, " "), err)
	}
	go func() {
		cmd.Wait()
		close(b.done)
	}()
	owner.Cleanup(func() {
		b.interrupt()
		if owner.Failed() {
			owner.Logf("output of %s:\n%s", strings.Join(argv, " "), b.log.String())
		}
	})
	return b
}

// interrupt sends SIGINT (SIGCONT first, in case it is stopped) and waits
// for the process; it returns the exit status, or -1 if it had to be
// killed.
func (b *background) interrupt() int {
	select {
	case <-b.done:
		return b.cmd.ProcessState.ExitCode()
	default:
	}
	b.cmd.Process.Signal(syscall.SIGCONT)
	b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		return -1
	}
}

// lineWriter splits what it is given into lines for a channel (dropping
// lines nobody reads once it is full) and keeps everything in log.
type lineWriter struct {
	log   *logBuffer
	lines chan string
	mu    sync.Mutex
	buf   []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.log.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}
