package core

import (
	"fmt"
	"testing"
)

// The batch must agree with one-at-a-time verification on every
// signature, good and bad, wherever the bad ones sit in the batch.
func TestBatchVerifierMatchesSingle(t *testing.T) {
	alice, _ := DevKey("alice")
	bob, _ := DevKey("bob")
	for bad := -1; bad < 6; bad++ {
		t.Run(fmt.Sprint("bad=", bad), func(t *testing.T) {
			b := NewBatchVerifier()
			var want []bool
			var idx []int
			for i := 0; i < 6; i++ {
				msg := []byte(fmt.Sprint("message ", i))
				k := alice
				if i%2 == 1 {
					k = bob
				}
				sig := k.Sign(msg)
				if i == bad {
					sig[3] ^= 1
				}
				want = append(want, k.Account().Verify(msg, sig))
				idx = append(idx, b.Add(k.Account(), msg, sig))
			}
			valid := b.Verify()
			for i := range want {
				if valid(idx[i]) != want[i] {
					t.Errorf("signature %d: batch says %v, single says %v", i, valid(idx[i]), want[i])
				}
			}
			if valid(-1) || valid(99) {
				t.Error("out-of-range index reported valid")
			}
		})
	}
	if NewBatchVerifier().Verify()(0) {
		t.Error("empty batch reported a valid signature")
	}
}
