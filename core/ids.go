package core

import (
	"strconv"
)

// BucketID names a bucket on chain. Buckets are numbered from 1; 0 is never
// a valid bucket.
type BucketID uint64

// DriveID names a drive on chain, numbered from 1.
type DriveID uint64

// ChallengeID names a challenge on chain, numbered from 1.
type ChallengeID uint64

func (id BucketID) String() string    { return strconv.FormatUint(uint64(id), 10) }
func (id DriveID) String() string     { return strconv.FormatUint(uint64(id), 10) }
func (id ChallengeID) String() string { return strconv.FormatUint(uint64(id), 10) }

func parseID(op, what, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		return 0, Errorf(op, Invalid, "%s id must be a positive decimal number, got %q", what, s)
	}
	return v, nil
}

// ParseBucketID parses a decimal bucket id (> 0).
func ParseBucketID(s string) (BucketID, error) {
	v, err := parseID("core.ParseBucketID", "bucket", s)
	return BucketID(v), err
}

// ParseDriveID parses a decimal drive id (> 0).
func ParseDriveID(s string) (DriveID, error) {
	v, err := parseID("core.ParseDriveID", "drive", s)
	return DriveID(v), err
}

// ParseChallengeID parses a decimal challenge id (> 0).
func ParseChallengeID(s string) (ChallengeID, error) {
	v, err := parseID("core.ParseChallengeID", "challenge", s)
	return ChallengeID(v), err
}
