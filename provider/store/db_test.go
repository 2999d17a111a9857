package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// failingKV fails apply while fail is set.
type failingKV struct {
	*memKV
	fail bool
}

func (f *failingKV) apply(b *batch, sync bool) error {
	if f.fail {
		return errors.New("disk full")
	}
	return f.memKV.apply(b, sync)
}

func write(seq uint64, data []byte) Write {
	return Write{Leaf: core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))}, Data: bytes.NewReader(data), MaxBytes: 1 << 30}
}

// A failed commit leaves neither the leaf nor its MMR nodes behind, in
// storage or in memory: the next append lands at the same seq with the
// root an untroubled log would have.
func TestFailedCommitLeavesNoTrace(t *testing.T) {
	f := &failingKV{memKV: newMemKV()}
	d, err := open(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := d.Append(1, write(uint64(i), []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	f.fail = true
	_, err = d.Append(1, write(3, []byte("lost")))
	if core.KindOf(err) != core.Internal {
		t.Fatalf("append on a failing disk: %v", err)
	}
	f.fail = false
	a, err := d.Append(1, write(3, []byte{3}))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := mmr.New(mmr.NewMemStore())
	for i := range 4 {
		ref.Append(write(uint64(i), []byte{byte(i)}).Leaf.Bytes())
	}
	if r, _ := ref.Root(); a.Root != r || a.LeafIndex != 3 {
		t.Fatalf("after a failed commit: %+v, want root %s", a, r)
	}
	// Reopening the same storage agrees.
	d2, err := open(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := d2.State(1); st.Root != a.Root || st.LeafCount != 4 {
		t.Fatalf("reopened state %+v", st)
	}
}

// A store whose MMR nodes disagree with its log state refuses to open.
func TestOpenRefusesTornLog(t *testing.T) {
	kv := newMemKV()
	d, err := open(kv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := d.Append(1, write(uint64(i), []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	var b batch
	b.set(nodeKey(1, mmr.SizeOfLeafCount(4)), make([]byte, 32))
	kv.apply(&b, true)
	if _, err := open(kv, Options{}); core.KindOf(err) != core.Corrupt {
		t.Fatalf("open with a stray node: %v", err)
	}
	b = batch{}
	b.deleteRange(nodeKey(1, 0), nodeKey(1, 1<<40))
	kv.apply(&b, true)
	if _, err := open(kv, Options{}); core.KindOf(err) != core.Corrupt {
		t.Fatalf("open with missing nodes: %v", err)
	}
}
