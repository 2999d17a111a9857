package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
)

// kv is the ordered key-value engine under a Store. The log logic (db.go)
// is written once against it; memKV and pebbleKV differ only in where the
// bytes live and whether apply survives a crash.
type kv interface {
	// get returns a copy of the value at key, or errNoKey.
	get(key []byte) ([]byte, error)
	has(key []byte) (bool, error)
	// scan calls fn for every key with the prefix, in increasing key order;
	// k and v are valid only during the call. fn returning false stops.
	scan(prefix []byte, fn func(k, v []byte) bool) error
	// apply applies every op of b atomically; with sync, durably.
	apply(b *batch, sync bool) error
	close() error
}

var errNoKey = errors.New("store: no such key")

type opKind uint8

const (
	opSet opKind = iota
	opDeleteRange
)

type kvop struct {
	kind     opKind
	key, val []byte // set: key, value; deleteRange: [key, val)
}

// batch collects the writes of one atomic apply.
type batch struct {
	ops []kvop
}

func (b *batch) set(key, val []byte) {
	b.ops = append(b.ops, kvop{kind: opSet, key: key, val: val})
}

func (b *batch) deleteRange(start, end []byte) {
	b.ops = append(b.ops, kvop{kind: opDeleteRange, key: start, val: end})
}

// memKV is a kv in memory, for tests.
type memKV struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: make(map[string][]byte)} }

func (s *memKV) get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[string(key)]
	if !ok {
		return nil, errNoKey
	}
	return bytes.Clone(v), nil
}

func (s *memKV) has(key []byte) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.m[string(key)]
	return ok, nil
}

func (s *memKV) scan(prefix []byte, fn func(k, v []byte) bool) error {
	s.mu.RLock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	s.mu.RUnlock()
	slices.Sort(keys)
	for _, k := range keys {
		s.mu.RLock()
		v, ok := s.m[k]
		s.mu.RUnlock()
		if ok && !fn([]byte(k), v) {
			break
		}
	}
	return nil
}

func (s *memKV) apply(b *batch, _ bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range b.ops {
		switch op.kind {
		case opSet:
			s.m[string(op.key)] = bytes.Clone(op.val)
		case opDeleteRange:
			for k := range s.m {
				if k >= string(op.key) && k < string(op.val) {
					delete(s.m, k)
				}
			}
		}
	}
	return nil
}

func (s *memKV) close() error { return nil }
