//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCLI runs the client commands against one network: each commit
// strategy, the --json output of every command, and the exit statuses of
// the documented failures.
func TestCLI(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	local := t.TempDir()
	hello := writeFile(t, local, "hello.txt", "hello, cairn\n")

	t.Run("strategy immediate", func(t *testing.T) {
		d := n.createDrive(t, "imm", "immediate")
		if d.Strategy.Kind != "immediate" {
			t.Fatalf("strategy %+v, want immediate", d.Strategy)
		}
		// Piped, put draws no progress bar and says nothing on stderr.
		r := n.cairn(t, "put", hello, "imm:/docs/hello.txt").ok(t)
		if r.stderr != "" || !strings.Contains(r.stdout, "checkpoint: submitted") {
			t.Fatalf("put to an immediate drive: want a submitted checkpoint on stdout and nothing on stderr:\n%s", r)
		}
		op := n.put(t, hello, "imm:/docs/again.txt")
		cp := op.Checkpoint
		if cp == nil || cp.Kind != "submitted" || cp.DriveRoot != op.RootCID || len(cp.Signers) < 2 {
			t.Fatalf("put to an immediate drive: checkpoint %+v, want submitted with root %s and >= 2 signers", cp, op.RootCID)
		}
		st := n.status(t, "imm")
		if st.HasPendingChanges || st.PendingRoot != nil {
			t.Errorf("checkpoint status after an immediate put: pending %v %+v, want nothing pending", st.HasPendingChanges, st.PendingRoot)
		}
		if st.RootCID != op.RootCID || st.LastCheckpoint == nil || st.LastCheckpoint.Height != cp.Height || st.LastCheckpoint.LeafCount != cp.LeafCount {
			t.Errorf("checkpoint status: root %s last %+v, want root %s at height %d with %d leaves", st.RootCID, st.LastCheckpoint, op.RootCID, cp.Height, cp.LeafCount)
		}
		if len(st.ProviderHealth) != 3 {
			t.Errorf("checkpoint status lists %d providers' health, want 3", len(st.ProviderHealth))
		}
		if info := n.driveInfo(t, "imm"); info.RootCID != op.RootCID || info.PendingRoot != "" {
			t.Errorf("drive info: root_cid %q pending %q, want the new root %s on chain", info.RootCID, info.PendingRoot, op.RootCID)
		}
	})

	t.Run("strategy manual", func(t *testing.T) {
		d := n.createDrive(t, "man", "manual")
		op := n.put(t, hello, "man:/a.txt")
		if op.Checkpoint != nil {
			t.Fatalf("put to a manual drive checkpointed: %+v", op.Checkpoint)
		}
		st := n.status(t, "man")
		if !st.HasPendingChanges || st.PendingRoot == nil || st.PendingRoot.RootCID != op.RootCID {
			t.Fatalf("checkpoint status after a manual put: pending %v %+v, want pending root %s", st.HasPendingChanges, st.PendingRoot, op.RootCID)
		}
		if info := n.driveInfo(t, d.ref()); info.RootCID != "" || info.PendingRoot != op.RootCID {
			t.Fatalf("drive info before commit: root_cid %q pending %q, want no root on chain and %s pending", info.RootCID, info.PendingRoot, op.RootCID)
		}
		r := n.cairn(t, "commit", "man").ok(t)
		if !strings.Contains(r.stdout, "submitted") {
			t.Fatalf("commit: want 'submitted' in its output:\n%s", r)
		}
		if info := n.driveInfo(t, "man"); info.RootCID != op.RootCID {
			t.Fatalf("drive info after commit: root_cid %q, want %s", info.RootCID, op.RootCID)
		}
		if st := n.status(t, "man"); st.HasPendingChanges {
			t.Errorf("checkpoint status after commit: still pending")
		}
		// A second change moves the root again; commit --json reports it.
		op2 := n.put(t, hello, "man:/b.txt")
		res := decode[resultJSON](t, n.cairn(t, "commit", d.ref(), "--json").ok(t))
		if res.Kind != "submitted" || res.DriveRoot != op2.RootCID || res.AlreadyOnChain || res.TxHash == "" {
			t.Fatalf("commit --json: %+v, want a new submitted checkpoint carrying %s", res, op2.RootCID)
		}
		if info := n.driveInfo(t, "man"); info.RootCID != op2.RootCID || info.LastCommittedHeight != res.Height {
			t.Fatalf("drive info: root_cid %q at %d, want %s at %d", info.RootCID, info.LastCommittedHeight, op2.RootCID, res.Height)
		}
		// Nothing new: commit still exits 0, and says the chain has it.
		again := decode[resultJSON](t, n.cairn(t, "commit", "man", "--json").ok(t))
		if again.Kind != "submitted" || !again.AlreadyOnChain {
			t.Errorf("commit with nothing pending: %+v, want submitted, already on chain", again)
		}
	})

	t.Run("strategy batched", func(t *testing.T) {
		d := n.createDrive(t, "bat", "batched:5")
		if d.Strategy != (strategyJSON{Kind: "batched", Interval: 5}) {
			t.Fatalf("strategy %+v, want batched every 5 blocks", d.Strategy)
		}
		op := n.put(t, hello, "bat:/a.txt")
		if op.Checkpoint != nil {
			t.Fatalf("put to a batched drive checkpointed at once: %+v", op.Checkpoint)
		}
		if info := n.driveInfo(t, "bat"); info.RootCID != "" {
			t.Fatalf("drive info: root_cid %q before any checkpoint", info.RootCID)
		}
		// Batched checkpoints come from the client's loop, which
		// `checkpoint watch` runs; its events stream as JSON lines.
		w := startBackground(t, "--chain", n.chain, "--home", n.home, "checkpoint", "watch", "bat", "--json")
		ev := waitEvent(t, w, 60*time.Second, func(e eventJSON) bool {
			return e.Kind == "checkpoint.submitted" && e.Result != nil && e.Result.DriveRoot == op.RootCID
		})
		if ev.Bucket != d.Bucket {
			t.Errorf("event for bucket %d, want %d", ev.Bucket, d.Bucket)
		}
		if info := n.driveInfo(t, "bat"); info.RootCID != op.RootCID {
			t.Fatalf("drive info after the batched checkpoint: root_cid %q, want %s", info.RootCID, op.RootCID)
		}
		if code := w.interrupt(); code != 0 {
			t.Errorf("checkpoint watch exited %d on SIGINT, want 0", code)
		}
	})

	// A batched drive's loop runs in whichever process watches it. A
	// change made by another cairn process while the watch runs must
	// still be checkpointed within the interval.
	t.Run("batched watch sees changes made while it runs", func(t *testing.T) {
		d := n.createDrive(t, "bat2", "batched:2")
		w := startBackground(t, "--chain", n.chain, "--home", n.home, "checkpoint", "watch", d.ref())
		waitLine(t, w.errLines, 30*time.Second, "watching drive")
		op := n.put(t, hello, d.ref()+":/later.txt")
		// 20 s is ten 2-block intervals and more.
		eventually(t, 20*time.Second, "checkpoint watch (started before the put) checkpointing a put made by another process", func() error {
			if info := n.driveInfo(t, d.ref()); info.RootCID != op.RootCID {
				return fmt.Errorf("root_cid %q, want %s; the watch keeps the client state it read at start "+
					"(checkpoint/state.go reads the state file once)", info.RootCID, op.RootCID)
			}
			return nil
		})
	})

	t.Run("json", func(t *testing.T) { testJSONOutputs(t, n, hello) })
	t.Run("exit status", func(t *testing.T) { testExitStatus(t, n, hello) })
}

