package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/net/netutil"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/gateway/s3"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// S3Options are `cairn serve`'s S3 flags.
type S3Options struct {
	Listen    string // "" serves no S3
	AccessKey string
	SecretKey string
	TempDir   string // multipart parts; "" is HOME/s3/parts
	MaxTemp   int64  // bytes of parts held at once
}

func (o *S3Options) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Listen, "s3", "", "HOST:PORT to serve the S3 API on (each drive is a bucket; a non-loopback address needs --s3-access-key and --s3-secret-key)")
	// The environment is read when the command runs (fromEnv), so --help
	// never prints the secret.
	f.StringVar(&o.AccessKey, "s3-access-key", "", "S3 access key requests must be signed with (SigV4; env CAIRN_S3_ACCESS_KEY)")
	f.StringVar(&o.SecretKey, "s3-secret-key", "", "S3 secret key (env CAIRN_S3_SECRET_KEY)")
	f.StringVar(&o.TempDir, "s3-temp-dir", "", "where multipart upload parts wait for their completion (default HOME/s3/parts: on disk, where /tmp may be memory)")
	f.Int64Var(&o.MaxTemp, "s3-max-temp-bytes", s3.DefaultConfig().MaxTempBytes, "bytes of multipart parts held at once; a part past it is refused")
}

// fromEnv fills the keys not given as flags from CAIRN_S3_ACCESS_KEY and
// CAIRN_S3_SECRET_KEY.
func (o *S3Options) fromEnv(getenv func(string) string) {
	if o.AccessKey == "" {
		o.AccessKey = getenv("CAIRN_S3_ACCESS_KEY")
	}
	if o.SecretKey == "" {
		o.SecretKey = getenv("CAIRN_S3_SECRET_KEY")
	}
}

// validate refuses half a key pair, a bound of zero, and a non-loopback
// address without keys.
func (o S3Options) validate() error {
	if o.Listen == "" {
		return nil // keys set with no S3 asked for are left unused
	}
	host, _, err := net.SplitHostPort(o.Listen)
	switch {
	case err != nil:
		return usagef("--s3 %q: %v", o.Listen, err)
	case o.MaxTemp <= 0:
		return usagef("--s3-max-temp-bytes must be positive")
	case (o.AccessKey == "") != (o.SecretKey == ""):
		return usagef("give both --s3-access-key and --s3-secret-key (or CAIRN_S3_ACCESS_KEY and CAIRN_S3_SECRET_KEY), or neither")
	case o.AccessKey != "" && len(o.AccessKey) < 3:
		return usagef("--s3-access-key must be at least 3 characters (SigV4 parsers refuse shorter ones)")
	case o.AccessKey == "" && !isLoopback(host):
		return usagef("--s3 %s is not a loopback address: set --s3-access-key and --s3-secret-key (or CAIRN_S3_ACCESS_KEY and CAIRN_S3_SECRET_KEY) to serve beyond this machine", o.Listen)
	}
	return nil
}

// s3Server is the S3 API on its own listener.
type s3Server struct {
	srv     *http.Server
	backend *s3.Backend
	served  chan error
	url     string
}

// startS3 serves the drives of s over S3 on o.S3.Listen, with the same
// server limits as WebDAV, metrics under protocol "s3" and per operation,
// and object metadata kept under the client home.
func startS3(g *Globals, o ServeOptions, s *clientStack, m *webdav.Metrics, reg prometheus.Registerer) (*s3Server, error) {
	meta, err := s3.NewDirMeta(filepath.Join(g.Home, "s3", "meta"))
	if err != nil {
		return nil, err
	}
	cfg := s3.DefaultConfig()
	cfg.TempDir, cfg.MaxTempBytes = o.S3.TempDir, o.S3.MaxTemp
	if cfg.TempDir == "" {
		cfg.TempDir = filepath.Join(g.Home, "s3", "parts")
	}
	b, err := s3.NewBackend(s.FS, meta, cfg, nil)
	if err != nil {
		return nil, err
	}
	ops, err := s3.NewMetrics(reg)
	if err != nil {
		b.Close()
		return nil, core.E("serve", core.Internal, err)
	}
	var creds *s3.Credentials
	if o.S3.AccessKey != "" {
		creds = &s3.Credentials{AccessKey: o.S3.AccessKey, SecretKey: o.S3.SecretKey}
	}
	l, err := net.Listen("tcp", o.S3.Listen)
	if err != nil {
		b.Close()
		return nil, core.E("serve", core.Unavailable, err)
	}
	h := m.Wrap("s3", webdav.ProgressDeadlines(s3.NewHandler(b, creds, ops), o.BodyIdleTimeout, o.BodyIdleTimeout))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: o.ReadHeaderTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: o.MaxHeaderBytes}
	x := &s3Server{srv: srv, backend: b, served: make(chan error, 1), url: "http://" + l.Addr().String()}
	go func() { x.served <- srv.Serve(netutil.LimitListener(l, o.MaxConns)) }()
	return x, nil
}

// shutdown lets requests in flight finish (up to ctx), then removes the
// parts of uploads left unfinished.
func (x *s3Server) shutdown(ctx context.Context) error {
	if x == nil {
		return nil
	}
	err := x.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		x.srv.Close()
	}
	<-x.served
	return errors.Join(err, x.backend.Close())
}
