package ui

import (
	"sync"

	"github.com/cairn-storage/cairn/core"
)

// hub fans events out to the open /api/events streams. It holds at most
// max streams; a stream whose buffer is full is dropped (its gone channel
// closes) rather than slowing the others or the refresh.
type hub struct {
	mu      sync.Mutex
	max     int
	buffer  int
	clients map[*stream]struct{}
	dropped uint64
}

// stream is one open /api/events stream.
type stream struct {
	events chan Event
	gone   chan struct{} // closed when the hub drops the stream
}

func newHub(max, buffer int) *hub {
	return &hub{max: max, buffer: buffer, clients: map[*stream]struct{}{}}
}

// join opens a stream, or refuses with Unavailable when max are open.
func (h *hub) join() (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= h.max {
		return nil, core.Errorf("ui.events", core.Unavailable, "%d event streams are open already; try again later", h.max)
	}
	s := &stream{events: make(chan Event, h.buffer), gone: make(chan struct{})}
	h.clients[s] = struct{}{}
	return s, nil
}

// leave closes a stream (idempotent).
func (h *hub) leave(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remove(s)
}

func (h *hub) remove(s *stream) {
	if _, ok := h.clients[s]; ok {
		delete(h.clients, s)
		close(s.gone)
	}
}

// publish sends e to every stream without blocking; a stream that cannot
// take it is dropped.
func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.clients {
		select {
		case s.events <- e:
		default:
			h.remove(s)
			h.dropped++
		}
	}
}

// counts returns the open streams and how many were dropped.
func (h *hub) counts() (open int, dropped uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients), h.dropped
}