// testJSONOutputs checks that every command's --json output parses, and
// says what happened.
func testJSONOutputs(t *testing.T, n *network, hello string) {
	d := n.createDrive(t, "js", "immediate")
	ref := d.ref()

	ds := decode[[]driveJSON](t, n.cairn(t, "drive", "ls", "--json").ok(t))
	if !slices.ContainsFunc(ds, func(x driveJSON) bool { return x.ID == d.ID && x.Name == "js" }) {
		t.Errorf("drive ls --json: %+v lacks drive %d (js)", ds, d.ID)
	}
	if empty := decode[[]driveJSON](t, n.cairnAs(t, "charlie", "drive", "ls", "--json").ok(t)); len(empty) != 0 {
		t.Errorf("drive ls --json for an account without drives: %+v", empty)
	}

	op := decode[opJSON](t, n.cairn(t, "mkdir", ref+":/dir/sub", "--json").ok(t))
	if op.Path != "/dir/sub" || op.RootCID == "" || op.Checkpoint == nil || op.Checkpoint.Kind != "submitted" {
		t.Errorf("mkdir --json: %+v", op)
	}
	put := n.put(t, hello, ref+":/dir/hello.txt")
	if put.Size != 13 || put.Chunks != 1 || put.Path != "/dir/hello.txt" {
		t.Errorf("put --json: %+v, want 13 bytes in 1 chunk at /dir/hello.txt", put)
	}

	es := decode[[]entryJSON](t, n.cairn(t, "ls", ref+":/dir", "--json").ok(t))
	want := []entryJSON{{Name: "hello.txt", Kind: "file", CID: put.CID, Size: 13}, {Name: "sub", Kind: "dir"}}
	if len(es) != 2 || es[0] != want[0] || es[1].Name != "sub" || es[1].Kind != "dir" || es[1].CID == "" {
		t.Errorf("ls --json: %+v, want %+v", es, want)
	}
	if root := decode[[]entryJSON](t, n.cairn(t, "ls", ref, "--json").ok(t)); len(root) != 1 || root[0].Name != "dir" {
		t.Errorf("ls DRIVE --json (the root): %+v, want [dir]", root)
	}
	if e := decode[[]entryJSON](t, n.cairn(t, "ls", ref+":/dir/sub", "--json").ok(t)); len(e) != 0 {
		t.Errorf("ls --json of an empty directory: %+v, want []", e)
	}
	if st := decode[entryJSON](t, n.cairn(t, "stat", ref+":/dir/hello.txt", "--json").ok(t)); st.Kind != "file" || st.Size != 13 || st.CID != put.CID {
		t.Errorf("stat --json: %+v, want the file of 13 bytes, cid %s", st, put.CID)
	}

	out := filepath.Join(t.TempDir(), "got.txt")
	g := decode[getJSON](t, n.cairn(t, "get", ref+":/dir/hello.txt", out, "--json").ok(t))
	if g.Bytes != 13 || g.Local != out {
		t.Errorf("get --json: %+v, want 13 bytes to %s", g, out)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hello, cairn\n" {
		t.Errorf("get wrote %q, %v", b, err)
	}
	if r := n.cairn(t, "get", ref+":/dir/hello.txt", "-").ok(t); r.stdout != "hello, cairn\n" {
		t.Errorf("get to -: stdout %q", r.stdout)
	}

	mv := decode[opJSON](t, n.cairn(t, "mv", ref+":/dir/hello.txt", "/dir/sub/moved.txt", "--json").ok(t))
	if mv.RootCID == "" || mv.RootCID == put.RootCID {
		t.Errorf("mv --json: %+v, want a new root", mv)
	}
	if st := decode[entryJSON](t, n.cairn(t, "stat", ref+":/dir/sub/moved.txt", "--json").ok(t)); st.CID != put.CID {
		t.Errorf("after mv, stat: %+v, want the moved file %s", st, put.CID)
	}
	rm := decode[opJSON](t, n.cairn(t, "rm", "-r", ref+":/dir", "--json").ok(t))
	if rm.RootCID == mv.RootCID || rm.Checkpoint == nil || rm.Checkpoint.Kind != "submitted" {
		t.Errorf("rm -r --json: %+v", rm)
	}
	if es := decode[[]entryJSON](t, n.cairn(t, "ls", ref, "--json").ok(t)); len(es) != 0 {
		t.Errorf("ls after rm -r: %+v, want empty", es)
	}

	res := decode[resultJSON](t, n.cairn(t, "commit", ref, "--json").ok(t))
	if res.Kind != "submitted" || res.LeafCount == 0 {
		t.Errorf("commit --json: %+v", res)
	}
	if st := n.status(t, ref); st.Drive != d.ID || st.Bucket != d.Bucket || st.LastCheckpointHeight == 0 {
		t.Errorf("checkpoint status --json: %+v", st)
	}
	c := decode[conflictsJSON](t, n.cairn(t, "checkpoint", "conflicts", ref, "--json").ok(t))
	if c.Collection.Bucket != d.Bucket || c.Collection.Total != 3 || c.Collection.Required != 2 || !c.Collection.Reached || c.Conflict != nil {
		t.Errorf("checkpoint conflicts --json: %+v, want 3 providers agreeing, no conflict", c)
	}
	counts := n.leafCounts(t, d.Bucket) // raw commitment --json, from each provider
	if counts[0] == 0 || counts[0] != res.LeafCount {
		t.Errorf("raw commitment leaf counts %v, want %d (the last checkpoint)", counts, res.LeafCount)
	}
	if st := n.providerStatus(t); st["p0"] != "ok" || st["p1"] != "ok" || st["p2"] != "ok" {
		t.Errorf("provider ls --json: statuses %v, want all ok", st)
	}
	if cs := decode[[]json.RawMessage](t, n.cairn(t, "challenge", "ls", "--json").ok(t)); cs == nil {
		t.Errorf("challenge ls --json: want a list")
	}
	if cs := decode[chainStatusJSON](t, n.cairn(t, "chain", "status", "--json").ok(t)); cs.ChainID != n.m.ChainID || cs.Height <= 0 {
		t.Errorf("chain status --json: %+v", cs)
	}
	if v := decode[versionJSON](t, runCairn(t, t.Context(), "version", "--json").ok(t)); v.Version == "" || v.Commitment.Provider == "" {
		t.Errorf("version --json: %+v", v)
	}
	// raw write: one blob to one provider only, outside the drive's tree.
	p0 := n.m.Providers[0]
	raw := decode[rawWriteJSON](t, n.cairn(t, "raw", "write", "--provider", p0.URL, "--bucket", fmt.Sprint(d.Bucket), hello, "--json").ok(t))
	if raw.Bucket != d.Bucket || raw.Result.Leaf.Seq != counts[0] || raw.Result.Leaf.Size != 13 || raw.Result.LeafCount != counts[0]+1 {
		t.Errorf("raw write --json: %+v, want 13 bytes at seq %d of bucket %d", raw, counts[0], d.Bucket)
	}
	tn := decode[struct {
		ChainID string `json:"chain_id"`
		Nodes   []struct {
			Home string `json:"home"`
			RPC  string `json:"rpc"`
		} `json:"nodes"`
	}](t, runCairn(t, t.Context(), "chain", "testnet", "--validators", "2", "--out", t.TempDir(), "--json").ok(t))
	if tn.ChainID == "" || len(tn.Nodes) != 2 || tn.Nodes[1].RPC == "" {
		t.Errorf("chain testnet --json: %+v", tn)
	}
	if del := decode[map[string]string](t, n.cairn(t, "drive", "rm", ref, "--json").ok(t)); del["deleted"] != ref {
		t.Errorf("drive rm --json: %v", del)
	}
	n.cairn(t, "drive", "info", ref).exit(t, 3)
}

