package chainclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cairn-storage/cairn/backoff"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// SubscribeBlocks sends the height of each new committed block. It follows
// the node's websocket and, when the node goes away, reconnects (and polls
// its height meanwhile), so it survives node restarts. Heights never go
// backwards but may skip (after a reconnect, or if the receiver is slow:
// the channel holds 16). The channel closes when ctx ends or the client
// closes.
func (c *Client) SubscribeBlocks(ctx context.Context) (<-chan int64, error) {
	out := make(chan int64, 16)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		var last int64
		c.followHeights(ctx, func(h int64) {
			if h <= last {
				return
			}
			last = h
			select {
			case out <- h:
			default: // receiver is behind: it will see a later height
			}
		})
	}()
	return out, nil
}

// SubscribeEvents sends the chain's events of the given type ("" for all)
// from each new block, with their height and transaction hash. It reads
// each block's results, catching up over any heights the websocket
// skipped, so it survives node restarts; still, treat the events as hints:
// if the receiver falls behind by more than the channel's 1024 events,
// events are dropped. The channel closes when ctx ends or the client
// closes.
func (c *Client) SubscribeEvents(ctx context.Context, eventType string) (<-chan wire.Event, error) {
	start, err := c.Height(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan wire.Event, 1024)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		last := start
		c.followHeights(ctx, func(h int64) {
			// Catch up at most 1000 blocks; older events are gone for us.
			if h-last > 1000 {
				last = h - 1000
			}
			for next := last + 1; next <= h; next++ {
				evs, err := c.blockEvents(ctx, next)
				if err != nil {
					c.log.Debug("events of block", "height", next, "err", err)
					return // try again at the next height
				}
				last = next
				for _, e := range evs {
					if eventType != "" && e.Type != eventType {
						continue
					}
					select {
					case out <- e:
					default:
						c.log.Debug("event dropped: receiver behind", "type", e.Type, "height", e.Height)
					}
				}
			}
		})
	}()
	return out, nil
}

// BlockEvents returns the events of the block at height h: its
// transactions' events (of successful and failed transactions alike, in
// order) and then the block-level events.
func (c *Client) BlockEvents(ctx context.Context, h int64) ([]wire.Event, error) {
	return c.blockEvents(ctx, h)
}

func (c *Client) blockEvents(ctx context.Context, h int64) ([]wire.Event, error) {
	const op = "chainclient.BlockEvents"
	b, r, err := c.blockAndResults(ctx, h, true)
	if err != nil {
		return nil, unavailable(op, err)
	}
	var out []wire.Event
	for i, res := range r.TxsResults {
		var hash core.H256
		if i < len(b.Block.Txs) {
			hash = wire.TxHash(b.Block.Txs[i])
		}
		out = append(out, convertEvents(res.Events, h, hash)...)
	}
	out = append(out, convertEvents(r.FinalizeBlockEvents, h, core.H256{})...)
	return out, nil
}

// followHeights calls emit with new block heights until ctx ends or the
// client closes: from the websocket while it is up, else by polling.
func (c *Client) followHeights(ctx context.Context, emit func(int64)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Resubscribe after 50 ms, doubling to 1 s; a subscription that lived
	// 5 s starts the back-off over.
	delays := backoff.Policy{Initial: 50 * time.Millisecond, Max: time.Second}
	retry := 0
	for ctx.Err() == nil {
		up := time.Now()
		err := c.wsHeights(ctx, emit)
		if ctx.Err() != nil {
			return
		}
		c.log.Debug("block subscription lost; reconnecting", "err", err)
		if time.Since(up) > 5*time.Second {
			retry = 0
		}
		retry++
		// Poll while the websocket is down, so heights keep coming from a
		// node that serves HTTP but not our subscription.
		if h, err := c.Height(ctx); err == nil {
			emit(h)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delays.Delay(retry)):
		}
	}
}

// maxWSMessage bounds one websocket message from the node.
const maxWSMessage = 1 << 20

// wsHeights subscribes to new block headers over the node's websocket
// and emits their heights until the connection fails or ctx ends.
func (c *Client) wsHeights(ctx context.Context, emit func(int64)) error {
	wsURL := "ws" + strings.TrimPrefix(c.URL(), "http") + "/websocket"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	// A node (or whatever answers at its address) cannot make the client
	// buffer an endless message: a header event is a few KiB.
	conn.SetReadLimit(maxWSMessage)
	sub := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "subscribe",
		"params": map[string]string{"query": "tm.event='NewBlockHeader'"}}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteJSON(sub); err != nil {
		return err
	}
	// The node pings every few seconds; blocks come far more often.
	const readWait = 30 * time.Second
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(readWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	for {
		conn.SetReadDeadline(time.Now().Add(readWait))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		var m struct {
			Error  *struct{ Message, Data string } `json:"error"`
			Result struct {
				Data struct {
					Value struct {
						Header struct {
							Height string `json:"height"`
						} `json:"header"`
					} `json:"value"`
				} `json:"data"`
			} `json:"result"`
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("subscribe: %s %s", m.Error.Message, m.Error.Data)
		}
		if hs := m.Result.Data.Value.Header.Height; hs != "" {
			if h, err := strconv.ParseInt(hs, 10, 64); err == nil {
				emit(h)
			}
		}
	}
}
