package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// ServeOptions are `cairn serve`'s flags.
type ServeOptions struct {
	Listen   string
	User     string
	Password string
	// Limits of the HTTP server; none may be 0.
	MaxConns          int
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	BodyIdleTimeout   time.Duration // a request body or response that moves no byte for this long is cut off
	ShutdownTimeout   time.Duration // how long a stop waits for requests in flight
	S3                S3Options     // serve_s3.go
}

func (o *ServeOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "HOST:PORT to serve on (a non-loopback address needs --user and --password)")
	// The environment is read when the command runs (credentialsFromEnv),
	// not as the flags' defaults, so --help never prints a password.
	f.StringVar(&o.User, "user", "", "HTTP basic auth user (env CAIRN_DAV_USER)")
	f.StringVar(&o.Password, "password", "", "HTTP basic auth password (env CAIRN_DAV_PASSWORD)")
	f.IntVar(&o.MaxConns, "max-conns", 256, "connections served at once (more wait)")
	f.IntVar(&o.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request header")
	f.DurationVar(&o.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time allowed to read a request's headers")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", 2*time.Minute, "how long a keep-alive connection may wait for its next request")
	f.DurationVar(&o.BodyIdleTimeout, "body-idle-timeout", time.Minute, "how long a request body or a response may stall")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 5*time.Minute, "how long a stop waits for uploads in flight")
	o.S3.addFlags(f)
}