// testExitStatus checks the documented exit statuses, the message, and
// that a refused write leaves the drive as it was.
func testExitStatus(t *testing.T, n *network, hello string) {
	full := n.createDrive(t, "ex", "immediate")
	n.put(t, hello, "ex:/keep.txt")
	empty := n.createDrive(t, "ex-empty", "manual")
	fullID, emptyID := full.ref(), empty.ref()
	missing := filepath.Join(t.TempDir(), "does-not-exist")

	type exitCase struct {
		name   string
		signer string
		args   []string
		codes  []int  // acceptable statuses
		msg    string // in the message
	}
	cases := []exitCase{
		{name: "unknown drive info", args: []string{"drive", "info", "nosuch"}, codes: []int{3}, msg: "nosuch"},
		{name: "unknown drive id", args: []string{"drive", "info", "987654"}, codes: []int{3}},
		{name: "unknown drive put", args: []string{"put", hello, "nosuch:/x"}, codes: []int{3}, msg: "nosuch"},
		{name: "unknown drive get", args: []string{"get", "nosuch:/x", filepath.Join(t.TempDir(), "x")}, codes: []int{3}},
		{name: "unknown drive ls", args: []string{"ls", "nosuch"}, codes: []int{3}},
		{name: "unknown drive commit", args: []string{"commit", "nosuch"}, codes: []int{3}},
		{name: "unknown drive status", args: []string{"checkpoint", "status", "nosuch"}, codes: []int{3}},
		{name: "get missing file", args: []string{"get", "ex:/nope.txt", filepath.Join(t.TempDir(), "nope.txt")}, codes: []int{3}, msg: "no such file"},
		{name: "stat missing file", args: []string{"stat", "ex:/nope.txt"}, codes: []int{3}},
		{name: "rm missing file", args: []string{"rm", "ex:/nope.txt"}, codes: []int{3}},
		{name: "put dotdot", args: []string{"put", hello, "ex:/../etc"}, codes: []int{2, 9}, msg: ".."},
		{name: "put inner dotdot", args: []string{"put", hello, "ex:/a/../../etc/passwd"}, codes: []int{2, 9}, msg: ".."},
		{name: "put dot", args: []string{"put", hello, "ex:/./x"}, codes: []int{2, 9}},
		{name: "put relative", args: []string{"put", hello, "ex:relative"}, codes: []int{2, 9}, msg: "absolute"},
		{name: "put no drive", args: []string{"put", hello, ":/x"}, codes: []int{2, 9}, msg: "DRIVE:/path"},
		{name: "put to root", args: []string{"put", hello, "ex:/"}, codes: []int{9}},
		{name: "put control char", args: []string{"put", hello, "ex:/a\x01b"}, codes: []int{2, 9}},
		{name: "mkdir dotdot", args: []string{"mkdir", "ex:/.."}, codes: []int{2, 9}},
		{name: "mv to dotdot", args: []string{"mv", "ex:/keep.txt", "/../keep.txt"}, codes: []int{2, 9}},
		{name: "mkdir exists", args: []string{"mkdir", "ex:/keep.txt"}, codes: []int{8}},
		{name: "drive name taken", args: []string{"drive", "create", "--name", "ex"}, codes: []int{8}, msg: "ex"},
		{name: "bad strategy", args: []string{"drive", "create", "--name", "zz", "--strategy", "sometimes"}, codes: []int{2}},
		{name: "non-owner put by id", signer: "bob", args: []string{"put", hello, fullID + ":/bob.txt"}, codes: []int{4}},
		{name: "non-owner put to an empty drive", signer: "bob", args: []string{"put", hello, emptyID + ":/bob.txt"}, codes: []int{4}},
		{name: "non-owner mkdir", signer: "bob", args: []string{"mkdir", fullID + ":/bob"}, codes: []int{4}},
		{name: "non-owner drive rm", signer: "bob", args: []string{"drive", "rm", fullID}, codes: []int{4}},
		{name: "non-owner by name", signer: "bob", args: []string{"put", hello, "ex:/bob.txt"}, codes: []int{3}},
		{name: "unknown signer", signer: "nobody", args: []string{"drive", "ls"}, codes: []int{3}, msg: "nobody"},
		{name: "missing local file", args: []string{"put", missing, "ex:/x"}, codes: []int{3}, msg: "does-not-exist"},
		{name: "unknown flag", args: []string{"ls", "--no-such-flag", "ex"}, codes: []int{2}},
		{name: "too few arguments", args: []string{"put", hello}, codes: []int{2}},
		{name: "unknown command", args: []string{"no-such-command"}, codes: []int{2}},
		{name: "chain down", args: []string{"--chain", closedPortURL(t), "drive", "ls"}, codes: []int{5}},
	}
	before := snapshot(t, n, full, empty)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.signer != "" {
				args = append([]string{"--signer", c.signer}, args...)
			}
			r := n.cairn(t, args...)
			if r.stdout != "" {
				t.Errorf("a failing command printed on stdout:\n%s", r)
			}
			r.exit(t, c.codes...)
			if c.msg != "" && !strings.Contains(r.stderr, c.msg) {
				t.Errorf("message %q does not mention %q", strings.TrimSpace(r.stderr), c.msg)
			}
			// Under --json the same failure is one JSON object on stderr.
			rj := n.cairn(t, append([]string{"--json"}, args...)...)
			if rj.code != r.code {
				t.Errorf("with --json: exit %d, without %d", rj.code, r.code)
			}
			if rj.stdout != "" {
				t.Errorf("with --json, a failure printed on stdout:\n%s", rj)
			}
			rj.errorJSON(t)
		})
	}
	if after := snapshot(t, n, full, empty); !slices.Equal(before, after) {
		t.Errorf("refused commands changed the drives:\nbefore %v\nafter  %v", before, after)
	}
	// get of a missing file leaves no file, partial or not.
	dir := t.TempDir()
	n.cairn(t, "get", "ex:/nope.txt", filepath.Join(dir, "nope.txt")).exit(t, 3)
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("a failed get left %v behind", es)
	}
}

