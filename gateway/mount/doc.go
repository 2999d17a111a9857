// Package mount shows a Cairn drive as a folder through FUSE
// (github.com/hanwen/go-fuse/v2, its fs API): `cairn mount DRIVE DIR`.
//
// Every operation goes through the drive package's exported API, so a
// change made through the folder is an ordinary drive change: its blobs
// are acknowledged by a quorum of providers, the new root is pending until
// a checkpoint, and checkpoints follow the drive's commit strategy.
//
//   - Lookups, attributes and listings come from drive Stat and List.
//   - Reads stream: an open file's reads go through a drive.File, so
//     sequential reads are served from one download; a read behind the
//     stream, or more than drive.MaxSkip ahead of it, restarts the download
//     at its offset, fetching only the chunks from there on; a short skip
//     forward reads on. The kernel is asked for sequential reads (no async read).
//   - Writes stream: a file opened for writing is replaced whole. Its
//     writes must start at offset 0 and follow each other (as cp, cat,
//     dd and shell redirection write); they flow through a pipe into
//     UploadFile, and close(2) returns once the upload is acknowledged
//     (or with its error). A close while the file is still open through
//     another descriptor stores what was written so far, and the next
//     write replays it into a new upload. A write at any other offset
//     fails with EINVAL and nothing is stored. Memory is bounded by the
//     drive's write window (no spooling to disk).
//   - mkdir, rmdir, unlink and rename map onto CreateDirectory, Remove and
//     Move; a rename onto an existing file removes it first (two changes,
//     not one atomic step).
//
// Errors become errno values: not found ENOENT, unauthorized EACCES,
// exists EEXIST, not a directory ENOTDIR, a directory EISDIR, not empty
// ENOTEMPTY, an invalid name EINVAL, over quota ENOSPC; anything else is
// EIO with a log line naming the operation, the path and the cause.
//
// Writers of one drive take turns (drive's writer lock): a second file
// opened for writing on the same drive waits, at its first write, until
// the first file is closed. A program that writes two files of one drive
// alternately therefore blocks; write them one after the other.
package mount
