// Package store is the provider's durable storage: blobs by content hash
// (deduplicated across buckets), and per bucket an append-only log of
// writes whose leaves are committed by a Merkle Mountain Range with its
// nodes persisted.
//
// One Store interface (store.go) has two implementations over the same log
// logic: OpenPebble, on disk, where each append is one Pebble batch (blob,
// leaf, MMR nodes, log state and the write's nonce) committed with fsync
// before Append returns; and NewMemory, for tests. The conformance suite in
// storetest runs against both.
//
// Key layout in Pebble (integers big-endian):
//
//	"v"                                    format version
//	"b" hash[32]                           blob bytes
//	"h" bucket[8] hash[32]                 the bucket's log references the blob
//	"l" bucket[8] index[8]                 leaf (core.Leaf.Bytes) at index = seq - start_seq
//	"m" bucket[8] pos[8]                   MMR node at position pos
//	"s" bucket[8]                          log state: start_seq, leaf_count, bytes
//	"n" expiry[8] bucket[8] writer[32] nonce[16]   a write nonce, kept until expiry
package store
