package chainclient

import (
	"context"
	"fmt"
	"regexp"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// eventsPerPage and maxEventPages bound one catch-up of SubscribeEventsFor:
// at most 10 000 matching transactions per new range of heights; beyond
// that events are dropped, as a hint may be.
const (
	eventsPerPage = 100
	maxEventPages = 100
)

// filterValue is what an attribute value in a tx_search query may hold:
// account ids, ids, names; never a quote.
var filterValue = regexp.MustCompile(`^[0-9A-Za-z_.:/-]{1,128}$`)

// SubscribeEventsFor is SubscribeEvents for the events of eventType whose
// attribute key equals value (e.g. agreement.created with provider =
// this provider). It asks the node's transaction index (tx_search) for
// the matching transactions of each new range of heights instead of
// reading every block, so a subscriber's cost grows with the events
// addressed to it, not with the chain's traffic. Still a hint: treat it
// as SubscribeEvents.
func (c *Client) SubscribeEventsFor(ctx context.Context, eventType, key, value string) (<-chan wire.Event, error) {
	const op = "chainclient.SubscribeEventsFor"
	if !filterValue.MatchString(eventType) || !filterValue.MatchString(key) || !filterValue.MatchString(value) {
		return nil, core.Errorf(op, core.Invalid, "event filter %s.%s=%q: letters, digits and _.:/- only", eventType, key, value)
	}
	start, err := c.Height(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan wire.Event, 1024)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		// The node indexes a block's transactions just after it announces
		// the block: each search stops a block short of the newest and
		// overlaps the previous one by a block, and seen keeps a
		// transaction found twice from being sent twice.
		top := start
		seen := map[core.H256]int64{}
		c.followHeights(ctx, func(h int64) {
			if h-1 <= top {
				return
			}
			from := max(top-1, start)
			evs, err := c.searchEvents(ctx, eventType, key, value, from, h-1)
			if err != nil {
				c.log.Debug("event search", "from", from+1, "to", h-1, "err", err)
				return // again at the next height
			}
			top = h - 1
			for hash, at := range seen {
				if at <= from {
					delete(seen, hash)
				}
			}
			found := map[core.H256]int64{}
			for _, e := range evs {
				if _, dup := seen[e.TxHash]; dup {
					continue // sent by the previous search
				}
				found[e.TxHash] = e.Height
				select {
				case out <- e:
				default:
					c.log.Debug("event dropped: receiver behind", "type", e.Type, "height", e.Height)
				}
			}
			for hash, at := range found {
				seen[hash] = at
			}
		})
	}()
	return out, nil
}

// searchEvents returns the eventType events with key = value of the
// transactions at heights (from, to], oldest first.
func (c *Client) searchEvents(ctx context.Context, eventType, key, value string, from, to int64) ([]wire.Event, error) {
	q := fmt.Sprintf("%s.%s='%s' AND tx.height>%d AND tx.height<=%d", eventType, key, value, from, to)
	var out []wire.Event
	for page := 1; page <= maxEventPages; page++ {
		var res *ctypes.ResultTxSearch
		err := c.call(ctx, func(ctx context.Context, rpc *cmthttp.HTTP) (err error) {
			p, per := page, eventsPerPage
			res, err = rpc.TxSearch(ctx, q, false, &p, &per, "asc")
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, tx := range res.Txs {
			for _, e := range convertEvents(tx.TxResult.Events, tx.Height, wire.TxHash(tx.Tx)) {
				if e.Type == eventType && e.Attributes[key] == value {
					out = append(out, e)
				}
			}
		}
		if len(res.Txs) < eventsPerPage || page*eventsPerPage >= res.TotalCount {
			break
		}
	}
	return out, nil
}
