// Package faultnet is a seeded fault transport for tests: an
// http.RoundTripper that, per target host, drops requests, delays them,
// hangs them until the caller gives up, or corrupts the bodies it
// returns. It is the middle of STYLE.md's three fault depths (function
// fakes below it, process perturbations in test/e2e above it), shared by
// the tests of checkpoint, fs and provider so that each fault is written
// once.
//
// Every random choice (whether a request is hit, which byte is flipped)
// comes from one rand seeded by the caller, so a failing run repeats.
package faultnet
