// Package quorum is the Checkpoint Manager's decision, as pure functions:
// given the signed commitments that providers returned (already verified),
// which state does a quorum agree on, is the threshold met, and how does
// each disagreeing provider relate to that state (behind, ahead, diverged)?
//
// Nothing here does I/O, so every rule is tested by the golden cases in
// testdata/*.txt.
package quorum
