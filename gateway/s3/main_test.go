package s3_test

import (
	"testing"

	"github.com/cairn-storage/cairn/devnet/devnettest"
)

// TestMain checks that no goroutine outlives the tests: no download or upload a file
// started, whatever way its request ended.
func TestMain(m *testing.M) { devnettest.Main(m) }
