package httpconn

import (
	"net"
	"net/http"
	"sync"
)

// Set tracks a server's open connections and their last state. The zero
// value is ready to use; it is safe for concurrent use.
//
// A connection leaves the set when the server reports it closed. Hijacked
// connections stay until CloseAll, because the server no longer reports on
// them.
type Set struct {
	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
}

// Track records conn's new state. Install it as http.Server.ConnState.
func (s *Set) Track(conn net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateClosed {
		delete(s.conns, conn)
		return
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]http.ConnState)
	}
	s.conns[conn] = state
}

// CloseNew closes the connections that have not sent a request yet, which
// would otherwise hold http.Server.Shutdown until they time out. Idle
// keep-alive connections and requests in flight are left to Shutdown.
func (s *Set) CloseNew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, st := range s.conns {
		if st == http.StateNew {
			c.Close()
			delete(s.conns, c)
		}
	}
}

// CloseAll closes every tracked connection, hijacked ones included, and
// empties the set. Call it after http.Server.Close, which closes the rest
// but not those.
func (s *Set) CloseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// Len is the number of connections tracked.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
