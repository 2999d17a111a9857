package e2e

import (
	"strings"
	"testing"
)

// TestChainRefusalKeepsItsKind: a checkpoint the chain itself refuses
// comes out of `cairn commit` with the refusal's own kind and exit status
// (here unauthorized, 4), not as 5 "unavailable, try again", and nothing
// moves on chain. bob is no member of alice's bucket: the providers agree
// on the pending change, so the client builds and submits the checkpoint,
// and the chain refuses the submitter.
func TestChainRefusalKeepsItsKind(t *testing.T) {
	t.Parallel()
	n := startNetwork(t)
	d := n.createDrive(t, "refused", "manual")
	op := n.put(t, writeFile(t, t.TempDir(), "a.txt", "pending until alice commits\n"), d.ref()+":/a.txt")
	before := n.driveInfo(t, d.ref())

	r := n.cairnAs(t, "bob", "commit", d.ref(), "--json").exit(t, 4)
	type refusedJSON struct {
		resultJSON
		Error     string `json:"error"`
		ErrorKind string `json:"error_kind"`
	}
	res := decode[refusedJSON](t, r)
	if res.Kind == "submitted" || res.ErrorKind != "unauthorized" || !strings.Contains(res.Error, "not an admin or writer of bucket") {
		t.Fatalf("bob's commit: %+v, want the chain's refusal, kind unauthorized", res)
	}
	if after := n.driveInfo(t, d.ref()); after.RootCID != before.RootCID || after.LastCommittedHeight != before.LastCommittedHeight {
		t.Fatalf("the drive moved on a refused checkpoint: %+v -> %+v", before, after)
	}

	// The owner's commit of the same change still lands.
	ok := decode[resultJSON](t, n.cairn(t, "commit", d.ref(), "--json").ok(t))
	if ok.Kind != "submitted" || ok.DriveRoot != op.RootCID {
		t.Fatalf("alice's commit: %+v, want submitted with root %s", ok, op.RootCID)
	}
}
