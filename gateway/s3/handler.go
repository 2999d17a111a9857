package s3

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rclone/gofakes3"
)

// Credentials are the one access key pair requests must be signed with
// (Signature V4).
type Credentials struct {
	AccessKey string
	SecretKey string
}

// NewHandler serves b as S3 with path-style buckets (http://host/bucket/key).
// With creds, every request must carry a valid Signature V4 of that pair;
// others get S3's SignatureDoesNotMatch, InvalidAccessKeyId or
// AccessDenied. Without, requests are not checked. m may be nil.
func NewHandler(b *Backend, creds *Credentials, m *Metrics) http.Handler {
	opts := []gofakes3.Option{gofakes3.WithLogger(logger{b.log}), gofakes3.WithHostBucket(false)}
	if creds != nil {
		opts = append(opts, gofakes3.WithV4Auth(map[string]string{creds.AccessKey: creds.SecretKey}))
	}
	var h http.Handler = gofakes3.New(b, opts...).Server()
	if m != nil {
		h = m.wrap(h)
	}
	return h
}

// logger passes gofakes3's warnings and errors to slog; its per-request
// info lines are dropped.
type logger struct{ log *slog.Logger }

func (l logger) Print(level gofakes3.LogLevel, v ...any) {
	msg := strings.TrimSuffix(fmt.Sprintln(v...), "\n")
	switch level {
	case gofakes3.LogErr:
		l.log.Error("s3", "err", msg)
	case gofakes3.LogWarn:
		l.log.Info("s3", "warn", msg)
	}
}
