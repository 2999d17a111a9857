package webdav

import (
	"io"
	"net/http"
	"time"
)

// ProgressDeadlines bounds how long a request's body may stall and how
// long a response may wait on a client that does not read: before each
// read of the body the connection's read deadline moves to now+read, before
// each write of the response its write deadline to now+write. Uploads and
// downloads of any size go through, a client that stops moving bytes is
// cut off (a whole-body deadline would cap the file size instead).
//
// Work that takes longer than the deadlines after the body ends (a
// checkpoint after a PUT, an S3 Complete streaming its parts into the
// drive, a long download) is not cut: once the body is over no read
// deadline is left (net/http's read that watches for the client leaving
// would otherwise time out and cancel the request's context), and the
// write deadline moves again when the handler returns, for the answer the
// server then flushes.
func ProgressDeadlines(next http.Handler, read, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(write))
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(time.Now().Add(read))
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, d: read}
		}
		next.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, d: write}, r)
		_ = rc.SetWriteDeadline(time.Now().Add(write))
	})
}

type deadlineBody struct {
	io.ReadCloser
	rc *http.ResponseController
	d  time.Duration
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.d))
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		_ = b.rc.SetReadDeadline(time.Time{}) // the body is over
	}
	return n, err
}

type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	return w.ResponseWriter.Write(p)
}

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
