// Package checkpoint is the Checkpoint Manager: it makes a bucket's
// checkpoints invisible to its users. For a bucket it discovers the primary
// providers from chain state, collects their signed commitments in parallel
// (per-provider timeout, retries with exponential back-off, local signature
// verification), stops as soon as a quorum agrees (early quorum, with a short
// grace window for stragglers), classifies every disagreement with MMR
// consistency proofs (SyncDelay, Ahead, DataDivergence), submits the
// checkpoint on chain — with a consistency proof against the previous one and,
// when a drive root is pending, an inclusion proof of the drive's root blob —
// retries, tracks provider health, and can challenge a provider whose data
// diverged or that fails a random audit.
//
// The background loop (StartLoop) drives batched checkpoints from block
// heights; its handle offers MarkDirty, SubmitNow, Pause, Resume and Stop.
// Dirty buckets, pending drive roots and last results persist in a small
// state file, so a restarted client finishes the checkpoint it owed.
//
// The pure decisions live in checkpoint/quorum.
package checkpoint
