//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultDeadline bounds a put or commit while a fault holds: a dead, hung
// or slow provider must not stall the client.
const faultDeadline = 60 * time.Second

// fault is one row of the fault matrix: a fault applied to a real network
// and what the client must make of it, kept as data in the manner of
// CometBFT's test/e2e/runner/perturb.go. Every row runs the same steps
// (TestFaultMatrix): apply the fault; put a file and commit, each with
// the exit status the row expects; heal; then every provider catches up
// and every file ever acknowledged reads back intact.
type fault struct {
	name string
	// victim picks the provider to perturb from the drive's providers in
	// the order a fresh client tries them (indexes into devnet.json); nil
	// when the fault has no single victim (all providers, the chain).
	victim func(order []int) int
	apply  func(t *testing.T, m *matrix, victim int)
	// afterPut runs between the put and the commit: faults that must
	// follow the client's write (a leaf only one provider holds).
	afterPut func(t *testing.T, m *matrix, victim int)
	heal     func(t *testing.T, m *matrix, victim int)
	// ownChain runs the row on a network whose chain the test itself
	// hosts, so it can stop it (cairn dev cannot).
	ownChain bool
	want     want
}

// want is what a row expects while its fault holds.
type want struct {
	// putExit and commitExit are the exit statuses put and commit may
	// end with (nil: 0). A failed command's --json error carries the
	// kind of its status (errorKinds), and a failed put is retried after
	// healing, when it must succeed.
	putExit, commitExit []int
	// down: the victim answers nothing. provider ls shows it unreachable
	// and it never signs.
	down bool
	// conflict is the class `checkpoint conflicts` gives the victim
	// (ahead, data_divergence); the commit lands without it.
	conflict string
	// invalid: the victim's commitment fails verification; it is counted
	// invalid, never agreeing, and never signs.
	invalid bool
	// message is a word the failed commands' error must contain, to say
	// what is wrong.
	message string
}

func (w want) excludesVictim() bool { return w.down || w.conflict != "" || w.invalid }

// errorKinds is the --json error kind of each failing exit status the
// rows expect (internal/cli/exit.go is the one real table).
var errorKinds = map[int]string{5: "unavailable", 7: "no_quorum"}

// faults is the matrix. The rows share one network and run in order; each
// heals what it broke, except the last (diverged), whose victim disagrees
// for good. The chain row runs on a second network of its own.
var faults = []fault{
	{name: "kill -9", victim: last, apply: killProvider, heal: restartProvider, want: want{down: true}},
	// The provider a fresh client asks first: a hung one must cost a
	// bounded wait, not a full timeout per blob.
	{name: "hang", victim: first, apply: stopProvider, heal: continueProvider, want: want{down: true}},
	// Answers arrive, late: the client does not wait for them when two
	// others answer, and does not give up on the provider either.
	{name: "slow", victim: first, apply: slowProvider, heal: unslowProvider},
	{name: "restart", victim: middle, apply: restartGracefully, heal: nothing},
	// Missed several writes and a commit; back, it is written to while
	// still behind, and catches up.
	{name: "behind", victim: middle, apply: killAndWriteOn, heal: restartAndWrite, want: want{down: true}},
	// Every blob it holds rots; reads move past it by hash.
	{name: "corrupt blobs", victim: first, apply: corruptBlobs, heal: readPastRot},
	{name: "forged signature", victim: last, apply: forgeCommitments, heal: unforge, want: want{invalid: true}},
	{name: "client killed mid-upload", apply: killClientMidUpload, heal: nothing},
	{name: "ahead", victim: last, apply: quietPeers, afterPut: rawWriteVictim, heal: wakePeers, want: want{conflict: "ahead"}},
	{name: "all providers down", apply: killAll, heal: restartAll,
		want: want{putExit: []int{5, 7}, commitExit: []int{5, 7}}},
	{name: "chain down", ownChain: true, apply: stopChain, heal: startChain,
		want: want{putExit: []int{5}, commitExit: []int{5}, message: "chain"}},
	// Last: its victim holds another leaf at one seq for good.
	{name: "diverged", victim: first, apply: quietPeers, afterPut: divergeVictim, heal: wakePeers, want: want{conflict: "data_divergence"}},
}

