package devnet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
	"github.com/cairn-storage/cairn/provider/store"
)

// inproc is a provider served from this process: a real HTTP server on a
// loopback port over a real Pebble store.
type inproc struct {
	srv  *provider.Server
	st   store.Store
	cc   *chainclient.Client
	l    net.Listener
	url  string
	done chan struct{}
}

// ProviderConfig is the provider configuration devnet uses: the defaults
// with faster sync and challenge polling, as a local network wants.
func ProviderConfig() provider.Config {
	c := provider.DefaultConfig()
	c.SyncInterval = 1e9
	c.DiscoveryInterval = 2e9
	c.ChallengePollInterval = 1e9
	return c
}

func (n *Network) startInProcess(ctx context.Context, m *member) (runner, error) {
	st, err := store.OpenPebble(StoreDir(m.entry.DataDir), store.Options{})
	if err != nil {
		return nil, err
	}
	cc, err := chainclient.New(n.node.RPCURL())
	if err != nil {
		st.Close()
		return nil, err
	}
	srv, err := provider.New(ProviderConfig(), provider.Deps{Key: m.key, Store: st, Chain: cc, Logger: n.cfg.Logger.With("provider", m.entry.Name)})
	if err != nil {
		cc.Close()
		st.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", m.entry.Listen)
	if err != nil {
		srv.Close()
		cc.Close()
		st.Close()
		return nil, core.E("devnet", core.Unavailable, err)
	}
	p := &inproc{srv: srv, st: st, cc: cc, l: l, url: "http://" + l.Addr().String(), done: make(chan struct{})}
	srv.Start()
	go func() {
		defer close(p.done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.cfg.Logger.Warn("provider stopped serving", "provider", m.entry.Name, "err", err)
		}
	}()
	return p, nil
}

func (p *inproc) URL() string           { return p.url }
func (p *inproc) PID() int              { return os.Getpid() }
func (p *inproc) Done() <-chan struct{} { return p.done }

func (p *inproc) Stop() error {
	err := p.srv.Close()
	<-p.done
	p.cc.Close()
	return errors.Join(err, p.st.Close())
}

// Kill stops serving at once. In-process there is no SIGKILL; the store is
// closed like a stop, since every acknowledged write is already synced.
func (p *inproc) Kill() error { return p.Stop() }

func (p *inproc) Signal(os.Signal) error {
	return core.Errorf("devnet", core.Invalid, "signals need --processes")
}
