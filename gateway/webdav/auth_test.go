package webdav

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBasicAuth(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "in") })
	h := BasicAuth(ok, "cairn", "me", "secret")
	for _, tc := range []struct {
		name       string
		user, pass string
		set        bool
		want       int
	}{
		{"right", "me", "secret", true, http.StatusOK},
		{"none", "", "", false, http.StatusUnauthorized},
		{"wrong password", "me", "Secret", true, http.StatusUnauthorized},
		{"wrong user", "you", "secret", true, http.StatusUnauthorized},
		{"prefix of the password", "me", "secre", true, http.StatusUnauthorized},
		{"empty", "", "", true, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/dav/x/", nil)
			if tc.set {
				r.SetBasicAuth(tc.user, tc.pass)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Basic realm="cairn"`) {
				t.Fatalf("no challenge: %q", w.Header())
			}
		})
	}
}

// TestProgressDeadlines: a body that stops moving is cut off at the
// deadline; the handler's read fails instead of waiting for ever.
func TestProgressDeadlines(t *testing.T) {
	readErr := make(chan error, 1)
	h := ProgressDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), 200*time.Millisecond, time.Second)
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some")
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("stalled body read ended with %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a stalled body was not cut off")
	}
}
