// Package s3 serves the signer's drives as an S3-compatible API: each
// drive is a bucket, each file an object whose key is its path without the
// leading slash. The HTTP side (routing, XML, Signature V4, the S3 error
// codes) is github.com/rclone/gofakes3, the library rclone's `serve s3`
// runs on; this package is its Backend and MultipartBackend over a
// drive.Client.
//
// Every write goes through the drive client, so checkpoints follow the
// drive's commit strategy. Bodies stream: a PutObject is an UploadFile
// fed by the request body, a GetObject a DownloadRange into the response.
// Multipart parts stream to files in a bounded temporary area, and the
// completed object streams from them into the drive, so memory stays
// bounded by the drive's write window whatever the object's size.
//
// An object's MD5 (its S3 ETag) and its user metadata are computed while
// the body streams and kept in a MetaStore keyed by the file's content id
// (the manifest CID), so they follow the file through moves and are lost
// only when its content changes. A file written by another way (WebDAV,
// cairn put) has no recorded MD5: its ETag is then a 64-digit id derived
// from the content id, which clients such as rclone do not mistake for an
// MD5.
package s3
