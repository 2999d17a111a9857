package store

import (
	"errors"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// Holding early writes. A client that keeps several writes to a bucket in
// flight sends them in seq order, but they may reach the store out of
// order: the write for seq n+1 can arrive while the one for n is still
// being read. Refused as behind, it would have to be sent again; so a
// write at most Options.HoldAhead past the log's next seq (staged leaves
// counted) waits, up to Options.HoldFor, for the writes before it to be
// staged, then joins the open group, and the writes in flight commit
// together (group.go): one blob sync and one synced batch for all of them.
// A write whose predecessors do not come in time is refused as behind, as
// before; nothing of it was staged while it waited.

// stageHeld is stage, holding a write that is a little ahead as above. It
// takes and releases l.wmu, and reports whether the caller is to commit
// g at once (lead; l.busy is then set).
func (d *db) stageHeld(l *bucketLog, w Write) (res Appended, g *group, first, lead bool, err error) {
	var timer *time.Timer
	expired := false
	for {
		l.wmu.Lock()
		res, g, first, err = d.stage(l, w)
		var behind *core.BehindError
		if err == nil || expired || d.opts.HoldAhead < 0 || !errors.As(err, &behind) || w.Leaf.Seq-behind.LeafCount > uint64(d.opts.HoldAhead) {
			lead = first && !l.busy
			if lead {
				l.busy = true
			}
			l.wmu.Unlock()
			return res, g, first, lead, err
		}
		if l.moved == nil {
			l.moved = make(chan struct{})
		}
		moved := l.moved
		l.wmu.Unlock()
		if timer == nil {
			timer = time.NewTimer(d.opts.HoldFor)
			defer timer.Stop()
		}
		select {
		case <-moved:
		case <-timer.C:
			expired = true // one last try
		}
	}
}

// wake tells writes held for their predecessors that the log's next seq
// moved (a leaf was staged, or the staged ones were dropped). Called under
// wmu.
func (l *bucketLog) wake() {
	if l.moved != nil {
		close(l.moved)
		l.moved = nil
	}
}
