package cli

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/gateway/ui"
)

// dashboard is the live web view (gateway/ui) that `cairn serve` and
// `cairn dev` serve at /ui/ with its JSON at /api/: its server, wired to
// the client stack, and the goroutine that keeps it fresh.
type dashboard struct {
	srv    *ui.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// startDashboard wires the dashboard to the stack's chain client and
// Checkpoint Manager and starts keeping it fresh (one refresh per block).
// Stop ends it.
func startDashboard(ctx context.Context, s *clientStack, log *slog.Logger) (*dashboard, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src := ui.Sources{Owner: s.Key.Account(), Drives: s.Chain, Buckets: s.Chain, Chain: s.Chain, Blocks: s.Chain,
		Probe: s.Mgr, Status: s.Mgr, Events: s.Mgr}
	srv, err := ui.New(src, ui.DefaultConfig(), log)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	d := &dashboard{srv: srv, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		if err := srv.Run(rctx); err != nil {
			log.Warn("dashboard stopped updating", "op", "ui.Run", "err", err)
		}
	}()
	return d, nil
}

// Mount registers /ui/ and /api/ on mux.
func (d *dashboard) Mount(mux *http.ServeMux) { d.srv.Mount(mux) }

// Stop ends the event streams and the refreshing, and waits for them.
func (d *dashboard) Stop() {
	d.srv.Close()
	d.cancel()
	<-d.done
}

// dashboardURL is the page's URL on a server at addr (host:port).
func dashboardURL(addr string) string { return "http://" + addr + "/ui/" }

// devDashboard is the dashboard `cairn dev` serves on a listener of its
// own, as the signer, against the network it runs.
type devDashboard struct {
	URL   string
	stack *clientStack
	dash  *dashboard
	srv   *http.Server
	done  chan struct{}
}

// startDevDashboard serves the dashboard of the signer's drives on the
// chain at chainURL, on listen (a loopback address: the dev network has no
// credentials to ask for). Its client state (health records) lives under
// home, apart from the CLI's, so the two processes never write one file.
func startDevDashboard(ctx context.Context, g *Globals, listen, chainURL, home string) (*devDashboard, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || !isLoopback(host) {
		return nil, usagef("--ui %q: give a loopback HOST:PORT (or \"\" for none)", listen)
	}
	stack, err := newClientStack(ctx, clientOptions{Chain: chainURL, Signer: g.Signer, Home: home})
	if err != nil {
		return nil, err
	}
	dash, err := startDashboard(ctx, stack, nil)
	if err != nil {
		stack.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		dash.Stop()
		stack.Close()
		return nil, core.E("dev", core.Unavailable, err)
	}
	mux := http.NewServeMux()
	dash.Mount(mux)
	d := &devDashboard{URL: dashboardURL(l.Addr().String()), stack: stack, dash: dash, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}}
	d.srv.RegisterOnShutdown(dash.srv.Close)
	go func() {
		defer close(d.done)
		d.srv.Serve(netutil.LimitListener(l, 64))
	}()
	return d, nil
}

// Stop stops serving, the dashboard and its client stack.
func (d *devDashboard) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	<-d.done
	d.dash.Stop()
	return errors.Join(err, d.stack.Close())
}

// url is the page's URL, or "" without a dashboard.
func (d *devDashboard) url() string {
	if d == nil {
		return ""
	}
	return d.URL
}
