package ui

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: Run's probe loop
// and every event stream end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
