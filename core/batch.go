package core

import (
	"github.com/cometbft/cometbft/crypto"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"
)

// BatchVerifier verifies many ed25519 signatures at once, with the same
// rules (ZIP-215) as AccountID.Verify: the outcome for each signature is
// exactly what one-at-a-time verification gives; only the cost differs
// (about twice as fast on this hardware). The chain uses it for a block's
// signatures; everything verifies through core, so no component ever counts
// a signature another would refuse.
type BatchVerifier struct {
	bv crypto.BatchVerifier
	n  int
}

// NewBatchVerifier returns an empty batch.
func NewBatchVerifier() *BatchVerifier {
	return &BatchVerifier{bv: cmted.NewBatchVerifier()}
}

// Add queues one signature and returns its index in the batch, or -1 if
// it cannot be verified at all (a malformed or weak key), which counts as
// invalid.
func (b *BatchVerifier) Add(key AccountID, msg []byte, sig Signature) int {
	if key.Weak() {
		return -1
	}
	if err := b.bv.Add(cmted.PubKey(key[:]), msg, sig[:]); err != nil {
		return -1
	}
	b.n++
	return b.n - 1
}

// Len is the number of signatures queued.
func (b *BatchVerifier) Len() int { return b.n }

// Verify checks the batch. valid(i) reports the outcome of the signature
// Add returned i for; valid(-1) is false.
func (b *BatchVerifier) Verify() (valid func(i int) bool) {
	if b.n == 0 {
		return func(int) bool { return false }
	}
	all, each := b.bv.Verify()
	return func(i int) bool { return i >= 0 && i < b.n && (all || (i < len(each) && each[i])) }
}
