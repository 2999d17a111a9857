// Package providers is the provider pool of a client: a bucket's active
// primaries read from chain state (cached, dropped after a failure), the
// bucket's on-chain quorum and the threshold rule, one dialed client per
// endpoint, and one health record per provider, ordered healthiest first
// and persisted beside the client's checkpoint state so separate CLI runs
// share it. Both the Checkpoint Manager and the drive client use one Pool.
package providers
