// Package ui is the dashboard of `cairn serve` and `cairn dev`: a page at
// /ui/ (HTML, CSS and a small script of our own, embedded in the binary, no
// network fetches) and the same data as JSON under /api/ for scripts.
//
// A Server keeps one Snapshot of the signer's drives: each drive with its
// bucket, strategy, root and last checkpoint; the bucket's providers with
// their health (from the provider pool), leaf count and lag (from a probe
// of their signed commitments), stake (chain) and an at-risk flag with its
// reasons (Assess, a pure function); the checkpoint timeline with each
// checkpoint's signers and, for those this process submitted, its time to
// quorum; each provider's conflict class with the proof that decided it;
// and the bucket's challenges. Run refreshes the snapshot from the chain on
// each new block and probes the providers every Config.ProbeEvery blocks,
// and pushes what changed (block, checkpoint, health, challenge) to the
// page as server-sent events on /api/events; the page re-renders without a
// reload.
//
// The server reads through small interfaces declared here (Sources), so
// the handlers are tested with fakes; internal/cli wires the chain client
// and the Checkpoint Manager in.
package ui
