//go:build !linux

package e2e

import (
	"os"
	"testing"
)

// The end-to-end tests need Linux: their children die with them through
// Pdeathsig, and a client's peak memory comes from Linux rusage.
func TestNeedsLinux(t *testing.T) {
	if os.Getenv("CAIRN_CI") != "" {
		t.Fatal("CAIRN_CI is set: the end-to-end tests run only on Linux")
	}
	t.Skip("the end-to-end tests run only on Linux")
}
