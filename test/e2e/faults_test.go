//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// faultDeadline bounds a put or commit while a provider is down or hung:
// a hung provider must not stall the client.
const faultDeadline = 60 * time.Second

// perturbation makes one provider process fail and brings it back, as
// CometBFT's test/e2e runner keeps its perturbations.
type perturbation struct {
	name string
	// victim picks the provider from the drive's providers in the order
	// a fresh client tries them (indexes into devnet.json).
	victim func(order []int) int
	apply  func(t *testing.T, n *network, victim int)
	heal   func(t *testing.T, n *network, victim int)
}

var perturbations = []perturbation{
	{name: "kill -9", victim: last, apply: killProvider, heal: restartProvider},
	// The provider a fresh client asks first: a hung one must cost a
	// bounded wait, not a full timeout per blob.
	{name: "SIGSTOP", victim: first, apply: stopProvider, heal: continueProvider},
}

func first(order []int) int { return order[0] }
func last(order []int) int  { return order[len(order)-1] }

// TestProviderFaults perturbs the provider processes of one network in
// turn. With one of three providers dead or hung, put and commit still
// succeed within a deadline, signed by the other two; brought back, the
// provider catches up by sync. With all three down, commit fails with a
// non-zero status and nothing moves on chain.
func TestProviderFaults(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	hello := writeFile(t, t.TempDir(), "hello.txt", "hello, cairn\n")
	d := n.createDrive(t, "faults", "manual")
	n.put(t, hello, d.ref()+":/before.txt")
	n.cairn(t, "commit", d.ref()).ok(t)
	order := n.providerOrder(t, d)

	for i, p := range perturbations {
		ok := t.Run(p.name, func(t *testing.T) {
			vi := p.victim(order)
			victim := n.m.Providers[vi]
			p.apply(t, n, vi)
			if st := n.providerStatus(t); st[victim.Name] != "unreachable" {
				t.Errorf("provider ls --json while %s is perturbed: %v, want it unreachable", victim.Name, st)
			}

			op := decode[opJSON](t, n.cairnWithin(t, faultDeadline, "put", hello, fmt.Sprintf("%s:/after-%d.txt", d.ref(), i), "--json").ok(t))
			res := decode[resultJSON](t, n.cairnWithin(t, faultDeadline, "commit", d.ref(), "--json").ok(t))
			if res.Kind != "submitted" || res.DriveRoot != op.RootCID || len(res.Signers) != 2 || slices.Contains(res.Signers, victim.Account) {
				t.Fatalf("commit with %s %s: %+v, want submitted with root %s signed by the 2 others", victim.Name, p.name, res, op.RootCID)
			}
			if info := n.driveInfo(t, d.ref()); info.RootCID != op.RootCID {
				t.Fatalf("drive info: root_cid %q, want %s", info.RootCID, op.RootCID)
			}
			// Reading back: three blobs (root directory, manifest, chunk).
			// A fresh client tries the providers in order, and must not
			// wait the whole read timeout for every blob on a hung one.
			if r := n.cairnWithin(t, faultDeadline, "get", fmt.Sprintf("%s:/after-%d.txt", d.ref(), i), "-").ok(t); r.stdout != "hello, cairn\n" {
				t.Fatalf("get with %s %s: %q", victim.Name, p.name, r.stdout)
			}

			p.heal(t, n, vi)
			eventually(t, 90*time.Second, victim.Name+" catching up after "+p.name, func() error {
				counts := n.leafCounts(t, d.Bucket)
				for j, c := range counts {
					if c != res.LeafCount {
						return fmt.Errorf("leaf counts %v (%s has %d), want all at %d", counts, n.m.Providers[j].Name, c, res.LeafCount)
					}
				}
				return nil
			})
			if st := n.providerStatus(t); st[victim.Name] != "ok" {
				t.Errorf("provider ls --json after healing %s: %v, want it ok", victim.Name, st)
			}
		})
		if !ok && i < len(perturbations)-1 {
			t.FailNow() // the next perturbation assumes this one healed
		}
	}

	t.Run("all providers down", func(t *testing.T) {
		before := n.driveInfo(t, d.ref())
		for i := range n.m.Providers {
			killProvider(t, n, i)
		}
		n.cairnWithin(t, faultDeadline, "put", hello, d.ref()+":/nowhere.txt").exit(t, 5, 7)
		r := n.cairnWithin(t, faultDeadline, "commit", d.ref(), "--json").exit(t, 5, 7)
		if res := decode[resultJSON](t, r); res.Kind == "submitted" || len(res.Unreachable) != 3 {
			t.Errorf("commit --json with every provider down: %+v, want 3 unreachable and no submission", res)
		}
		if after := n.driveInfo(t, d.ref()); after.RootCID != before.RootCID || after.LastCommittedHeight != before.LastCommittedHeight {
			t.Errorf("drive moved with every provider down: %+v -> %+v", before, after)
		}
	})
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

// killProvider sends SIGKILL to provider i (the pid in devnet.json, or
// the process restartProvider started) and waits until it is gone.
func killProvider(t *testing.T, n *network, i int) {
	t.Helper()
	if b := n.restarted[i]; b != nil {
		b.cmd.Process.Kill()
		<-b.done
		delete(n.restarted, i)
		return
	}
	pid := n.m.Providers[i].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d (%s): %v", pid, n.m.Providers[i].Name, err)
	}
	eventually(t, 10*time.Second, "provider process exiting after kill -9", func() error {
		// cairn dev reaps its child; until then the pid exists.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pid %d still exists", pid)
		}
		return nil
	})
}

// restartProvider runs the exact command devnet.json gives for provider
// i and waits for its ready line.
func restartProvider(t *testing.T, n *network, i int) {
	t.Helper()
	p := n.m.Providers[i]
	b := startCommandFor(t, n.t, p.Command) // it serves the next subtests too
	timeout := time.After(readyTimeout)
	for {
		select {
		case line := <-b.lines:
			if strings.HasPrefix(line, "provider ready ") {
				if !strings.Contains(line, "url="+p.URL+" ") || !strings.Contains(line, "account="+p.Account) {
					t.Fatalf("restarted %s: %q, want url=%s account=%s", p.Name, line, p.URL, p.Account)
				}
				if n.restarted == nil {
					n.restarted = map[int]*background{}
				}
				n.restarted[i] = b
				return
			}
		case <-b.done:
			t.Fatalf("restarted %s exited (%v):\n%s", p.Name, b.cmd.ProcessState, b.log.String())
		case <-timeout:
			t.Fatalf("restarted %s not ready within %s:\n%s", p.Name, readyTimeout, b.log.String())
		}
	}
}

func stopProvider(t *testing.T, n *network, i int) {
	t.Helper()
	pid := n.m.Providers[i].PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP %d: %v", pid, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
}

func continueProvider(t *testing.T, n *network, i int) {
	t.Helper()
	pid := n.m.Providers[i].PID
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT %d: %v", pid, err)
	}
}
