package httpconn_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/internal/httpconn"
)

// server is an http.Server on 127.0.0.1:0 whose connections a Set tracks;
// states reports every transition after the Set has seen it, so tests wait
// on events, not on time.
type server struct {
	addr   string
	srv    *http.Server
	conns  *httpconn.Set
	states chan http.ConnState
}

func start(t *testing.T) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: l.Addr().String(), conns: &httpconn.Set{}, states: make(chan http.ConnState, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
		rw.Flush()
		go io.Copy(c, c) // echo until closed
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: time.Minute, ConnState: func(c net.Conn, st http.ConnState) {
		s.conns.Track(c, st)
		s.states <- st
	}}
	go s.srv.Serve(l)
	t.Cleanup(func() {
		s.srv.Close()
		s.conns.CloseAll()
	})
	return s
}

// waitState waits for the server to report want.
func (s *server) waitState(t *testing.T, want http.ConnState) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-s.states:
			if st == want {
				return
			}
		case <-deadline:
			t.Fatalf("no connection reached state %v", want)
		}
	}
}

func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s.waitState(t, http.StateNew)
	return c
}

// get sends GET path on c and returns the response's status line.
func get(t *testing.T, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if path == "/ok" {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp
}

// closed reports whether the server side of c has been closed: a read
// gets EOF or a reset, not data or a timeout.
func closed(t *testing.T, c net.Conn, br *bufio.Reader) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := br.ReadByte()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("read neither failed nor returned data")
	}
	return err != nil
}

// echoes reports whether a hijacked connection still answers.
func echoes(c net.Conn, br *bufio.Reader) bool {
	if _, err := io.WriteString(c, "x"); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := br.ReadByte()
	return err == nil && b == 'x'
}

func TestCloseNewClosesOnlySilentConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare leaves c in some state and returns a check that the
		// connection still works.
		prepare  func(t *testing.T, s *server, c net.Conn, br *bufio.Reader) func() bool
		wantOpen bool
	}{
		{"silent", func(t *testing.T, s *server, c net.Conn, br *bufio.Reader) func() bool {
			return nil
		}, false},
		{"idle after a request", func(t *testing.T, s *server, c net.Conn, br *bufio.Reader) func() bool {
			get(t, c, br, "/ok")
			s.waitState(t, http.StateIdle)
			return func() bool { return get(t, c, br, "/ok").StatusCode == http.StatusOK }
		}, true},
		{"hijacked", func(t *testing.T, s *server, c net.Conn, br *bufio.Reader) func() bool {
			get(t, c, br, "/hijack")
			s.waitState(t, http.StateHijacked)
			return func() bool { return echoes(c, br) }
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t)
			c := s.dial(t)
			br := bufio.NewReader(c)
			works := tc.prepare(t, s, c, br)
			s.conns.CloseNew()
			if !tc.wantOpen {
				if !closed(t, c, br) {
					t.Fatal("a connection that never sent a request is still open")
				}
				return
			}
			if !works() {
				t.Fatal("CloseNew closed a connection that had sent a request")
			}
		})
	}
}

func TestCloseAllClosesHijackedConnections(t *testing.T) {
	s := start(t)
	c := s.dial(t)
	br := bufio.NewReader(c)
	get(t, c, br, "/hijack")
	s.waitState(t, http.StateHijacked)
	s.srv.Close()
	if !echoes(c, br) {
		t.Fatal("the hijacked connection did not survive http.Server.Close; the test proves nothing")
	}
	s.conns.CloseAll()
	if !closed(t, c, br) {
		t.Fatal("CloseAll left a hijacked connection open")
	}
	if n := s.conns.Len(); n != 0 {
		t.Errorf("Len after CloseAll = %d", n)
	}
}

func TestClosedConnectionsLeaveTheSet(t *testing.T) {
	s := start(t)
	c := s.dial(t)
	br := bufio.NewReader(c)
	get(t, c, br, "/ok")
	s.waitState(t, http.StateIdle)
	if n := s.conns.Len(); n != 1 {
		t.Fatalf("Len with one connection = %d", n)
	}
	c.Close()
	s.waitState(t, http.StateClosed)
	if n := s.conns.Len(); n != 0 {
		t.Errorf("Len after the connection closed = %d", n)
	}
}

func TestZeroSetIsUsable(t *testing.T) {
	var s httpconn.Set
	s.CloseNew()
	s.CloseAll()
	if s.Len() != 0 {
		t.Error("empty set has connections")
	}
}