func first(order []int) int  { return order[0] }
func middle(order []int) int { return order[1] }
func last(order []int) int   { return order[len(order)-1] }

func nothing(*testing.T, *matrix, int) {}

// matrix is one network under the fault rows, alice's drive on it, and
// every file a put acknowledged.
type matrix struct {
	n     *network
	d     driveJSON
	order []int
	dir   string // local files
	acked []acked
	// stakes are the providers' stakes before the first fault; rotted
	// are the accounts whose blobs a row corrupted (an audit may slash
	// them). Nobody else may lose stake.
	stakes map[string]uint64
	rotted map[string]bool
	rotten int // how many of acked had their blob corrupted (on one provider)
	// forged is the proxy that forges the victim's commitments.
	forged *forger
	slow   chan struct{} // closed to stop slowing the victim
	quiet  []int         // providers restarted with sync off
}

// acked is a file a put acknowledged: it must read back with these bytes.
type acked struct {
	path   string // in the drive
	local  string
	sha256 string
}

// newMatrix creates alice's drive on n with one file committed.
func newMatrix(t *testing.T, n *network) *matrix {
	t.Helper()
	m := &matrix{n: n, dir: t.TempDir(), rotted: map[string]bool{}}
	m.d = n.createDrive(t, "faults", "manual")
	m.put(t, "/before.txt", "hello, cairn\n").ok(t)
	n.cairn(t, "commit", m.d.ref()).ok(t)
	m.order = n.providerOrder(t, m.d)
	m.stakes = m.stakesNow(t)
	return m
}

// TestFaultMatrix runs every row of faults in order: on one `cairn dev
// --processes` network, and the rows that stop the chain on a network the
// test hosts.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	shared := newMatrix(t, startNetwork(t))
	own := newMatrix(t, startOwnNetwork(t))
	for i, f := range faults {
		m := shared
		if f.ownChain {
			m = own
		}
		if !t.Run(f.name, func(t *testing.T) { m.run(t, i, f) }) {
			t.FailNow() // the next row assumes this one healed
		}
	}
}

