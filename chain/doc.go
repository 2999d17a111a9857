// Package chain is Cairn's ledger: an ABCI++ application for CometBFT
// (v0.38) that keeps accounts, providers, buckets, agreements,
// checkpoints, challenges and drives, and checks every call as DESIGN.md
// "Chain" requires.
//
// State lives in Pebble (an in-memory Pebble for tests). A block's writes
// are buffered while it executes and written in one synced batch at
// Commit, together with the height and app hash, so a restarted node
// resumes exactly where its last commit left it and CometBFT's handshake
// replays any block it did not commit. The app hash of block h is
//
//	SHA-256("cairn/apphash/v1\x00" || app hash of h-1 || h as u64 BE ||
//	        for each key written in block h, in byte order:
//	        u32 BE len(key) || key || 0x00 (deleted) or 0x01 || u32 BE len(value) || value)
//
// a hash chain over every state change since genesis (InitChain's writes
// are "height 0"): two nodes have equal app hashes exactly when they made
// the same writes. It does not support proofs of single keys; no client
// needs them yet.
//
// docs/chain.md documents the parameters, the transaction format and the
// result codes; docs/api.md ("## Chain") the calls, queries and events.
package chain
