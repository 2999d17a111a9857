package provider

import (
	"log/slog"
	"net/http"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/store"
)

// Config holds the provider's settings.
type Config struct {
	// Version is reported by /health.
	Version string
	// MaxBlobSize is the largest write body accepted (default 1 MiB). A blob
	// must fit into a challenge answer on chain, so at most MaxBlobLimit.
	MaxBlobSize uint64
	// ChainCacheTTL is how long chain state read for authorisation and
	// replication (buckets, members, agreements, providers) is reused.
	ChainCacheTTL time.Duration
	// SyncInterval is how often every bucket is compared with its other
	// providers and missing leaves are pulled.
	SyncInterval time.Duration
	// DiscoveryInterval is how often the chain is asked for this
	// provider's agreements (events are watched in between).
	DiscoveryInterval time.Duration
	// ChallengePollInterval is how often open challenges are listed (the
	// challenge.opened event is only a hint).
	ChallengePollInterval time.Duration
	// PeerTimeout bounds each request to another provider.
	PeerTimeout time.Duration
	// BodyTimeout bounds how long a write's body may take to arrive.
	BodyTimeout time.Duration
	// SyncPage is how many leaves one GET /leaves asks a peer for.
	SyncPage int
	// ReadHeaderTimeout and IdleTimeout configure Serve's HTTP server.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxConns bounds the connections Serve holds open at once; more wait
	// in the listen queue.
	MaxConns int
	// RequestTimeout bounds the routes that answer without streaming
	// (health, commitment, leaves, proofs, metrics): their context is
	// cancelled and their write deadline set after it. Writes are bounded
	// by BodyTimeout, blob answers too.
	RequestTimeout time.Duration
	// ChainCacheSize bounds the buckets and providers the chain cache
	// keeps (least recently used go first).
	ChainCacheSize int
}

// MaxBlobLimit is the largest MaxBlobSize: a challenge answer carries the
// whole blob, base64 in JSON, inside one chain transaction.
const MaxBlobLimit = chainwire.MaxTxBytes*3/4 - 64<<10

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Version:               "dev",
		MaxBlobSize:           1 << 20,
		ChainCacheTTL:         3 * time.Second,
		SyncInterval:          5 * time.Second,
		DiscoveryInterval:     30 * time.Second,
		ChallengePollInterval: 2 * time.Second,
		PeerTimeout:           30 * time.Second,
		BodyTimeout:           time.Minute,
		SyncPage:              1000,
		ReadHeaderTimeout:     10 * time.Second,
		IdleTimeout:           2 * time.Minute,
		MaxHeaderBytes:        64 << 10,
		MaxConns:              1024,
		RequestTimeout:        30 * time.Second,
		ChainCacheSize:        4096,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	const op = "provider.Config"
	switch {
	case c.MaxBlobSize == 0 || c.MaxBlobSize > MaxBlobLimit:
		return core.Errorf(op, core.Invalid, "max blob size must be 1..%d bytes, got %d", MaxBlobLimit, c.MaxBlobSize)
	case c.ChainCacheTTL < 0:
		return core.Errorf(op, core.Invalid, "negative chain cache TTL")
	case c.SyncInterval <= 0 || c.DiscoveryInterval <= 0 || c.ChallengePollInterval <= 0:
		return core.Errorf(op, core.Invalid, "sync, discovery and challenge intervals must be positive")
	case c.PeerTimeout <= 0 || c.BodyTimeout <= 0:
		return core.Errorf(op, core.Invalid, "peer and body timeouts must be positive")
	case c.SyncPage < 1 || c.SyncPage > 10000:
		return core.Errorf(op, core.Invalid, "sync page must be 1..10000 leaves, got %d", c.SyncPage)
	case c.ReadHeaderTimeout <= 0 || c.IdleTimeout <= 0 || c.RequestTimeout <= 0:
		return core.Errorf(op, core.Invalid, "read header, idle and request timeouts must be positive")
	case c.MaxHeaderBytes <= 0 || c.MaxConns <= 0:
		return core.Errorf(op, core.Invalid, "header size and connection limits must be positive")
	case c.ChainCacheSize <= 0:
		return core.Errorf(op, core.Invalid, "chain cache size must be positive")
	}
	return nil
}

// Deps are the provider's collaborators.
type Deps struct {
	// Key is the provider's key: its public half is the provider's chain
	// account, it signs commitments, challenge answers and blob reads from
	// peers.
	Key   core.PrivateKey
	Store store.Store // owned by the caller: Close does not close it
	Chain Chain
	// HTTPClient talks to peers (http.DefaultClient if nil).
	HTTPClient *http.Client
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // nil: time.Now
}
