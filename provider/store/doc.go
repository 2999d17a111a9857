// Package store is the provider's durable storage: blobs by content hash
// (deduplicated across buckets), and per bucket an append-only log of
// writes whose leaves are committed by a Merkle Mountain Range with its
// nodes persisted.
//
// One Store interface (store.go) has two implementations over the same log
// logic: OpenPebble, on disk, and NewMemory, for tests. The conformance
// suite in storetest runs against both.
//
// On disk, blob bytes stay out of the LSM, so each byte is written once:
// an append writes the blob to the end of an append-only segment file
// (blobs/<id>.seg, segments.go) and fsyncs it, then commits one Pebble
// batch (the blob's location, the leaf, the MMR nodes, the log state and
// the write's nonce) with fsync before Append returns. A crash before the
// batch commits leaves bytes in a segment that nothing indexes: they are
// never read, and not reclaimed (a store never appends to a segment of an
// earlier run, so they are never written over either).
//
// Key layout in Pebble (integers big-endian):
//
//	"v"                                    format version
//	"b" hash[32]                           blob location: segment[8] offset[8] length[8]
//	"h" bucket[8] hash[32]                 the bucket's log references the blob
//	"l" bucket[8] index[8]                 leaf (core.Leaf.Bytes) at index = seq - start_seq
//	"m" bucket[8] pos[8]                   MMR node at position pos
//	"s" bucket[8]                          log state: start_seq, leaf_count, bytes
//	"n" expiry[8] bucket[8] writer[32] nonce[16]   a write nonce, kept until expiry
package store
