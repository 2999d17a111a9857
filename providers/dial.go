package providers

import "sync"

// Dialer returns a client of the provider API at a base URL.
type Dialer[C any] func(baseURL string) (C, error)

// Clients keeps one dialed client per base URL. Each user of the pool
// keeps its own view of a provider's API (the manager's, the drive's), so
// the client type is a parameter.
type Clients[C any] struct {
	dial Dialer[C]
	mu   sync.Mutex
	by   map[string]C
}

// NewClients dials through dial.
func NewClients[C any](dial Dialer[C]) *Clients[C] {
	return &Clients[C]{dial: dial, by: map[string]C{}}
}

// Get returns the client for url, dialing it the first time.
func (cs *Clients[C]) Get(url string) (C, error) {
	cs.mu.Lock()
	c, ok := cs.by[url]
	cs.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := cs.dial(url)
	if err != nil {
		return c, err
	}
	cs.mu.Lock()
	if have, ok := cs.by[url]; ok {
		c = have // another caller dialed it first: keep one
	} else {
		cs.by[url] = c
	}
	cs.mu.Unlock()
	return c, nil
}
