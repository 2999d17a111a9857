package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// failingKV fails apply while fail is set.
type failingKV struct {
	*memKV
	fail atomic.Bool
}

func (f *failingKV) apply(b *batch, sync bool) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.memKV.apply(b, sync)
}

func write(seq uint64, data []byte) Write {
	return Write{Leaf: core.SignedLeaf{Leaf: core.Leaf{Seq: seq, ContentHash: core.Sum256(data), Size: uint64(len(data))}}, Data: bytes.NewReader(data), MaxBytes: 1 << 30}
}

// A failed commit leaves neither the leaf nor its MMR nodes behind, in
// storage or in memory: the next append lands at the same seq with the
// root an untroubled log would have.
func TestFailedCommitLeavesNoTrace(t *testing.T) {
	f := &failingKV{memKV: newMemKV()}
	blobs := &memBlobs{}
	d, err := open(f, blobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := d.Append(1, write(uint64(i), []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	f.fail.Store(true)
	_, err = d.Append(1, write(3, []byte("lost")))
	if core.KindOf(err) != core.Internal {
		t.Fatalf("append on a failing disk: %v", err)
	}
	f.fail.Store(false)
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
	d2, err := open(f, blobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := d2.State(1); st.Root != a.Root || st.LeafCount != 4 {
		t.Fatalf("reopened state %+v", st)
	}
}

// Readers prove against a log while its appends fail and the store
// rebuilds the log's MMR: under -race this catches the MMR being replaced
// without the lock readers take.
func TestFailedCommitRacesNoReader(t *testing.T) {
	f := &failingKV{memKV: newMemKV()}
	d, err := open(f, &memBlobs{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := d.Append(1, write(uint64(i), []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := d.RootAt(1, 4)
	f.fail.Store(true)
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			if r, err := d.RootAt(1, 4); err != nil || r != want {
				errs <- fmt.Errorf("root at 4 during failed appends: %s, %v", r, err)
				return
			}
			if _, err := d.Proof(1, 2, 4); err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 200 {
		if _, err := d.Append(1, write(4, []byte("lost"))); core.KindOf(err) != core.Internal {
			t.Errorf("append on a failing disk: %v", err)
			break
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// A store whose MMR nodes disagree with its log state refuses to open.
func TestOpenRefusesTornLog(t *testing.T) {
	kv := newMemKV()
	d, err := open(kv, &memBlobs{}, Options{})
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
	if _, err := open(kv, &memBlobs{}, Options{}); core.KindOf(err) != core.Corrupt {
		t.Fatalf("open with a stray node: %v", err)
	}
	b = batch{}
	b.deleteRange(nodeKey(1, 0), nodeKey(1, 1<<40))
	kv.apply(&b, true)
	if _, err := open(kv, &memBlobs{}, Options{}); core.KindOf(err) != core.Corrupt {
		t.Fatalf("open with missing nodes: %v", err)
	}
}
