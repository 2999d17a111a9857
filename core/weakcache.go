package core

import "sync"

// maxWeakVerdicts bounds the keys whose Weak verdict is remembered. The
// keys a node verifies are few (accounts that sign transactions, providers
// that sign commitments), so the cache rarely fills; when it does it starts
// over, which costs one point decompression per key, never a wrong answer.
const maxWeakVerdicts = 1 << 14

// weakVerdicts memoizes AccountID.Weak: the check decompresses a curve
// point, about as costly as a fifth of a signature verification, and the
// chain asks it for every signature of every block. The verdict is a pure
// function of the key's 32 bytes, so the cache changes the cost of Weak,
// never its answer; that is why it may be shared by the whole process.
var weakVerdicts = newVerdictCache(maxWeakVerdicts)

// verdictCache remembers a boolean verdict per key, for at most max keys.
// It is safe for concurrent use.
type verdictCache struct {
	mu  sync.RWMutex
	max int
	m   map[AccountID]bool
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{max: max, m: make(map[AccountID]bool)}
}

// get returns the verdict for a, computing it with f on a miss.
func (c *verdictCache) get(a AccountID, f func(AccountID) bool) bool {
	c.mu.RLock()
	v, ok := c.m[a]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = f(a)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[a] = v
	c.mu.Unlock()
	return v
}

// len is the number of verdicts held.
func (c *verdictCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