func newServeCmd(g *Globals) *cobra.Command {
	var o ServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the signer's drives over WebDAV and S3, with a dashboard and Prometheus metrics",
		Long: `Serve every drive of the signer over WebDAV at /dav/<drive>/ (by name or
id), a live dashboard of its drives, providers, checkpoints and risks at /ui/
(its JSON under /api/, docs/dashboard.md) and the client's Prometheus metrics
at /metrics, until SIGINT or SIGTERM.
Point a file manager, rclone (webdav backend) or any WebDAV client at the
printed URL. Writes go through the drive client: each file is acknowledged
once a quorum of providers holds it, and checkpoints follow the drive's commit
strategy (immediate: after each change; batched: this process runs the
drive's checkpoint loop; manual: 'cairn commit'). A stop lets uploads in
flight finish and commits a batched drive's pending changes.

Listening on an address other than loopback needs credentials: --user and
--password, or CAIRN_DAV_USER and CAIRN_DAV_PASSWORD; every request then
needs HTTP basic auth (use TLS in front of it beyond a trusted network).

With --s3 HOST:PORT the drives are also S3 buckets on that address
(path-style, http://HOST:PORT/<drive>/<key>), for aws, rclone (s3 backend)
and the S3 SDKs. Requests must be signed (Signature V4) with
--s3-access-key and --s3-secret-key (or CAIRN_S3_ACCESS_KEY and
CAIRN_S3_SECRET_KEY) when set; an address other than loopback needs them.` + exitStatusHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.credentialsFromEnv(os.Getenv)
			return runServe(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// credentialsFromEnv fills the credentials not given as flags from
// CAIRN_DAV_USER and CAIRN_DAV_PASSWORD.
func (o *ServeOptions) credentialsFromEnv(getenv func(string) string) {
	if o.User == "" {
		o.User = getenv("CAIRN_DAV_USER")
	}
	if o.Password == "" {
		o.Password = getenv("CAIRN_DAV_PASSWORD")
	}
	o.S3.fromEnv(getenv)
}

// Validate refuses zero limits, half a credential, and a non-loopback
// address without credentials.
func (o ServeOptions) Validate() error {
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return usagef("--listen %q: %v", o.Listen, err)
	}
	switch {
	case o.MaxConns <= 0 || o.MaxHeaderBytes <= 0:
		return usagef("--max-conns and --max-header-bytes must be positive")
	case o.ReadHeaderTimeout <= 0 || o.IdleTimeout <= 0 || o.BodyIdleTimeout <= 0 || o.ShutdownTimeout <= 0:
		return usagef("--read-header-timeout, --idle-timeout, --body-idle-timeout and --shutdown-timeout must be positive")
	case (o.User == "") != (o.Password == ""):
		return usagef("give both --user and --password (or CAIRN_DAV_USER and CAIRN_DAV_PASSWORD), or neither")
	case o.User == "" && !isLoopback(host):
		return usagef("--listen %s is not a loopback address: set --user and --password (or CAIRN_DAV_USER and CAIRN_DAV_PASSWORD) to serve beyond this machine", o.Listen)
	}
	return o.S3.validate()
}

// isLoopback reports whether host names only this machine ("" and
// 0.0.0.0 name every interface).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveReady is the one line `cairn serve` prints once it serves.
type serveReady struct {
	Listen  string            `json:"listen"`
	WebDAV  map[string]string `json:"webdav"` // drive name (or id) -> URL
	Metrics string            `json:"metrics"`
	UI      string            `json:"ui"` // the dashboard
	Auth    bool              `json:"auth"`
	S3      string            `json:"s3,omitempty"` // the S3 endpoint (path-style), when served
	S3Auth  bool              `json:"s3_auth,omitempty"`
}

func runServe(ctx context.Context, g *Globals, o ServeOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	s, metrics, drives, err := openServe(ctx, g, reg)
	if err != nil {
		return err
	}
	dash, err := startDashboard(ctx, s, nil)
	if err != nil {
		return err
	}
	defer dash.Stop()
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return core.E("serve", core.Unavailable, err)
	}
	srv := &http.Server{
		Handler:           serveHandler(o, webdav.NewHandler(s.FS, nil), metrics, reg, dash.Mount),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
	}
	srv.RegisterOnShutdown(dash.srv.Close) // event streams never go idle by themselves
	var s3srv *s3Server
	if o.S3.Listen != "" {
		if s3srv, err = startS3(g, o, s, metrics, reg); err != nil {
			l.Close()
			return err
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(netutil.LimitListener(l, o.MaxConns)) }()

	printServeReady(g, o, l.Addr().String(), s3srv, drives)
	var s3served chan error
	if s3srv != nil {
		s3served = s3srv.served
	}
	var serveErr error
	select { // until a stop, or a server fails (its error is put back for the stop's wait)
	case <-ctx.Done():
	case err := <-served:
		served <- err
		serveErr = core.E("serve", core.Unavailable, err)
	case err := <-s3served:
		s3served <- err
		serveErr = core.E("serve", core.Unavailable, err)
	}
	// Stop taking requests, let those in flight (uploads) finish.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	s3Done := make(chan error, 1)
	go func() { s3Done <- s3srv.shutdown(sctx) }()
	shutErr := srv.Shutdown(sctx)
	if errors.Is(shutErr, context.DeadlineExceeded) {
		srv.Close()
	}
	<-served
	if serveErr != nil {
		return errors.Join(serveErr, <-s3Done)
	}
	return errors.Join(shutErr, <-s3Done, commitBatched(sctx, g, s, drives))
}

// openServe builds the client stack and the WebDAV metrics on reg, lists
// the signer's drives and starts the checkpoint loop of each batched one.
func openServe(ctx context.Context, g *Globals, reg *prometheus.Registry) (*clientStack, *webdav.Metrics, []wire.Drive, error) {
	s, err := g.openStack(ctx, nil, reg)
	if err != nil {
		return nil, nil, nil, err
	}
	metrics, err := webdav.NewMetrics(reg)
	if err != nil {
		return nil, nil, nil, core.E("serve", core.Internal, err)
	}
	drives, err := s.FS.ListDrives(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, d := range drives {
		if d.Strategy.Kind == wire.StrategyBatched {
			if err := s.enableAutoCheckpoints(ctx, d.ID.String(), s.Chain, 0); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return s, metrics, drives, nil
}

// serveHandler routes /dav/ to WebDAV, /metrics to Prometheus and what
// mount registers (the dashboard's /ui/ and /api/), behind basic auth when
// credentials are set.
func serveHandler(o ServeOptions, dav http.Handler, m *webdav.Metrics, reg *prometheus.Registry, mount ...func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	for _, f := range mount {
		f(mux)
	}
	dav = m.Wrap("webdav", webdav.ProgressDeadlines(dav, o.BodyIdleTimeout, o.BodyIdleTimeout))
	// WebDAV paths bypass the mux, which would clean ".." and redirect
	// instead of refusing them.
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, webdav.Prefix) {
			dav.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	if o.User != "" {
		h = webdav.BasicAuth(h, "cairn", o.User, o.Password)
	}
	return h
}

func printServeReady(g *Globals, o ServeOptions, addr string, s3srv *s3Server, drives []wire.Drive) {
	base := "http://" + addr
	r := serveReady{Listen: addr, WebDAV: map[string]string{}, Metrics: base + "/metrics", UI: dashboardURL(addr), Auth: o.User != ""}
	if s3srv != nil {
		r.S3, r.S3Auth = s3srv.url, o.S3.AccessKey != ""
	}
	var urls []string
	for _, d := range drives {
		name := d.Name
		if name == "" {
			name = d.ID.String()
		}
		u := base + webdav.Prefix + url.PathEscape(name) + "/"
		r.WebDAV[name] = u
		urls = append(urls, u)
	}
	if g.JSON {
		writeJSONLine(g.Stdout, r)
		return
	}
	if len(urls) == 0 {
		urls = []string{base + webdav.Prefix + "<drive>/ (no drives yet)"}
	}
	if r.S3 != "" {
		urls = append(urls, "s3", r.S3)
	}
	fmt.Fprintf(g.Stdout, "serving webdav %s metrics %s ui %s\n", strings.Join(urls, " "), r.Metrics, r.UI)
}

// commitBatched checkpoints the batched drives' pending changes at a stop,
// as their loop would have; immediate drives are already checkpointed and
// manual ones wait for 'cairn commit'.
func commitBatched(ctx context.Context, g *Globals, s *clientStack, drives []wire.Drive) error {
	var errs []error
	for _, d := range drives {
		if d.Strategy.Kind != wire.StrategyBatched || !s.Mgr.IsDirty(d.Bucket) {
			continue
		}
		res, err := s.FS.CommitChanges(ctx, d.ID.String())
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("drive %s: committing pending changes: %w", d.Name, err))
			continue
		}
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "drive %s: committed pending changes\n", d.Name)
		}
	}
	return errors.Join(errs...)
}
