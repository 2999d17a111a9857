package drive_test

import (
	"testing"

	"github.com/cairn-storage/cairn/devnet/devnettest"
)

// TestMain checks that no goroutine outlives the tests: no upload's workers and their
// writes in flight, no download's fetches, whatever way the operation ended.
func TestMain(m *testing.M) { devnettest.Main(m) }
