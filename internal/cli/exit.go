package cli

import (
	"errors"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// Exit statuses, the same for every command (docs/cli.md lists them).
const (
	ExitOK           = 0
	ExitFailure      = 1 // anything not listed below
	ExitUsage        = 2 // bad flags or arguments
	ExitNotFound     = 3
	ExitUnauthorized = 4
	ExitUnavailable  = 5  // a provider or the chain could not be reached; try again
	ExitCorrupt      = 6  // a hash, signature or proof did not verify
	ExitNoQuorum     = 7  // not enough providers agreed; nothing was committed
	ExitConflict     = 8  // exists, or disagrees with current state
	ExitInvalid      = 9  // the request was refused as invalid
	ExitQuota        = 10 // the change does not fit the drive's quota (an invalid request of its own status); nothing was written
)

// ExitCode maps an error to the process exit status. This is the one table
// from error kinds to exit codes.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var qe *drive.QuotaError
	if errors.As(err, &qe) {
		return ExitQuota
	}
	switch core.KindOf(err) {
	case core.Invalid:
		return ExitInvalid
	case core.NotFound:
		return ExitNotFound
	case core.Unauthorized:
		return ExitUnauthorized
	case core.Unavailable:
		return ExitUnavailable
	case core.Corrupt:
		return ExitCorrupt
	case core.NoQuorum:
		return ExitNoQuorum
	case core.Exists, core.Conflict:
		return ExitConflict
	}
	return ExitFailure
}

// exitStatusHelp is appended to every command's long help.
const exitStatusHelp = `
EXIT STATUS
  0 success, 1 other failure, 2 usage, 3 not found, 4 unauthorized,
  5 unavailable (retry), 6 corrupt, 7 no quorum, 8 conflict or exists, 9 invalid,
  10 over quota (nothing written).`
