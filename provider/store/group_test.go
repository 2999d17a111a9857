package store

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
	"github.com/cairn-storage/cairn/mmr"
)

// gateKV is a memKV whose applies can be held at a gate and made to fail;
// it counts them.
type gateKV struct {
	*memKV
	gate    chan chan error // while set, each apply takes its outcome from here
	applies chan int        // each apply's op count, as it is applied
}

func newGateKV() *gateKV {
	return &gateKV{memKV: newMemKV(), applies: make(chan int, 100)}
}

func (g *gateKV) apply(b *batch, sync bool) error {
	if g.gate != nil {
		outcome := make(chan error)
		g.gate <- outcome
		if err := <-outcome; err != nil {
			return err
		}
	}
	g.applies <- len(b.ops)
	return g.memKV.apply(b, sync)
}

type appendResult struct {
	a   Appended
	err error
}

func appendAsync(d *db, b core.BucketID, w Write) chan appendResult {
	c := make(chan appendResult, 1)
	go func() {
		a, err := d.Append(b, w)
		c <- appendResult{a, err}
	}()
	return c
}

// staged waits until bucket b has n leaves staged past its committed state.
func waitStaged(t *testing.T, d *db, b core.BucketID, n int) {
	t.Helper()
	l := d.log(b, true)
	poll.True(t, 10*time.Second, "appends staged", func() bool {
		l.wmu.Lock()
		defer l.wmu.Unlock()
		return len(l.staged) == n
	})
}

func notAnswered(t *testing.T, what string, cs ...chan appendResult) {
	t.Helper()
	for i, c := range cs {
		select {
		case r := <-c:
			t.Fatalf("%s: append %d answered before its batch was applied: %+v, %v", what, i, r.a, r.err)
		default:
		}
	}
}

func refRoot(n int) mmr.Hash {
	ref, _ := mmr.New(mmr.NewMemStore())
	for i := range n {
		ref.Append(write(uint64(i), []byte{byte(i)}).Leaf.Bytes())
	}
	r, _ := ref.Root()
	return r
}

// Appends that arrive while a batch is being committed are committed
// together by one batch after it, each answered only then with its own
// leaf index and root; readers see none of them until then. A repeat of
// a staged write waits for the same batch and is answered as existing.
func TestGroupCommit(t *testing.T) {
	kv := newGateKV()
	blobs := &failingBlobs{}
	d, err := open(kv, blobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	<-kv.applies // the format version
	kv.gate = make(chan chan error)
	a0 := appendAsync(d, 1, write(0, []byte{0}))
	first := <-kv.gate // a0 leads and is applying its batch
	waitStaged(t, d, 1, 1)
	a1 := appendAsync(d, 1, write(1, []byte{1}))
	waitStaged(t, d, 1, 2)
	a2 := appendAsync(d, 1, write(2, []byte{2}))
	waitStaged(t, d, 1, 3)
	again := appendAsync(d, 1, write(2, []byte{2})) // a retry of a staged write
	notAnswered(t, "while the first batch is held", a0, a1, a2)
	if st, _ := d.State(1); st.LeafCount != 0 {
		t.Fatalf("readers see staged leaves: %+v", st)
	}
	first <- nil
	if r := <-a0; r.err != nil || r.a.LeafCount != 1 || r.a.Root != refRoot(1) {
		t.Fatalf("first append: %+v, %v", r.a, r.err)
	}
	second := <-kv.gate // the group of a1 and a2, led by a1
	notAnswered(t, "while the second batch is held", a1, a2, again)
	second <- nil
	for i, c := range []chan appendResult{a1, a2} {
		r := <-c
		if r.err != nil || r.a.LeafIndex != uint64(i+1) || r.a.Existing || r.a.Root != refRoot(i+2) {
			t.Fatalf("append %d: %+v, %v", i+1, r.a, r.err)
		}
	}
	if r := <-again; r.err != nil || !r.a.Existing || r.a.LeafIndex != 2 || r.a.Root != refRoot(3) {
		t.Fatalf("retry of a staged write: %+v, %v", r.a, r.err)
	}
	if n := len(kv.applies); n != 2 {
		t.Fatalf("%d batches for 3 appends, want 2 (one, then a group of two)", n)
	}
	if blobs.syncs != 2 {
		t.Fatalf("%d blob syncs for two batches, want 2", blobs.syncs)
	}
	if st, _ := d.State(1); st.LeafCount != 3 || st.Root != refRoot(3) {
		t.Fatalf("state %+v", st)
	}
	// Alone, an append commits at once in its own batch.
	kv.gate = nil
	if a, err := d.Append(1, write(3, []byte{3})); err != nil || a.Root != refRoot(4) {
		t.Fatalf("lone append: %+v, %v", a, err)
	}
}

// A batch that fails fails the group staged on top of it too, and the log
// is as if neither had been tried: staged nonces are free again and the
// seqs land later with the roots an untroubled log would have.
func TestGroupCommitFailure(t *testing.T) {
	kv := newGateKV()
	d, err := open(kv, &memBlobs{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	<-kv.applies // the format version
	kv.gate = make(chan chan error)
	a0 := appendAsync(d, 1, write(0, []byte{0}))
	first := <-kv.gate
	waitStaged(t, d, 1, 1)
	w1 := write(1, []byte{1})
	w1.Nonce = &Nonce{Writer: core.AccountID{1}, Value: [16]byte{1}, Expiry: 1 << 40}
	a1 := appendAsync(d, 1, w1)
	waitStaged(t, d, 1, 2)
	first <- errors.New("disk full")
	for i, c := range []chan appendResult{a0, a1} {
		if r := <-c; core.KindOf(r.err) != core.Internal {
			t.Fatalf("append %d after its batch failed: %+v, %v", i, r.a, r.err)
		}
	}
	if st, _ := d.State(1); st.LeafCount != 0 {
		t.Fatalf("state after a failed group %+v", st)
	}
	kv.gate = nil
	for i := range 2 {
		w := write(uint64(i), []byte{byte(i)})
		w.Nonce = w1.Nonce
		if i == 0 {
			w.Nonce = nil
		}
		a, err := d.Append(1, w)
		if err != nil || a.Root != refRoot(i+1) {
			t.Fatalf("append %d after the failure: %+v, %v", i, a, err)
		}
	}
	b, err := d.OpenBlob(1, core.Sum256([]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := io.ReadAll(b); err != nil || !bytes.Equal(got, []byte{1}) {
		t.Fatalf("blob after the failure reads %x, %v", got, err)
	}
}