// snapshot is what a refused command must not change: the drives' roots
// and their providers' leaf counts.
func snapshot(t *testing.T, n *network, ds ...driveJSON) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		info := n.driveInfo(t, d.ref())
		out = append(out, fmt.Sprintf("drive %d root %q pending %q leaves %v", d.ID, info.RootCID, info.PendingRoot, n.leafCounts(t, d.Bucket)))
	}
	return out
}

// waitEvent reads watch's JSON lines until one matches, failing the test
// on a line that is not JSON or after within.
func waitEvent(t *testing.T, w *background, within time.Duration, match func(eventJSON) bool) eventJSON {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case line := <-w.lines:
			var e eventJSON
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Kind == "" {
				t.Fatalf("checkpoint watch --json printed a line that is not an event (%v): %s", err, line)
			}
			if match(e) {
				return e
			}
		case <-w.done:
			t.Fatalf("checkpoint watch exited (%v) before the event:\n%s", w.cmd.ProcessState, w.log.String())
		case <-timeout:
			t.Fatalf("no matching checkpoint event within %s:\n%s", within, w.log.String())
		}
	}
}

// waitLine waits for a line containing s.
func waitLine(t *testing.T, lines <-chan string, within time.Duration, s string) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case line := <-lines:
			if strings.Contains(line, s) {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q within %s", s, within)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPortURL is an http URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
