package chain_test

import (
	"strings"

	"github.com/cairn-storage/cairn/core"
)

type parsedPath struct {
	kind      string
	acct      core.AccountID
	bucket    core.BucketID
	challenge core.ChallengeID
	drive     core.DriveID
}

// parsePath maps a wire query path back to the client method that asks it.
func parsePath(path string) parsedPath {
	p, q, _ := strings.Cut(path, "?")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var out parsedPath
	switch {
	case parts[0] == "bucket" && len(parts) == 3:
		out.kind = parts[2]
	case parts[0] == "provider" && len(parts) == 3:
		out.kind = "provider_" + parts[2]
	default:
		out.kind = parts[0]
	}
	if len(parts) > 1 {
		switch parts[0] {
		case "account", "nonce", "provider":
			out.acct, _ = core.ParseAccountID(parts[1])
		case "bucket":
			out.bucket, _ = core.ParseBucketID(parts[1])
		case "challenge":
			out.challenge, _ = core.ParseChallengeID(parts[1])
		case "drive":
			out.drive, _ = core.ParseDriveID(parts[1])
		}
	}
	if strings.HasPrefix(q, "owner=") {
		out.acct, _ = core.ParseAccountID(strings.TrimPrefix(q, "owner="))
	}
	return out
}
