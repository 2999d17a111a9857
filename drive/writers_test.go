package drive

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// lockClient is a client with just what the writer lock uses; clients
// built on one dir stand for processes of one client home.
func lockClient(dir string) *Client {
	return &Client{cfg: Config{LockDir: dir}, log: slog.New(slog.DiscardHandler),
		nextSeq: map[core.BucketID]uint64{}, room: map[core.BucketID]uint64{}, writers: map[core.BucketID]chan struct{}{}}
}

func cachedSeq(c *Client, b core.BucketID) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nextSeq[b]
	return n, ok
}

// TestWriterLockSeqHandOff: a client keeps its cached next seq across
// its own changes, and drops it when another process wrote in between or
// a holder died holding the lock.
func TestWriterLockSeqHandOff(t *testing.T) {
	const bucket = core.BucketID(7)
	dir := t.TempDir()
	a, b := lockClient(dir), lockClient(dir)
	ctx := t.Context()
	change := func(c *Client, next uint64) {
		t.Helper()
		l, err := c.lockWriters(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		c.setSeq(bucket, next, 0)
		l.release()
	}
	steps := []struct {
		name string
		do   func()
		keep bool // a still trusts its cached seq when it next locks
	}{
		{"a's own change follows its own", func() { change(a, 10) }, true},
		{"b wrote in between", func() { change(b, 15) }, false},
		{"a writes again after asking anew", func() { change(a, 20) }, true},
		{"a holder died midway", func() {
			l, err := b.lockWriters(ctx, bucket)
			if err != nil {
				t.Fatal(err)
			}
			l.f.Close() // the kernel drops the flock; nothing is written
			<-l.sem
		}, false},
	}
	for _, st := range steps {
		st.do()
		l, err := a.lockWriters(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := cachedSeq(a, bucket)
		if ok != st.keep {
			t.Errorf("%s: a trusts its cached seq: %v, want %v", st.name, ok, st.keep)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "bucket-7.lock")); err != nil || len(b) != 0 {
			t.Errorf("%s: the lock file holds %q while a writes (err %v), want it empty", st.name, b, err)
		}
		if !ok {
			a.setSeq(bucket, 20, 0) // as asking the providers would
		}
		l.release()
	}
}

// TestWriterLockWaits: a second writer, in this process or another,
// waits for the first; one that gives up (its context ends) leaves the
// lock free for the next.
func TestWriterLockWaits(t *testing.T) {
	const bucket = core.BucketID(1)
	dir := t.TempDir()
	tests := []struct {
		name   string
		second *Client
	}{
		{"same process", nil},
		{"another process", lockClient(dir)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := lockClient(dir)
			second := tc.second
			if second == nil {
				second = first
			}
			held, err := first.lockWriters(t.Context(), bucket)
			if err != nil {
				t.Fatal(err)
			}
			// A waiter that gives up returns unavailable.
			ctx, cancel := context.WithCancel(t.Context())
			gaveUp := make(chan error, 1)
			go func() {
				_, err := second.lockWriters(ctx, bucket)
				gaveUp <- err
			}()
			cancel()
			if err := <-gaveUp; core.KindOf(err) != core.Unavailable {
				t.Fatalf("a waiter whose context ended: %v, want kind unavailable", err)
			}
			// A waiter gets the lock once the holder lets go.
			got := make(chan *writerLock, 1)
			go func() {
				l, err := second.lockWriters(t.Context(), bucket)
				if err != nil {
					t.Error(err)
				}
				got <- l
			}()
			select {
			case <-got:
				t.Fatal("a second writer got the lock while the first held it")
			default:
			}
			held.release()
			if l := <-got; l != nil {
				l.release()
			}
		})
	}
}
