package mount_test

import (
	"testing"

	"github.com/cairn-storage/cairn/devnet/devnettest"
)

// TestMain checks that no goroutine outlives the tests: no download or upload an open
// file started, however the file was closed.
func TestMain(m *testing.M) { devnettest.Main(m) }
