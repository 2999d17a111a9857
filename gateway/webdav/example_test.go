package webdav_test

import (
	"net/http"
	"time"

	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// A server for every drive of the client's signer, as `cairn serve` builds
// it: basic auth, stalled bodies cut off, and the server's own limits.
func ExampleNewHandler() {
	var c *drive.Client // from drive.New, wired as internal/cli does
	dav := webdav.ProgressDeadlines(webdav.NewHandler(c, nil), time.Minute, time.Minute)
	srv := &http.Server{
		Addr:              "127.0.0.1:8080",
		Handler:           webdav.BasicAuth(dav, "cairn", "me", "a long passphrase"),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	_ = srv // srv.ListenAndServe(); clients use http://127.0.0.1:8080/dav/<drive>/
}
