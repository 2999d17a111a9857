package checkpoint

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// EventKind names what happened.
type EventKind int

const (
	EventSubmitted         EventKind = iota + 1 // a checkpoint landed
	EventFailed                                 // an attempt failed; WillRetry says whether the loop retries
	EventConflict                               // providers disagreed
	EventPaused                                 // the loop paused (Reason says why)
	EventResumed                                // the loop resumed
	EventChallengeOpened                        // the manager challenged a provider
	EventChallengeResolved                      // an expired challenge was resolved (slash)
	EventAuditPassed                            // a random audit passed
	EventAuditFailed                            // a random audit failed
	EventEquivocation                           // a writer signed two leaves at one seq (Leaf is the seq); reported on chain
)

func (k EventKind) String() string {
	switch k {
	case EventSubmitted:
		return "checkpoint.submitted"
	case EventFailed:
		return "checkpoint.failed"
	case EventConflict:
		return "checkpoint.conflict"
	case EventPaused:
		return "loop.paused"
	case EventResumed:
		return "loop.resumed"
	case EventChallengeOpened:
		return "challenge.opened"
	case EventChallengeResolved:
		return "challenge.resolved"
	case EventAuditPassed:
		return "audit.passed"
	case EventAuditFailed:
		return "audit.failed"
	case EventEquivocation:
		return "equivocation.reported"
	}
	return "unknown"
}

// MarshalText gives the wire name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the wire name.
func (k *EventKind) UnmarshalText(b []byte) error {
	for c := EventSubmitted; c <= EventEquivocation; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown EventKind %q", b)
}

// Event is one thing the manager did or saw.
type Event struct {
	Kind      EventKind         `json:"kind"`
	Bucket    core.BucketID     `json:"bucket"`
	Time      time.Time         `json:"time"`
	Result    *Result           `json:"result,omitempty"`
	Conflict  *ProviderConflict `json:"conflict,omitempty"`
	WillRetry bool              `json:"will_retry,omitempty"`
	Provider  core.AccountID    `json:"provider,omitempty"`
	Challenge core.ChallengeID  `json:"challenge,omitempty"`
	Leaf      uint64            `json:"leaf,omitempty"`
	Reason    string            `json:"reason,omitempty"`
}

// MarshalJSON leaves out the provider when the event has none.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	out := struct {
		plain
		Provider *core.AccountID `json:"provider,omitempty"`
	}{plain: plain(e)}
	if !e.Provider.IsZero() {
		out.Provider = &e.Provider
	}
	return json.Marshal(out)
}

// Callbacks are the reference's callbacks. They run on the goroutine that
// emits the event and must not block.
type Callbacks struct {
	OnSubmitted func(Event)
	OnFailed    func(Event)
	OnConflict  func(Event)
	// OnEvent sees every event.
	OnEvent func(Event)
}

// hub fans events out to callbacks and subscribers. A slow subscriber loses
// events (counted) rather than stalling the manager.
type hub struct {
	mu      sync.Mutex
	cb      Callbacks
	subs    map[int]chan Event
	next    int
	dropped uint64
}

func (h *hub) emit(e Event) {
	h.mu.Lock()
	cb := h.cb
	for _, ch := range h.subs {
		select {
		case ch <- e:
		default:
			h.dropped++
		}
	}
	h.mu.Unlock()
	switch e.Kind {
	case EventSubmitted:
		call(cb.OnSubmitted, e)
	case EventFailed:
		call(cb.OnFailed, e)
	case EventConflict:
		call(cb.OnConflict, e)
	}
	call(cb.OnEvent, e)
}

func call(f func(Event), e Event) {
	if f != nil {
		f(e)
	}
}

// Subscribe returns a channel of events with the given buffer and a
// function that ends the subscription (and closes the channel).
func (m *Manager) Subscribe(buffer int) (<-chan Event, func()) {
	h := &m.events
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]chan Event{}
	}
	id := h.next
	h.next++
	ch := make(chan Event, buffer)
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, id)
			h.mu.Unlock()
			close(ch)
		})
	}
}

// DroppedEvents counts events a full subscriber channel did not take.
func (m *Manager) DroppedEvents() uint64 {
	m.events.mu.Lock()
	defer m.events.mu.Unlock()
	return m.events.dropped
}
