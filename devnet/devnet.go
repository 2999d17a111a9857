package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

// Config describes a network.
type Config struct {
	Dir       string
	Providers int  // default 3
	Processes bool // providers as child processes of Binary
	// Binary is the cairn executable for Processes (default: this one).
	Binary string
	// RPCListen is the chain's RPC address (default 127.0.0.1:26657;
	// tests use 127.0.0.1:0).
	RPCListen     string
	TimeoutCommit time.Duration // default 200 ms
	// Stake each provider puts up, and Fund each receives from the faucet
	// account to pay for it.
	Stake, Fund uint64
	// Faucet is the dev account that funds providers (default ferdie).
	Faucet string
	// ProviderEnv is extra environment for provider processes.
	ProviderEnv []string
	Logger      *slog.Logger
}

func (c *Config) fill() error {
	if c.Dir == "" {
		return core.Errorf("devnet", core.Invalid, "a directory is required")
	}
	// Absolute, so the restart commands in devnet.json work from anywhere.
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return core.E("devnet", core.Invalid, err)
	}
	c.Dir = abs
	if c.Providers == 0 {
		c.Providers = 3
	}
	if c.Providers < 0 || c.Providers > 64 {
		return core.Errorf("devnet", core.Invalid, "providers must be 1..64")
	}
	if c.RPCListen == "" {
		c.RPCListen = "127.0.0.1:26657"
	}
	if c.TimeoutCommit == 0 {
		c.TimeoutCommit = 200 * time.Millisecond
	}
	if c.Stake == 0 {
		c.Stake = 10_000_000
	}
	if c.Fund == 0 {
		c.Fund = 2 * c.Stake
	}
	if c.Faucet == "" {
		c.Faucet = "ferdie"
	}
	if c.Processes && c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return core.E("devnet", core.Internal, err)
		}
		c.Binary = exe
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Manifest is DIR/devnet.json.
type Manifest struct {
	ChainID   string          `json:"chain_id"`
	ChainRPC  string          `json:"chain_rpc"`
	ChainHome string          `json:"chain_home"`
	Providers []ProviderEntry `json:"providers"`
}

// ProviderEntry is one provider of the network.
type ProviderEntry struct {
	Name     string         `json:"name"`
	Account  core.AccountID `json:"account"`
	Endpoint string         `json:"endpoint"` // as registered on chain
	URL      string         `json:"url"`
	Listen   string         `json:"listen"`
	DataDir  string         `json:"data_dir"`
	KeyFile  string         `json:"key_file"`
	LogFile  string         `json:"log_file,omitempty"`
	PID      int            `json:"pid,omitempty"`
	// Command restarts this provider exactly (processes mode).
	Command []string `json:"command,omitempty"`
	Running bool     `json:"running"`
}

// Network is a running local network.
type Network struct {
	cfg   Config
	home  string
	node  *chainnode.Node
	chain *chainclient.Client

	mu        sync.Mutex
	providers []*member
}

// member is one provider and how it runs.
type member struct {
	entry ProviderEntry
	key   core.PrivateKey
	run   runner // nil while stopped
	// freshPort: the port was picked free for this run and is not
	// registered yet, so another may replace it.
	freshPort bool
}

// runner is a running provider, in-process or a child process.
type runner interface {
	URL() string
	PID() int
	Stop() error // graceful
	Kill() error // abrupt (SIGKILL for a process; close without flushing in-process)
	Signal(sig os.Signal) error
	Done() <-chan struct{}
}

// Start starts (or restarts, from cfg.Dir) a network and returns when the
// chain is producing blocks and every provider is registered and serving.
func Start(ctx context.Context, cfg Config) (_ *Network, err error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	n := &Network{cfg: cfg}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	home := filepath.Join(cfg.Dir, "chain")
	if !chainnode.IsHome(home) {
		nc := chainnode.DefaultNodeConfig()
		// A port picked once and kept: the chain restarts (StartChain, or
		// a new Start from the same directory) where providers and
		// clients expect it.
		rpc := cfg.RPCListen
		if host, port, err := net.SplitHostPort(rpc); err == nil && port == "0" {
			p, err := chainnode.FreePort(host)
			if err != nil {
				return nil, err
			}
			rpc = net.JoinHostPort(host, strconv.Itoa(p))
		}
		nc.RPCListen, nc.P2PListen = rpc, "127.0.0.1:0"
		nc.TimeoutCommit = chainnode.Duration(cfg.TimeoutCommit)
		if err := chainnode.Init(home, chainnode.InitOptions{Node: nc}); err != nil {
			return nil, err
		}
	}
	n.home = home
	if err := n.StartChain(ctx); err != nil {
		return nil, err
	}
	n.chain, err = chainclient.New(n.node.RPCURL())
	if err != nil {
		return nil, err
	}
	prev, _ := ReadManifest(cfg.Dir)
	for i := 0; i < cfg.Providers; i++ {
		m, err := n.prepare(i, prev)
		if err != nil {
			return nil, err
		}
		n.providers = append(n.providers, m)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(n.providers))
	for i := range n.providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.StartProvider(ctx, i)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return n, n.writeManifest()
}

