package store

import (
	"errors"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/poll"
)

// waitHeld waits until an append to bucket b is held for its predecessors.
func waitHeld(t *testing.T, d *db, b core.BucketID) {
	t.Helper()
	l := d.log(b, true)
	poll.True(t, 10*time.Second, "an append held", func() bool {
		l.wmu.Lock()
		defer l.wmu.Unlock()
		return l.moved != nil
	})
}

// Writes that arrive before their predecessors (within HoldAhead) wait
// for them instead of being refused as behind, and land at their seqs;
// one further ahead is refused at once, and one whose predecessor never
// comes is refused as behind once HoldFor has passed. The hold here is a
// minute (the test would time out on it), except in the last case.
func TestEarlyWritesWaitForTheirPredecessors(t *testing.T) {
	t.Run("held, then staged in order", func(t *testing.T) {
		d, err := open(newMemKV(), &memBlobs{}, Options{HoldAhead: 2, HoldFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		a2 := appendAsync(d, 1, write(2, []byte{2}))
		waitHeld(t, d, 1)
		a1 := appendAsync(d, 1, write(1, []byte{1}))
		notAnswered(t, "before seq 0 came", a1, a2)
		if _, err := d.Append(1, write(0, []byte{0})); err != nil {
			t.Fatal(err)
		}
		for i, c := range []chan appendResult{a1, a2} {
			if r := <-c; r.err != nil || r.a.LeafIndex != uint64(i+1) || r.a.Root != refRoot(i+2) {
				t.Fatalf("held append %d: %+v, %v", i+1, r.a, r.err)
			}
		}
	})
	t.Run("too far ahead: refused at once", func(t *testing.T) {
		d, err := open(newMemKV(), &memBlobs{}, Options{HoldAhead: 2, HoldFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Append(1, write(3, []byte{3}))
		var behind *core.BehindError
		if !errors.As(err, &behind) || behind.LeafCount != 0 {
			t.Fatalf("append 3 past an empty log: %v, want behind at 0", err)
		}
	})
	t.Run("no hold", func(t *testing.T) {
		d, err := open(newMemKV(), &memBlobs{}, Options{HoldAhead: -1, HoldFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Append(1, write(1, []byte{1})); !errors.Is(err, core.Conflict) {
			t.Fatalf("append 1 past an empty log, no hold: %v, want conflict", err)
		}
	})
	t.Run("the predecessor never comes", func(t *testing.T) {
		d, err := open(newMemKV(), &memBlobs{}, Options{HoldAhead: 2, HoldFor: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var behind *core.BehindError
		if _, err := d.Append(1, write(1, []byte{1})); !errors.As(err, &behind) || behind.LeafCount != 0 {
			t.Fatalf("append 1 held past HoldFor: %v, want behind at 0", err)
		}
		if st, _ := d.State(1); st.LeafCount != 0 {
			t.Fatalf("a refused held append changed the log: %+v", st)
		}
		if _, err := d.Append(1, write(0, []byte{0})); err != nil {
			t.Fatalf("the seq is still free: %v", err)
		}
	})
}
