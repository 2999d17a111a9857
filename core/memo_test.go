package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

func TestMemo(t *testing.T) {
	errDown := errors.New("node down")
	type answer struct {
		v   string
		err error
	}
	for _, tc := range []struct {
		name    string
		preset  string   // Set before the first Get
		answers []answer // what successive lookups return
		want    []answer // what successive Gets return
		lookups int      // how many lookups the Gets make
	}{
		{
			name:    "first answer kept",
			answers: []answer{{v: "cairn-1"}, {v: "cairn-2"}},
			want:    []answer{{v: "cairn-1"}, {v: "cairn-1"}, {v: "cairn-1"}},
			lookups: 1,
		},
		{
			name:    "failure not kept",
			answers: []answer{{err: errDown}, {v: "cairn-1"}},
			want:    []answer{{err: errDown}, {v: "cairn-1"}, {v: "cairn-1"}},
			lookups: 2,
		},
		{
			name:    "zero value not kept",
			answers: []answer{{v: ""}, {v: "cairn-1"}},
			want:    []answer{{v: ""}, {v: "cairn-1"}, {v: "cairn-1"}},
			lookups: 2,
		},
		{
			name:    "preset spares every lookup",
			preset:  "configured",
			answers: []answer{{v: "cairn-1"}},
			want:    []answer{{v: "configured"}, {v: "configured"}},
			lookups: 0,
		},
		{
			name:    "empty preset means look up",
			preset:  "",
			answers: []answer{{v: "cairn-1"}},
			want:    []answer{{v: "cairn-1"}, {v: "cairn-1"}},
			lookups: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m core.Memo[string]
			m.Set(tc.preset)
			n := 0
			lookup := func(context.Context) (string, error) {
				a := tc.answers[n]
				n++
				return a.v, a.err
			}
			for i, w := range tc.want {
				v, err := m.Get(context.Background(), lookup)
				if v != w.v || !errors.Is(err, w.err) || (w.err == nil) != (err == nil) {
					t.Errorf("Get #%d = %q, %v; want %q, %v", i, v, err, w.v, w.err)
				}
			}
			if n != tc.lookups {
				t.Errorf("%d lookups, want %d", n, tc.lookups)
			}
		})
	}
}

func TestMemoSetKeepsTheFirstValue(t *testing.T) {
	var m core.Memo[string]
	if _, ok := m.Known(); ok {
		t.Fatal("empty memo knows a value")
	}
	m.Set("a")
	m.Set("b")
	if v, ok := m.Known(); !ok || v != "a" {
		t.Errorf("Known = %q, %v; want a, true", v, ok)
	}
}

// TestMemoConcurrent is for the race detector: many first Gets at once all
// see the one value.
func TestMemoConcurrent(t *testing.T) {
	var m core.Memo[int]
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.Get(context.Background(), func(context.Context) (int, error) { return 7, nil })
			if err != nil || v != 7 {
				t.Errorf("Get = %d, %v", v, err)
			}
		}()
	}
	wg.Wait()
}