func (m *matrix) run(t *testing.T, i int, f fault) {
	n, w := m.n, f.want
	vi := -1
	var victim providerEntry
	if f.victim != nil {
		vi = f.victim(m.order)
		victim = n.m.Providers[vi]
	}
	before := n.driveInfo(t, m.d.ref())
	f.apply(t, m, vi)
	if w.down {
		if st := n.providerStatus(t); st[victim.Name] != "unreachable" {
			t.Errorf("provider ls --json while %s is faulted: %v, want it unreachable", victim.Name, st)
		}
	}

	path := fmt.Sprintf("/row-%02d.txt", i)
	content := fmt.Sprintf("written while %s\n", f.name)
	put := m.put(t, path, content)
	put.exit(t, orZero(w.putExit)...)
	m.checkFailure(t, put, w)
	if f.afterPut != nil {
		f.afterPut(t, m, vi)
	}
	if w.conflict != "" || w.invalid {
		m.checkConflicts(t, victim, w)
	}
	commit := n.cairnWithin(t, faultDeadline, "commit", m.d.ref(), "--json").exit(t, orZero(w.commitExit)...)
	m.checkFailure(t, commit, w)
	if commit.code == 0 {
		m.checkCommitted(t, decode[opJSON](t, put).RootCID, decode[resultJSON](t, commit), victim, w)
	} else if r := strings.TrimSpace(commit.stdout); r != "" {
		if res := decode[resultJSON](t, commit); res.Kind == "submitted" {
			t.Errorf("commit exited %d but reports %+v", commit.code, res)
		}
	}
	// The file reads back while the fault holds: a get must not wait out
	// a hung or slow provider for every blob.
	if put.code == 0 {
		if r := n.cairnWithin(t, faultDeadline, "get", m.d.ref()+":"+path, "-").ok(t); r.stdout != content {
			t.Fatalf("get %s while %s: %q, want %q", path, f.name, r.stdout, content)
		}
	}

	f.heal(t, m, vi)
	if commit.code != 0 {
		m.checkUnmoved(t, before) // asked once the chain can answer
	}
	if put.code != 0 {
		// Back, the same put and a commit succeed.
		op := decode[opJSON](t, m.put(t, path, content).ok(t))
		res := decode[resultJSON](t, n.cairnWithin(t, faultDeadline, "commit", m.d.ref(), "--json").ok(t))
		if res.Kind != "submitted" || res.DriveRoot != op.RootCID {
			t.Fatalf("commit after healing %s: %+v, want submitted with root %s", f.name, res, op.RootCID)
		}
	}
	m.converge(t, f.name)
	// A provider reports its own sync lag in /health and updates it on its
	// next sync round, which may come a moment after its log converged
	// (a writer can catch it up first): wait for that round.
	eventually(t, 60*time.Second, "every provider ok after healing "+f.name, func() error {
		if st := n.providerStatus(t); slices.ContainsFunc(n.m.Providers, func(p providerEntry) bool { return st[p.Name] != "ok" }) {
			return fmt.Errorf("provider ls --json: %v, want every provider ok", st)
		}
		return nil
	})
	m.readBack(t)
	m.checkStakes(t)
}

func orZero(codes []int) []int {
	if len(codes) == 0 {
		return []int{0}
	}
	return codes
}

// put uploads content to path in the drive and, if put succeeds,
// records it as acknowledged.
func (m *matrix) put(t *testing.T, path, content string) result {
	t.Helper()
	local := writeFile(t, m.dir, strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "_"), content)
	r := m.n.cairnWithin(t, faultDeadline, "put", local, m.d.ref()+":"+path, "--json")
	if r.code == 0 {
		sum := sha256.Sum256([]byte(content))
		m.acked = append(m.acked, acked{path: path, local: local, sha256: hex.EncodeToString(sum[:])})
	}
	return r
}

// checkFailure: a command that failed says so in --json with the kind of
// its exit status and, when the row asks, a message naming the cause.
func (m *matrix) checkFailure(t *testing.T, r result, w want) {
	t.Helper()
	if r.code == 0 {
		return
	}
	e := r.errorJSON(t)
	if want := errorKinds[r.code]; e.Error.Kind != want {
		t.Errorf("cairn %s: exit %d with error kind %q, want %q", strings.Join(r.args, " "), r.code, e.Error.Kind, want)
	}
	if w.message != "" && !strings.Contains(strings.ToLower(e.Error.Message), w.message) {
		t.Errorf("cairn %s: error %q does not mention %q", strings.Join(r.args, " "), e.Error.Message, w.message)
	}
}

// checkConflicts asks every provider and checks the victim's place.
func (m *matrix) checkConflicts(t *testing.T, victim providerEntry, w want) {
	t.Helper()
	c := decode[conflictsJSON](t, m.n.cairnWithin(t, faultDeadline, "checkpoint", "conflicts", m.d.ref(), "--json").ok(t))
	if slices.Contains(c.Collection.Agreeing, victim.Account) || !c.Collection.Reached || len(c.Collection.Agreeing) != 2 {
		t.Errorf("conflicts: %+v, want the quorum reached by the two others without %s", c.Collection, victim.Name)
	}
	if w.invalid && !slices.Contains(c.Collection.Invalid, victim.Account) {
		t.Errorf("conflicts: invalid %v, want %s counted invalid", c.Collection.Invalid, victim.Name)
	}
	if w.conflict == "" {
		return
	}
	var kinds []string
	if c.Conflict != nil {
		for _, k := range c.Conflict.Conflicts {
			if k.Provider == victim.Account {
				kinds = append(kinds, k.Kind)
			}
		}
	}
	if len(kinds) != 1 || kinds[0] != w.conflict {
		t.Errorf("conflicts: %s classified %v, want [%s]", victim.Name, kinds, w.conflict)
	}
}

