// Package core holds the vocabulary every other Cairn package shares:
// identifiers (BucketID, DriveID, ChallengeID, AccountID), 32-byte hashes,
// ed25519 keys and signatures, the deterministic development accounts, the
// commitment payload that providers sign and the chain verifies, and the
// error kinds that survive every process boundary.
//
// core imports nothing of Cairn's own, so every layer may depend on it.
package core
