package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	pwire "github.com/cairn-storage/cairn/provider/wire"
)

// EventHello is the first event of every stream: the height the
// dashboard is at, so the page knows the stream is live.
const EventHello = "hello"

// serveEvents streams Events as server-sent events until the client goes,
// falls behind (dropped by the hub) or stops reading (a write deadline),
// or the server closes.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	st, err := s.hub.join()
	if err != nil {
		pwire.WriteError(w, err)
		return
	}
	defer s.hub.leave(st)
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests after
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var height int64
	if snap, ok := s.Snapshot(); ok {
		height = snap.Height
	}
	send := func(e Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)) // not every writer supports it
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if send(Event{Kind: EventHello, Height: height}) != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-st.gone:
			return
		case e := <-st.events:
			if send(e) != nil {
				return
			}
		}
	}
}
