package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// Parallel writers. A bucket's log takes each write at the next free seq,
// and a change rewrites the drive's directories from the root the client
// last recorded, so two writers of one drive must not interleave: they
// would name the same seqs (a conflict at the providers) or build two
// roots of which the later loses the other's files.
//
// On one machine they take turns. A change holds the bucket's writer lock
// from reading the tree to recording the new pending root (and, for an
// Immediate drive, its checkpoint): in this process a semaphore per bucket,
// across processes an flock on LockDir/bucket-ID.lock (released by the
// kernel if the process dies). Under the lock the root is read fresh (the
// pending root from the Checkpoint Manager's state file, which other
// processes update, then the chain), and the seq this client cached is used
// only if the lock file says no other writer has written since: the holder
// empties the file while it writes and leaves its next seq in it when it
// is done, so a writer that died midway, or another process's change,
// makes the next holder ask the providers again.
//
// On different machines nothing is shared: the rule is one machine
// writing a drive at a time. A writer that loses a race for a seq gets a
// conflict from the providers that took the other write, and the change
// fails with kind conflict (never no_quorum), naming the rule.

// writerLock is a held bucket writer lock.
type writerLock struct {
	c      *Client
	bucket core.BucketID
	sem    chan struct{}
	f      *os.File // nil without a LockDir
}

// lockWriters takes the bucket's writer lock, waiting for other writers
// in this process and on this machine, or until ctx ends.
func (c *Client) lockWriters(ctx context.Context, bucket core.BucketID) (*writerLock, error) {
	const op = "drive.lock"
	c.mu.Lock()
	sem := c.writers[bucket]
	if sem == nil {
		sem = make(chan struct{}, 1)
		c.writers[bucket] = sem
	}
	c.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, core.E(op, core.Unavailable, ctx.Err())
	}
	l := &writerLock{c: c, bucket: bucket, sem: sem}
	if c.cfg.LockDir == "" {
		return l, nil
	}
	f, err := flockFile(ctx, filepath.Join(c.cfg.LockDir, fmt.Sprintf("bucket-%d.lock", bucket)))
	if err != nil {
		<-sem
		return nil, core.E(op, core.KindOf(err), err)
	}
	l.f = f
	if err := l.adopt(); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

// adopt keeps the cached next seq only if the lock file names it (no one
// else wrote since this client did), then empties the file: a holder that
// dies from here on leaves it empty.
func (l *writerLock) adopt() error {
	const op = "drive.lock"
	buf := make([]byte, 64)
	n, err := l.f.ReadAt(buf, 0)
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		return core.E(op, core.Internal, err)
	}
	l.c.mu.Lock()
	cached, ok := l.c.nextSeq[l.bucket]
	l.c.mu.Unlock()
	if last, perr := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 10, 64); !ok || perr != nil || last != cached {
		l.c.forgetSeq(l.bucket)
	}
	if err := l.f.Truncate(0); err != nil {
		return core.E(op, core.Internal, err)
	}
	return nil
}

// release leaves this client's next seq in the lock file (nothing when it
// does not know it) and lets the next writer in.
func (l *writerLock) release() {
	if l.f != nil {
		l.c.mu.Lock()
		next, ok := l.c.nextSeq[l.bucket]
		l.c.mu.Unlock()
		if ok {
			if _, err := l.f.WriteAt([]byte(strconv.FormatUint(next, 10)+"\n"), 0); err != nil {
				l.c.log.Warn("writer lock: cannot record the next seq", "bucket", l.bucket, "err", err)
			}
		}
		l.f.Close() // releases the flock
		l.f = nil
	}
	<-l.sem
}

// flockFile opens path (creating it and its directory) and takes an
// exclusive flock on it, waiting until ctx ends. Closing the file
// releases the lock.
func flockFile(ctx context.Context, path string) (*os.File, error) {
	const op = "drive.lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, core.E(op, core.Internal, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, core.E(op, core.Internal, err)
	}
	// Another process writes: wait for it in a goroutine, so ctx can end
	// the wait. A wait given up on closes the file (dropping the lock if
	// it came) as soon as the flock returns, which the other writer's
	// release bounds.
	var mu sync.Mutex
	abandoned := false
	got := make(chan error, 1)
	go func() {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			f.Close()
			return
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, core.E(op, core.Internal, err)
		}
		return f, nil
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-got: // it came meanwhile (or failed): give it back
			f.Close()
		default:
			abandoned = true
		}
		return nil, core.E(op, core.Unavailable, fmt.Errorf("waiting for another writer of this drive: %w", ctx.Err()))
	}
}

// freshDrive re-reads, under the writer lock, the root a change must start
// from: the pending root first (another process may have recorded one),
// then the chain (a checkpoint clears the pending root only after the
// chain names it, so reading in this order never misses both). The
// returned drive's RootCID is that root.
func (c *Client) freshDrive(ctx context.Context, d wire.Drive) (wire.Drive, error) {
	pr, pending := c.cp.PendingRootOf(d.Bucket)
	fresh, err := c.chain.Drive(ctx, d.ID)
	if err != nil {
		return d, core.E("drive.change", core.KindOf(err), err)
	}
	if pending && pr.Drive == d.ID {
		fresh.RootCID = pr.RootCID
	}
	return fresh, nil
}

// lostRace turns a write that failed short of quorum because providers
// hold another write at its seqs into the conflict it is: another writer
// of the bucket, on another machine (or another client home), wrote at
// the same time.
func lostRace(op string, bucket core.BucketID, err error) error {
	if !isLostRace(err) {
		return err
	}
	return core.E(op, core.Conflict, fmt.Errorf("another writer wrote to bucket %s at the same sequence numbers; "+
		"one drive takes writes from one machine at a time (writers on one machine take turns): retry once it is done: %w", bucket, err))
}

// isLostRace reports whether err is a write short of quorum because
// providers hold other writes at its seqs.
func isLostRace(err error) bool {
	return core.KindOf(err) == core.NoQuorum && errors.Is(err, core.Conflict)
}
