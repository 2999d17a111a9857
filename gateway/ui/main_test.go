package ui

import (
	"testing"

	"github.com/cairn-storage/cairn/devnet/devnettest"
)

// TestMain checks that no goroutine outlives the tests: Run's probe loop and every event
// stream end.
func TestMain(m *testing.M) { devnettest.Main(m) }
