// Package drive is Cairn's file system: drives, files and directories stored as
// content-addressed blobs on a bucket's providers, with the drive's root
// moving on chain only together with a checkpoint.
//
// A file is split into fixed-size chunks (256 KiB by default); each chunk is
// a blob, and a FileManifest blob lists them. A DirectoryNode blob lists a
// directory's entries sorted by name. Every blob is one write in the
// bucket's append-only log (one MMR leaf), written to every primary in
// parallel and acknowledged once a quorum holds it durably. Content ids are
// CIDv1 with a sha2-256 multihash: raw for chunks, dag-json for manifests and
// directories. The drive root CID names the root directory node.
//
// The Client is the reference's FileSystemClient. It finds a bucket's
// providers, their health and the write threshold in a providers.Pool
// shared with the Checkpoint Manager, and hands checkpoints to the manager,
// through the small Checkpointer interface, according to the drive's
// CommitStrategy.
package drive
