//go:build linux

package e2e

import (
	"slices"
	"testing"
)

// TestDevRestart stops `cairn dev` with SIGINT and starts it again on the
// same --data: the chain, the providers and their data come back, so the
// drive is listed, its file reads back, and new writes checkpoint.
func TestDevRestart(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	hello := writeFile(t, t.TempDir(), "hello.txt", "hello, cairn\n")
	d := n.createDrive(t, "keep", "immediate")
	op := n.put(t, hello, "keep:/dir/hello.txt")
	if op.Checkpoint == nil || op.Checkpoint.Kind != "submitted" {
		t.Fatalf("put to an immediate drive: checkpoint %+v", op.Checkpoint)
	}
	before := n.m

	n.Stop(t) // checks exit status 0
	if t.Failed() {
		t.FailNow()
	}
	n.Start(t, true) // the same directory; the ready manifest as --json this time

	if n.chain != before.ChainRPC {
		t.Errorf("chain RPC moved from %s to %s: clients and providers expect it where it was", before.ChainRPC, n.chain)
	}
	for i, p := range n.m.Providers {
		if b := before.Providers[i]; p.Account != b.Account || p.URL != b.URL {
			t.Errorf("provider %s came back as %s at %s, want %s at %s", p.Name, p.Account, p.URL, b.Account, b.URL)
		}
	}
	ds := decode[[]driveJSON](t, n.cairn(t, "drive", "ls", "--json").ok(t))
	if !slices.ContainsFunc(ds, func(x driveJSON) bool { return x.ID == d.ID && x.Name == "keep" && x.RootCID == op.RootCID }) {
		t.Fatalf("drive ls --json after restart: %+v, want drive %d (keep) at root %s", ds, d.ID, op.RootCID)
	}
	if r := n.cairn(t, "get", "keep:/dir/hello.txt", "-").ok(t); r.stdout != "hello, cairn\n" {
		t.Fatalf("get after restart: %q", r.stdout)
	}
	op2 := n.put(t, hello, "keep:/dir/again.txt")
	if cp := op2.Checkpoint; cp == nil || cp.Kind != "submitted" || cp.DriveRoot != op2.RootCID || len(cp.Signers) < 2 {
		t.Fatalf("put after restart: checkpoint %+v, want submitted with root %s", cp, op2.RootCID)
	}
}
