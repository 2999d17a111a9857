package providers

import "testing"

func TestRequired(t *testing.T) {
	tests := []struct{ total, pct, want int }{
		{0, 51, 0}, {1, 51, 1}, {2, 51, 2}, {3, 51, 2}, {4, 51, 3}, {5, 51, 3},
		{10, 51, 6}, {100, 51, 51}, {3, 100, 3}, {3, 1, 1}, {3, 0, 1}, {3, 150, 3}, {7, 67, 5},
	}
	for _, tt := range tests {
		if got := Required(tt.total, tt.pct); got != tt.want {
			t.Errorf("Required(%d, %d) = %d, want %d", tt.total, tt.pct, got, tt.want)
		}
	}
}

// The bucket's on-chain quorum raises the client's threshold, never lowers
// it (the chain refuses fewer distinct signers than its quorum).
func TestThreshold(t *testing.T) {
	tests := []struct {
		total, pct int
		onChain    uint32
		want       int
	}{
		{0, 51, 3, 0}, // no providers: nothing to decide
		{3, 51, 0, 2}, // no on-chain quorum recorded: the 51 % rule
		{3, 51, 1, 2}, // a lower on-chain quorum never lowers the rule
		{3, 51, 2, 2}, // equal
		{3, 51, 3, 3}, // 3 of 3 on chain: all three must sign
		{5, 51, 4, 4}, // 80 % on chain beats 51 %
		{4, 51, 3, 3}, // 75 % on chain equals ceil(4 x 51 %)
		{2, 51, 3, 3}, // above the providers: unreachable, and said so
		{10, 100, 6, 10},
	}
	for _, tt := range tests {
		if got := Threshold(tt.total, tt.pct, tt.onChain); got != tt.want {
			t.Errorf("Threshold(%d, %d, %d) = %d, want %d", tt.total, tt.pct, tt.onChain, got, tt.want)
		}
	}
}
