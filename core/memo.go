package core

import (
	"context"
	"sync"
)

// Memo keeps a value that never changes once known, such as a chain's id:
// the first lookup that succeeds is kept and returned from then on; a
// lookup that fails is not, so the next call asks again. T's zero value
// means "not known": it is never kept.
//
// The zero Memo is empty and ready to use; it is safe for concurrent use.
// No lock is held while looking up, so a slow lookup never blocks a caller
// whose context ends first; callers that arrive together before the value
// is known may each look it up.
type Memo[T comparable] struct {
	mu sync.Mutex
	v  T
}

// Get returns the value, calling lookup to learn it if it is not known yet.
func (m *Memo[T]) Get(ctx context.Context, lookup func(context.Context) (T, error)) (T, error) {
	if v, ok := m.Known(); ok {
		return v, nil
	}
	v, err := lookup(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	m.Set(v)
	return v, nil
}

// Known returns the value and true if it is known.
func (m *Memo[T]) Known() (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero T
	return m.v, m.v != zero
}

// Set records v as the value unless one is known already or v is the zero
// value: for a value given in advance (configuration), which then spares
// every lookup.
func (m *Memo[T]) Set(v T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero T
	if m.v == zero {
		m.v = v
	}
}
