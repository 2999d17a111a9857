// Package provider is the Cairn storage provider node: an HTTP server
// (routes in docs/api.md, "Provider") over a durable store (package
// provider/store), which
//
//   - accepts signed writes from bucket writers, each appending one blob as
//     one leaf of the bucket's append-only log at the seq the client names,
//     durable before it is acknowledged;
//   - serves signed commitments to each bucket's log (core.SignedCommitment),
//     inclusion and consistency proofs, leaf lists and blobs;
//   - replicates: it pulls what it is missing from the bucket's other
//     providers, verifying every leaf against a signed commitment;
//   - answers the chain's storage challenges addressed to it, unattended.
//
// The chain is reached through the small interfaces in chain.go, which
// *chainclient.Client satisfies; authorisation reads from a short-lived
// cache of chain state.
package provider
