package store

import (
	"fmt"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
)

// Group commit. Appends to one bucket are staged one at a time under the
// bucket's write lock (append.go) into its open group; the group's first
// writer commits it - one blob sync, then one synced batch - and every
// writer of the group is answered once that batch is durable, or fails
// with it. While a group commits, new appends stage into the next group,
// whose first writer waits for its turn: groups commit one at a time, in
// seq order. A lone writer commits alone at once, so no append waits for
// company; a group forms from the appends that arrive while the one
// before it is being synced.
//
// A group that fails takes the open group with it (its leaves were staged
// on top), and the log falls back to its committed state.

// group is appends staged together, committed by one batch.
type group struct {
	bt        batch
	leaves    int      // leaves staged in the group
	nodeEnd   uint64   // the MMR's size after the group's last leaf
	ns        State    // the log's state after the group's last leaf
	syncBlobs bool     // the group wrote blob bytes: sync them before the batch
	nonces    []string // nonce keys staged in the group
	blobs     []core.H256

	lead chan struct{} // closed when the group's first writer is to commit it
	done chan struct{} // closed once the group committed (err nil) or failed
	err  error
}

func newGroup() *group {
	return &group{lead: make(chan struct{}), done: make(chan struct{})}
}

// stagedLeaf is a leaf past the committed state, in the group that will
// commit it, with the root just after it.
type stagedLeaf struct {
	leaf core.Leaf
	root mmr.Hash
	g    *group
}

// tentative is the log's state after its staged leaves. Called under wmu.
func (l *bucketLog) tentative() State {
	if len(l.staged) == 0 {
		return l.committed()
	}
	return l.tent
}

// lead commits g, of which the caller is the first writer; now says it may
// start at once, else it waits for the group before to hand over (or to
// fail, taking g with it).
func (d *db) lead(l *bucketLog, g *group, now bool) {
	if !now {
		select {
		case <-g.lead:
		case <-g.done:
			return
		}
	}
	l.wmu.Lock()
	if l.open == g {
		l.open = nil // later appends start the next group
	}
	l.wmu.Unlock()
	var err error
	if g.syncBlobs {
		err = d.blobs.sync()
	}
	if err == nil {
		err = d.kv.apply(&g.bt, !d.opts.NoSync)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err != nil {
		d.fail(l, g, core.E("store.Append", core.Internal, err))
		return
	}
	l.nodes.commitTo(g.nodeEnd)
	l.mu.Lock()
	l.state = g.ns
	l.mu.Unlock()
	l.staged = l.staged[g.leaves:]
	l.unstage(g)
	close(g.done)
	if next := l.open; next != nil {
		close(next.lead)
	} else {
		l.busy = false
	}
}

// fail answers g, and the open group staged on top of it, with err, and
// puts the log back to its committed state: nothing of theirs was indexed
// (blob bytes they wrote stay unindexed in their segment). The staged MMR
// nodes are forgotten and the MMR's peaks rebuilt from what is stored;
// readers use the MMR without the write lock, so the rebuilt one is
// swapped in under l.mu. A log that cannot be rebuilt refuses further
// appends (l.err). Called under wmu.
func (d *db) fail(l *bucketLog, g *group, err error) {
	for _, h := range []*group{g, l.open} {
		if h != nil {
			h.err = err
			l.unstage(h)
			close(h.done)
		}
	}
	l.open, l.staged, l.busy = nil, nil, false
	l.wake()
	l.nodes.discard()
	if m, rerr := mmr.New(l.nodes); rerr != nil {
		l.err = fmt.Errorf("reopening the log after a failed commit: %w", rerr)
	} else {
		l.mu.Lock()
		l.mmr = m
		l.mu.Unlock()
	}
}

// unstage forgets g's nonces and blobs as staged: they are committed now,
// or were never written. Called under wmu.
func (l *bucketLog) unstage(g *group) {
	for _, k := range g.nonces {
		delete(l.stagedNonces, k)
	}
	for _, h := range g.blobs {
		if l.stagedBlobs[h]--; l.stagedBlobs[h] <= 0 {
			delete(l.stagedBlobs, h)
		}
	}
}
