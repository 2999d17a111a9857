package chain

import (
	"sort"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// provIndex is the per-provider index of its agreements, one key per
// provider (pProvAgr + provider): the buckets it holds agreements on, each
// with the quota and expiry it counts, and Committed, the sum of MaxBytes
// over the entries. It is written when an agreement is made and when one
// is ended; an entry whose agreement has expired stays until the
// provider's next agreement prunes it (releasing its bytes), so the figure
// a new agreement is checked against counts exactly the active ones. The
// index serves two things whose cost must grow with the provider's own
// agreements, never with the chain: the capacity check of a new agreement
// (terms.go) and the query "/provider/{hex}/agreements".
type provIndex struct {
	Committed uint64         `json:"committed"`
	Entries   []provIdxEntry `json:"entries"`
}

type provIdxEntry struct {
	Bucket       core.BucketID `json:"bucket"`
	MaxBytes     uint64        `json:"max_bytes"`
	ExpiryHeight int64         `json:"expiry_height"`
}

func (s *state) provIndex(p core.AccountID) provIndex {
	var x provIndex
	s.getJSON(acctKey(pProvAgr, p), &x)
	return x
}

func (s *state) putProvIndex(p core.AccountID, x provIndex) {
	if len(x.Entries) == 0 {
		s.o.del(acctKey(pProvAgr, p))
		return
	}
	s.putJSON(acctKey(pProvAgr, p), x)
}

// remove drops bucket's entry and releases its bytes; it reports whether
// there was one.
func (x *provIndex) remove(bucket core.BucketID) bool {
	for i, e := range x.Entries {
		if e.Bucket == bucket {
			x.Committed -= e.MaxBytes
			x.Entries = append(x.Entries[:i], x.Entries[i+1:]...)
			return true
		}
	}
	return false
}

// prune releases the entries whose agreements have expired at height h.
func (x *provIndex) prune(h int64) {
	kept := x.Entries[:0]
	for _, e := range x.Entries {
		if h < e.ExpiryHeight {
			kept = append(kept, e)
			continue
		}
		x.Committed -= e.MaxBytes
	}
	x.Entries = kept
}

// add records a new agreement; the caller checked Committed+MaxBytes does
// not overflow.
func (x *provIndex) add(e provIdxEntry) {
	x.Committed += e.MaxBytes
	i := sort.Search(len(x.Entries), func(i int) bool { return x.Entries[i].Bucket >= e.Bucket })
	x.Entries = append(x.Entries, provIdxEntry{})
	copy(x.Entries[i+1:], x.Entries[i:])
	x.Entries[i] = e
}

// providerAgreements answers "/provider/{hex}/agreements": the provider's
// indexed agreements, by bucket, read from the agreement records (Active at
// the next block's height, as "/bucket/{id}/agreements" says it).
func (s *state) providerAgreements(p core.AccountID) []wire.Agreement {
	out := []wire.Agreement{}
	for _, e := range s.provIndex(p).Entries {
		r, ok := s.agreement(e.Bucket, p)
		if !ok {
			continue
		}
		out = append(out, wire.Agreement{Bucket: e.Bucket, Provider: p, Role: r.Role, MaxBytes: r.MaxBytes,
			ExpiryHeight: r.ExpiryHeight, Payment: r.Payment, Active: s.height+1 < r.ExpiryHeight})
	}
	return out
}
