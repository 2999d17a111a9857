package core

import (
	"crypto/rand"
	"sync"
	"testing"
)

// TestWeakVerdictCache: the cached verdict is the computed one, for weak
// and real keys alike, asked once or again, from many goroutines; the cache
// never holds more than its bound however many keys pass through it.
func TestWeakVerdictCache(t *testing.T) {
	keys := []AccountID{{}, {1}} // all-zero (small order) and the identity: weak
	minusOne, _ := ParseAccountID("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	keys = append(keys, minusOne)
	for range 61 {
		var a AccountID
		if _, err := rand.Read(a[:]); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, a) // about half are not points at all: weak
	}
	for _, name := range DevAccountNames {
		k, _ := DevKey(name)
		keys = append(keys, k.Account())
	}
	want := make([]bool, len(keys))
	nWeak := 0
	for i, a := range keys {
		want[i] = weak(a)
		if want[i] {
			nWeak++
		}
	}
	if nWeak < 3 || nWeak == len(keys) {
		t.Fatalf("%d of %d keys weak: the table should hold both kinds", nWeak, len(keys))
	}

	for _, tc := range []struct {
		name string
		max  int
	}{
		{"holds every key", 4 * len(keys)},
		{"smaller than the key set", 7},
		{"one entry", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newVerdictCache(tc.max)
			var wg sync.WaitGroup
			errs := make(chan string, 8*len(keys))
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range 3 {
						for j := range keys {
							i := (j + g*7) % len(keys)
							if got := c.get(keys[i], weak); got != want[i] {
								errs <- keys[i].Short()
							}
							if n := c.len(); n > tc.max {
								t.Errorf("round %d: cache holds %d verdicts, bound %d", round, n, tc.max)
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for k := range errs {
				t.Errorf("wrong verdict for %s", k)
			}
		})
	}

	// The process-wide cache behind Weak agrees too, asked twice.
	for i, a := range keys {
		for range 2 {
			if got := a.Weak(); got != want[i] {
				t.Fatalf("Weak(%s) = %v, want %v", a.Short(), got, want[i])
			}
		}
	}
}

// BenchmarkWeak: the check the verify path pays per signature, cached
// (the same 64 keys over and over, as a chain sees its providers) and not.
func BenchmarkWeak(b *testing.B) {
	keys := make([]AccountID, 64)
	for i := range keys {
		k, _ := GenerateKey(nil)
		keys[i] = k.Account()
	}
	b.Run("uncached", func(b *testing.B) {
		for i := range b.N {
			if weak(keys[i%64]) {
				b.Fatal("weak")
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for i := range b.N {
			if keys[i%64].Weak() {
				b.Fatal("weak")
			}
		}
	})
}