// prepare lays out provider i's directory and key, reusing its port from
// an earlier run so its registered endpoint stays valid.
func (n *Network) prepare(i int, prev *Manifest) (*member, error) {
	name := "p" + strconv.Itoa(i)
	dir := filepath.Join(n.cfg.Dir, "providers", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, core.E("devnet", core.Internal, err)
	}
	keyFile := filepath.Join(dir, "provider.key")
	key, err := core.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	e := ProviderEntry{Name: name, Account: key.Account(), DataDir: dir, KeyFile: keyFile}
	if prev != nil && i < len(prev.Providers) && prev.Providers[i].Account == key.Account() {
		e.Listen = prev.Providers[i].Listen
	}
	m := &member{entry: e, key: key}
	if e.Listen != "" {
		m.listenOn(e.Listen)
		return m, nil
	}
	return m, m.pickPort()
}

// pickPort gives m a free loopback port.
func (m *member) pickPort() error {
	port, err := chainnode.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	m.listenOn("127.0.0.1:" + strconv.Itoa(port))
	m.freshPort = true
	return nil
}

func (m *member) listenOn(addr string) {
	m.entry.Listen = addr
	m.entry.URL = "http://" + addr
	m.entry.Endpoint = "/ip4/127.0.0.1/tcp/" + addr[len("127.0.0.1:"):] + "/http"
}

// StartProvider starts provider i (again) and makes sure it is registered
// with its endpoint.
func (n *Network) StartProvider(ctx context.Context, i int) error {
	n.mu.Lock()
	m := n.providers[i]
	running := m.run != nil
	n.mu.Unlock()
	if running {
		return nil
	}
	r, err := n.startRunner(ctx, m)
	// A port FreePort found free may be taken by another process before
	// the provider binds it: one that never came up on a port picked for
	// this run, not registered yet, gets another.
	for try := 1; err != nil && m.freshPort && try < 4 && ctx.Err() == nil; try++ {
		if err = m.pickPort(); err == nil {
			r, err = n.startRunner(ctx, m)
		}
	}
	if err != nil {
		return fmt.Errorf("provider %s: %w", m.entry.Name, err)
	}
	m.freshPort = false
	n.mu.Lock()
	m.run = r
	m.entry.PID = r.PID()
	m.entry.Running = true
	n.mu.Unlock()
	if err := n.register(ctx, m); err != nil {
		return fmt.Errorf("registering provider %s: %w", m.entry.Name, err)
	}
	return n.writeManifest()
}

// devTerms are the terms devnet providers publish: free and open, so a dev
// network's drives are made in one command.
func devTerms() wire.ProviderTerms { return wire.ProviderTerms{Accepting: true} }

func (n *Network) startRunner(ctx context.Context, m *member) (runner, error) {
	if n.cfg.Processes {
		return n.startProcess(ctx, m)
	}
	return n.startInProcess(ctx, m)
}

// register funds the provider's account from the faucet and registers it,
// or updates its endpoint if it is registered elsewhere.
func (n *Network) register(ctx context.Context, m *member) error {
	p, err := n.chain.Provider(ctx, m.entry.Account)
	switch {
	case err == nil && p.Endpoint == m.entry.Endpoint && p.Terms.Accepting:
		return nil
	case err == nil:
		// A new endpoint, or a registration from before terms existed:
		// publish the devnet's open terms with it.
		_, err = n.chain.Submit(ctx, m.key, &wire.UpdateProvider{Endpoint: m.entry.Endpoint, Capacity: p.Capacity, Terms: devTerms()})
		return err
	case core.KindOf(err) != core.NotFound:
		return err
	}
	faucet, ok := core.DevKey(n.cfg.Faucet)
	if !ok {
		return core.Errorf("devnet", core.Invalid, "faucet %q is not a dev account", n.cfg.Faucet)
	}
	if _, err := n.chain.Submit(ctx, faucet, &wire.Transfer{To: m.entry.Account, Amount: n.cfg.Fund}); err != nil {
		return err
	}
	_, err = n.chain.Submit(ctx, m.key, &wire.RegisterProvider{Endpoint: m.entry.Endpoint, Stake: n.cfg.Stake, Capacity: 1 << 40,
		Terms: devTerms()})
	return err
}

