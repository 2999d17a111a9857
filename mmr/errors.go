package mmr

import "errors"

// Sentinel errors. Functions wrap them with context, so test with errors.Is.
var (
	// ErrNotFound: a Store holds no node at the requested position.
	ErrNotFound = errors.New("mmr: node not found")

	// ErrInvalidProof: a proof did not verify, does not fit the tree shape it
	// claims, or could not be decoded.
	ErrInvalidProof = errors.New("mmr: invalid proof")

	// ErrOutOfRange: a leaf index or leaf count lies outside the MMR (for
	// example a proof asked for a prefix longer than the MMR), or an append
	// would pass MaxLeafCount.
	ErrOutOfRange = errors.New("mmr: out of range")

	// ErrCorrupt: a Store does not hold a valid MMR, for example its size is
	// not the size of any MMR.
	ErrCorrupt = errors.New("mmr: corrupt store")
)
