package chainclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A websocket message beyond maxWSMessage ends the subscription with an
// error instead of being buffered; a small one is read.
func TestWSReadLimit(t *testing.T) {
	for _, c := range []struct {
		name    string
		size    int
		wantErr error
	}{
		{"small header", 0, nil},
		{"oversized message", maxWSMessage + 1, websocket.ErrReadLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := websocket.Upgrader{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer conn.Close()
				var sub map[string]any
				if err := conn.ReadJSON(&sub); err != nil {
					return
				}
				msg := `{"result":{"data":{"value":{"header":{"height":"7"}}}},"pad":"` + strings.Repeat("x", c.size) + `"}`
				conn.WriteMessage(websocket.TextMessage, []byte(msg))
				// Hold the connection until the client goes.
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				conn.ReadMessage()
			}))
			defer srv.Close()
			cl := &Client{eps: &endpoints{list: []endpoint{{url: srv.URL}}}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got []int64
			err := cl.wsHeights(ctx, func(h int64) {
				got = append(got, h)
				cancel()
			})
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || len(got) != 0 {
					t.Fatalf("err %v, heights %v; want %v and none", err, got, c.wantErr)
				}
				return
			}
			if len(got) != 1 || got[0] != 7 {
				t.Fatalf("heights %v (err %v), want [7]", got, err)
			}
		})
	}
}
