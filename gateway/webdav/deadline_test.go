package webdav

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProgressDeadlinesLongHandler: a handler that works three times the
// deadlines after its body is read (or with no body) keeps its context,
// and the client gets its answer, header only or with a body.
func TestProgressDeadlinesLongHandler(t *testing.T) {
	const d = 100 * time.Millisecond
	for _, tc := range []struct {
		name, method, body string
		writeBody          bool
	}{
		{"a PUT answered with a header only", "PUT", "some bytes", false},
		{"a GET answered with a header only", "GET", "", false},
		{"a POST answered with a body", "POST", "<xml/>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxErr := make(chan error, 1)
			h := ProgressDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err != nil {
					t.Errorf("reading the body: %v", err)
				}
				// The work itself lasts past both deadlines: that
				// duration is what is tested, not a wait for an event.
				select {
				case <-r.Context().Done():
				case <-time.After(3 * d):
				}
				ctxErr <- r.Context().Err()
				w.WriteHeader(http.StatusCreated)
				if tc.writeBody {
					io.WriteString(w, "done")
				}
			}), d, d)
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequestWithContext(context.Background(), tc.method, srv.URL, strings.NewReader(tc.body))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("the client got no answer: %v", err)
			}
			res.Body.Close()
			if err := <-ctxErr; err != nil {
				t.Errorf("the handler's context ended while it worked: %v", err)
			}
			if res.StatusCode != http.StatusCreated {
				t.Errorf("status %d, want 201", res.StatusCode)
			}
		})
	}
}
