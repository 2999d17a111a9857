package store_test

import (
	"testing"

	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(*testing.T) store.Store { return store.NewMemory(store.Options{}) },
	})
}

func TestPebble(t *testing.T) {
	dirs := map[store.Store]string{}
	open := func(t *testing.T, dir string) store.Store {
		s, err := store.OpenPebble(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dirs[s] = dir
		return s
	}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store { return open(t, t.TempDir()) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, dirs[s])
		},
	})
}