// checkCommitted: the commit landed with the put's root, signed by enough
// providers (never the victim when it could not agree), and the chain
// says so.
func (m *matrix) checkCommitted(t *testing.T, root string, res resultJSON, victim providerEntry, w want) {
	t.Helper()
	if res.Kind != "submitted" || res.DriveRoot != root || len(res.Signers) < 2 {
		t.Fatalf("commit: %+v, want submitted with root %s and at least 2 signers", res, root)
	}
	if w.excludesVictim() && slices.Contains(res.Signers, victim.Account) {
		t.Errorf("commit: signers %v include %s, which cannot agree", res.Signers, victim.Name)
	}
	info := m.n.driveInfo(t, m.d.ref())
	if info.RootCID != root || info.LastCommittedHeight != res.Height {
		t.Errorf("drive info: root %s at height %d, want %s at %d", info.RootCID, info.LastCommittedHeight, root, res.Height)
	}
	st := m.n.status(t, m.d.ref())
	if lc := st.LastCheckpoint; lc == nil || lc.LeafCount != res.LeafCount || !sameSet(lc.Signers, res.Signers) {
		t.Errorf("checkpoint status: last checkpoint %+v, want %d leaves signed by %v", lc, res.LeafCount, res.Signers)
	}
}

// checkUnmoved: after a failed commit the drive is as it was.
func (m *matrix) checkUnmoved(t *testing.T, before driveJSON) {
	t.Helper()
	after := m.n.driveInfo(t, m.d.ref())
	if after.RootCID != before.RootCID || after.LastCommittedHeight != before.LastCommittedHeight {
		t.Errorf("the drive moved though the commit failed: %+v -> %+v", before, after)
	}
}

// converge waits until every provider holds as many leaves as the most
// advanced one: those that missed writes caught up by sync.
func (m *matrix) converge(t *testing.T, what string) {
	t.Helper()
	eventually(t, 90*time.Second, "providers catching up after "+what, func() error {
		counts := m.n.leafCounts(t, m.d.Bucket)
		if slices.Min(counts) != slices.Max(counts) {
			return fmt.Errorf("leaf counts %v", counts)
		}
		return nil
	})
}

// readBack gets every acknowledged file with a fresh client state and
// compares its bytes.
func (m *matrix) readBack(t *testing.T) {
	t.Helper()
	out := filepath.Join(m.dir, "got")
	for _, a := range m.acked {
		os.Remove(out)
		m.n.cairnWithin(t, faultDeadline, "get", m.d.ref()+":"+a.path, out).ok(t)
		if got := sha256File(t, out); got != a.sha256 {
			t.Fatalf("get %s: sha256 %s, want %s (the file %s acknowledged)", a.path, got, a.sha256, a.local)
		}
	}
}

// stakesNow is each provider's stake by account.
func (m *matrix) stakesNow(t *testing.T) map[string]uint64 {
	t.Helper()
	ps := decode[[]providerJSON](t, m.n.cairn(t, "provider", "ls", "--json", "--timeout", "2s").ok(t))
	out := map[string]uint64{}
	for _, p := range ps {
		out[p.Account] = p.Stake
	}
	return out
}

// checkStakes: no fault so far costs an honest provider stake.
func (m *matrix) checkStakes(t *testing.T) {
	t.Helper()
	for a, s := range m.stakesNow(t) {
		if s != m.stakes[a] && !m.rotted[a] {
			t.Errorf("provider %s stake %d, was %d: an honest provider lost stake", a, s, m.stakes[a])
		}
	}
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
