package chain

// readCache holds committed values (and absences) in front of Pebble for
// the application's own reads. A checkpoint reads its bucket, each
// signer's agreement and provider record and the submitter's account, the
// same few thousand keys block after block, and a Pebble Get costs several
// microseconds even from its block cache. The cache mirrors the committed
// state exactly: Commit updates every cached key it writes, so a read
// through it returns what Pebble would. It is bounded by the bytes it
// holds and starts over when full. Only the App's lock holder uses it
// (CheckTx, FinalizeBlock, Commit); queries read Pebble snapshots.
type readCache struct {
	db    dbReader
	vals  map[string]cachedValue
	bytes int
	max   int
}

type cachedValue struct {
	val []byte
	ok  bool
}

// readCacheBytes bounds the keys and values the read cache holds, with
// entryOverhead for each.
const readCacheBytes = 16 << 20

func newReadCache(db dbReader, max int) *readCache {
	return &readCache{db: db, vals: make(map[string]cachedValue), max: max}
}

func (c *readCache) get(key string) ([]byte, bool) {
	if v, hit := c.vals[key]; hit {
		return v.val, v.ok
	}
	val, ok := c.db.get(key)
	c.put(key, val, ok)
	return val, ok
}

// entryOverhead approximates what the map spends per entry beyond the key
// and value bytes, so many small entries count against the bound too.
const entryOverhead = 64

func (c *readCache) put(key string, val []byte, ok bool) {
	n := entryOverhead + len(key) + len(val)
	if old, hit := c.vals[key]; hit {
		c.bytes -= entryOverhead + len(key) + len(old.val)
	}
	if c.bytes+n > c.max {
		clear(c.vals)
		c.bytes = 0
	}
	c.vals[key] = cachedValue{val: val, ok: ok}
	c.bytes += n
}

// committed brings the cached keys among o's writes up to date; call it
// once those writes are in Pebble. Keys not cached stay out (most written
// keys, a checkpoint's history entry for one, are never read back).
func (c *readCache) committed(o *overlay) {
	for k, e := range o.writes {
		if _, hit := c.vals[k]; hit {
			c.put(k, e.val, !e.deleted)
		}
	}
}