// StartChain starts the validator from its home (again, after StopChain)
// and waits for a block.
func (n *Network) StartChain(ctx context.Context) error {
	if n.node != nil {
		select {
		case <-n.node.Done():
		default:
			return nil // running
		}
	}
	node, err := chainnode.Start(chainnode.Config{Home: n.home, TimeoutCommit: n.cfg.TimeoutCommit, Logger: n.cfg.Logger})
	if err != nil {
		return err
	}
	n.node = node
	if err := node.WaitForHeight(ctx, node.Height()+1); err != nil {
		return core.E("devnet.StartChain", core.Unavailable, err)
	}
	return nil
}

// StopChain stops the validator; StartChain brings it back on the same
// RPC address with its state.
func (n *Network) StopChain() error { return n.node.Stop() }

// StopProvider stops provider i gracefully.
func (n *Network) StopProvider(i int) error { return n.halt(i, false) }

// KillProvider stops provider i abruptly: SIGKILL for a process.
func (n *Network) KillProvider(i int) error { return n.halt(i, true) }

func (n *Network) halt(i int, kill bool) error {
	n.mu.Lock()
	m := n.providers[i]
	r := m.run
	m.run = nil
	m.entry.Running, m.entry.PID = false, 0
	n.mu.Unlock()
	if r == nil {
		return nil
	}
	var err error
	if kill {
		err = r.Kill()
	} else {
		err = r.Stop()
	}
	<-r.Done()
	if werr := n.writeManifest(); err == nil {
		err = werr
	}
	return err
}

// SignalProvider sends sig to provider i's process (SIGSTOP/SIGCONT to
// hang and resume it).
func (n *Network) SignalProvider(i int, sig os.Signal) error {
	n.mu.Lock()
	r := n.providers[i].run
	n.mu.Unlock()
	if r == nil {
		return core.Errorf("devnet", core.Conflict, "provider %d is not running", i)
	}
	return r.Signal(sig)
}

// Stop stops every provider, then the chain.
func (n *Network) Stop() error {
	var errs []error
	for i := range n.providers {
		errs = append(errs, n.StopProvider(i))
	}
	if n.chain != nil {
		n.chain.Close()
	}
	if n.node != nil {
		errs = append(errs, n.node.Stop())
	}
	return errors.Join(errs...)
}

// ChainURL is the chain's RPC URL.
func (n *Network) ChainURL() string { return n.node.RPCURL() }

// ChainID is the chain's id.
func (n *Network) ChainID() string { return n.node.ChainID() }

// Chain is a client of the network's chain.
func (n *Network) Chain() *chainclient.Client { return n.chain }

// Node is the embedded validator.
func (n *Network) Node() *chainnode.Node { return n.node }

// ProviderKey is provider i's key (tests sign raw writes with it).
func (n *Network) ProviderKey(i int) core.PrivateKey { return n.providers[i].key }

// Manifest describes the network now.
func (n *Network) Manifest() Manifest {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := Manifest{ChainID: n.node.ChainID(), ChainRPC: n.node.RPCURL(), ChainHome: n.node.Home()}
	for _, p := range n.providers {
		m.Providers = append(m.Providers, p.entry)
	}
	return m
}

func (n *Network) writeManifest() error {
	b, err := json.MarshalIndent(n.Manifest(), "", "  ")
	if err != nil {
		return core.E("devnet", core.Internal, err)
	}
	return core.WriteFileAtomic(filepath.Join(n.cfg.Dir, "devnet.json"), append(b, '\n'), 0o644)
}

// ReadManifest reads DIR/devnet.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "devnet.json"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, core.E("devnet.ReadManifest", core.NotFound, err)
		}
		return nil, core.E("devnet.ReadManifest", core.Internal, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, core.E("devnet.ReadManifest", core.Corrupt, err)
	}
	return &m, nil
}
