// Package webdav serves a Cairn drive over WebDAV (RFC 4918) with
// golang.org/x/net/webdav: FileSystem maps WebDAV's file operations onto a
// drive.Client (reads stream from a drive.File, which fetches only the
// chunks from a seek's offset on; writes stream into UploadFile), Handler serves every drive of the signer under one prefix
// (/dav/<drive>/, by name or id) with an in-memory lock system and dead
// properties per drive.
//
// Writes go through the drive client, so a change is checkpointed by the
// drive's commit strategy and the drive's root on chain moves only with a
// checkpoint. Locks and dead properties live in this process's memory and
// are lost when it stops; the files are not.
//
// Known limit: a drive file cannot be read from an offset without reading
// what comes before it (chunks are listed in order, not indexed by offset
// here), so a seek (an HTTP Range request) restarts the download and
// discards the bytes before the offset. Memory stays bounded either way.
package webdav
