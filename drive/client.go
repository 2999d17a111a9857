package drive

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

// Chain is what the file system needs of the chain; *chainclient.Client
// fits.
type Chain interface {
	ChainID(ctx context.Context) (string, error)
	Submit(ctx context.Context, signer core.PrivateKey, call wire.Call) (*wire.TxResult, error)
	Drive(ctx context.Context, id core.DriveID) (wire.Drive, error)
	DrivesByOwner(ctx context.Context, owner core.AccountID) ([]wire.Drive, error)
	Providers(ctx context.Context) ([]wire.Provider, error)
	Bucket(ctx context.Context, id core.BucketID) (wire.Bucket, error)
	// BucketAgreements gives the agreements' max bytes (the quota).
	BucketAgreements(ctx context.Context, id core.BucketID) ([]wire.Agreement, error)
}

// Config holds the file system's settings.
type Config struct {
	ChunkSize    int           // bytes per chunk blob (default 256 KiB)
	WriteTimeout time.Duration // one blob write to one provider
	ReadTimeout  time.Duration // one blob read from one provider, before trying the next
	// FirstByteTimeout is how long a provider may take to start answering
	// a read before the next one is tried.
	FirstByteTimeout time.Duration
	WriteWindow      int // chunks in flight per upload (memory: ~ window x chunk size)
	// An upload, and the search for the next seq, wait for providers
	// behind the quorum GraceFraction of the time the quorum took, at
	// least GraceFloor and at most FinishGrace, before leaving them to
	// sync (grace.go).
	FinishGrace   time.Duration
	GraceFloor    time.Duration
	GraceFraction float64
	// DownloadWindow is how many chunks a download fetches at once, spread
	// over the providers (memory: ~ window x chunk size).
	DownloadWindow int
	ProviderCount  int // primaries chosen for a new drive when none are named
	// SubmitImmediate lets an Immediate drive checkpoint after each write
	// (the CLI sets it from the manager's AutoSubmit).
	SubmitImmediate bool
	// LockDir holds the per-bucket writer lock files that let processes
	// on this machine write one drive in turn (writers.go); "" takes
	// turns within this process only.
	LockDir string
	// LargeChunkSize is the chunk size of files of LargeFileSize bytes or
	// more (defaults 1 MiB and 8 MiB): fewer, larger requests (chunk.go).
	LargeChunkSize int
	LargeFileSize  int64
	// WriteWindowBytes bounds in bytes what WriteWindow bounds in chunks
	// (default 4 MiB): the writes in flight, and those queued for each
	// provider. An upload's memory is about twice it, whatever the chunk
	// size. DownloadWindowBytes does the same for DownloadWindow (default
	// 8 MiB; at least one chunk is fetched).
	WriteWindowBytes    int64
	DownloadWindowBytes int64
	// WritesPerProvider is how many writes an upload keeps in flight to
	// one provider (default 2): the provider commits them as one group.
	WritesPerProvider int
	// Defaults for CreateDrive.
	Capacity uint64 // bytes (agreement max bytes)
	Duration int64  // blocks
	Payment  uint64 // per provider
}

// DefaultConfig: 256 KiB chunks (1 MiB from 8 MiB files on), 30 s writes,
// 8 chunks and 4 MiB in flight, a grace of a quarter of the quorum's time
// between 200 ms and 1 s, 8 chunks and 8 MiB fetched at once, 3 providers,
// 1 GiB for 1,000,000 blocks, 1000 units per provider.
func DefaultConfig() Config {
	return Config{ChunkSize: 256 << 10, LargeChunkSize: 1 << 20, LargeFileSize: 8 << 20, WriteWindowBytes: 4 << 20, DownloadWindowBytes: 8 << 20, WritesPerProvider: 2, WriteTimeout: 30 * time.Second, ReadTimeout: 30 * time.Second, FirstByteTimeout: 2 * time.Second, WriteWindow: 8, FinishGrace: time.Second, GraceFloor: 200 * time.Millisecond, GraceFraction: 0.25, DownloadWindow: 8, ProviderCount: 3, SubmitImmediate: true,
		Capacity: 1 << 30, Duration: 1_000_000, Payment: 1_000}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	if c.ChunkSize < 1024 || c.ChunkSize > 1<<20 || c.LargeChunkSize < c.ChunkSize || c.LargeChunkSize > 1<<20 || c.LargeFileSize < 0 || c.WriteWindowBytes < 1 || c.DownloadWindowBytes < 1 || c.WritesPerProvider < 1 || c.WriteWindow < 1 || c.WriteTimeout <= 0 || c.ReadTimeout <= 0 || c.FirstByteTimeout <= 0 || c.ProviderCount < 1 ||
		c.DownloadWindow < 1 || c.GraceFloor < 0 || c.FinishGrace < c.GraceFloor || c.GraceFraction < 0 || c.GraceFraction > 10 {
		return core.Errorf("drive.Config", core.Invalid, "chunk sizes must be 1 KiB..1 MiB (the large one at least the other, from a file size of 0 or more), windows, timeouts and provider count positive, and 0 <= GraceFloor <= FinishGrace with a GraceFraction of 0..10")
	}
	return nil
}

// Client is the FileSystemClient.
type Client struct {
	chain  Chain
	dial   StorageDialer
	pool   *providers.Pool
	cp     Checkpointer
	signer core.PrivateKey
	cfg    Config
	log    *slog.Logger

	mu      sync.Mutex
	nextSeq map[core.BucketID]uint64
	room    map[core.BucketID]uint64        // bytes a quorum can still take, beside nextSeq
	nodes   map[string][]byte               // immutable blobs by CID, bounded
	writers map[core.BucketID]chan struct{} // one writer of a bucket at a time in this process (writers.go)
	stores  map[string]Storage
	names   driveNames     // drive name -> id, from the last listing (names.go)
	probes  sync.WaitGroup // background probes of unresponsive providers (seq.go)
}

// New builds a client that finds the buckets' providers, and keeps their
// health, in pool (shared with the Checkpoint Manager), reaches them
// through dial, and records and requests checkpoints through cp, which must
// sign with the same account.
func New(chain Chain, pool *providers.Pool, dial StorageDialer, cp Checkpointer, signer core.PrivateKey, cfg Config, log *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if chain == nil || pool == nil || dial == nil || cp == nil {
		return nil, core.Errorf("drive.New", core.Invalid, "chain, pool, dialer and checkpointer are required")
	}
	return &Client{chain: chain, pool: pool, dial: dial, cp: cp, signer: signer, cfg: cfg, log: log,
		nextSeq: map[core.BucketID]uint64{}, room: map[core.BucketID]uint64{}, nodes: map[string][]byte{}, writers: map[core.BucketID]chan struct{}{},
		stores: map[string]Storage{}}, nil
}

// Account is the signing account.
func (c *Client) Account() core.AccountID { return c.signer.Account() }

// CreateDriveOptions are CreateDrive's arguments; zero values take the
// Config defaults.
type CreateDriveOptions struct {
	Name      string
	Capacity  uint64
	Duration  int64
	Payment   uint64
	Providers []core.AccountID // nil: chosen from the registered providers
	Quorum    uint32           // 0: ceil(51 % of providers)
	Strategy  wire.CommitStrategy
}

// DriveInfo describes a drive.
type DriveInfo struct {
	wire.Drive
	Providers []core.AccountID `json:"providers"`
	Quorum    uint32           `json:"quorum"`
	// PendingRoot is the root not yet checkpointed, if any.
	PendingRoot string `json:"pending_root,omitempty"`
}

// CreateDrive creates a drive (bucket, agreements and drive record, in one
// transaction) and returns it.
func (c *Client) CreateDrive(ctx context.Context, o CreateDriveOptions) (DriveInfo, error) {
	const op = "drive.CreateDrive"
	if err := checkName(o.Name); err != nil || o.Name == "" {
		return DriveInfo{}, core.Errorf(op, core.Invalid, "drive name %q: %v", o.Name, err)
	}
	if _, err := strconv.ParseUint(o.Name, 10, 64); err == nil {
		return DriveInfo{}, core.Errorf(op, core.Invalid, "drive name %q would be mistaken for a drive id", o.Name)
	}
	if existing, err := c.ListDrives(ctx); err == nil {
		for _, d := range existing {
			if d.Name == o.Name {
				return DriveInfo{}, core.Errorf(op, core.Exists, "you already have a drive named %q (id %s)", o.Name, d.ID)
			}
		}
	}
	if o.Strategy.Kind == "" {
		o.Strategy = wire.CommitStrategy{Kind: wire.StrategyImmediate}
	}
	if !o.Strategy.Valid() {
		return DriveInfo{}, core.Errorf(op, core.Invalid, "bad commit strategy %+v", o.Strategy)
	}
	if o.Capacity == 0 {
		o.Capacity = c.cfg.Capacity
	}
	if o.Duration == 0 {
		o.Duration = c.cfg.Duration
	}
	if o.Payment == 0 {
		o.Payment = c.cfg.Payment
	}
	if len(o.Providers) == 0 {
		ps, err := c.chain.Providers(ctx)
		if err != nil {
			return DriveInfo{}, core.E(op, core.KindOf(err), err)
		}
		if len(ps) == 0 {
			return DriveInfo{}, core.Errorf(op, core.NotFound, "no storage provider is registered on this chain")
		}
		sort.Slice(ps, func(i, j int) bool {
			return ps[i].Stake > ps[j].Stake || (ps[i].Stake == ps[j].Stake && ps[i].RegisteredHeight < ps[j].RegisteredHeight)
		})
		for _, p := range ps[:min(len(ps), c.cfg.ProviderCount)] {
			o.Providers = append(o.Providers, p.Account)
		}
	}
	tx, err := c.chain.Submit(ctx, c.signer, &wire.CreateDrive{Name: o.Name, Providers: o.Providers, Quorum: o.Quorum,
		MaxBytes: o.Capacity, Duration: o.Duration, Payment: o.Payment, Strategy: o.Strategy})
	if err != nil {
		return DriveInfo{}, core.E(op, core.KindOf(err), err)
	}
	id := core.DriveID(eventID(tx, wire.EventDriveCreated, "drive", "id"))
	if id == 0 {
		return DriveInfo{}, core.Errorf(op, core.Internal, "drive created but its id is not in the transaction's events")
	}
	return c.DriveInfo(ctx, id.String())
}

func eventID(tx *wire.TxResult, typ string, keys ...string) uint64 {
	for _, e := range tx.Events {
		if e.Type != typ {
			continue
		}
		for _, k := range keys {
			if n, err := strconv.ParseUint(e.Attributes[k], 10, 64); err == nil {
				return n
			}
		}
	}
	return 0
}

// ListDrives lists the signer's drives.
func (c *Client) ListDrives(ctx context.Context) ([]wire.Drive, error) {
	ds, err := c.chain.DrivesByOwner(ctx, c.signer.Account())
	if err != nil {
		return nil, core.E("drive.ListDrives", core.KindOf(err), err)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
	c.names.learn(ds)
	return ds, nil
}

// ResolveDrive finds a drive by decimal id or by name (the signer's drives).
// A name is looked up by the id it had at the last listing, checked
// against the drive's record, so only the first resolution, or one of a
// name whose drive went away, lists all the signer's drives.
func (c *Client) ResolveDrive(ctx context.Context, ref string) (wire.Drive, error) {
	const op = "drive.ResolveDrive"
	if id, err := core.ParseDriveID(ref); err == nil {
		d, err := c.chain.Drive(ctx, id)
		if err != nil {
			return d, core.E(op, core.KindOf(err), err)
		}
		return d, nil
	}
	if id, ok := c.names.lookup(ref); ok {
		d, err := c.chain.Drive(ctx, id)
		switch {
		case err == nil && d.Owner == c.signer.Account() && d.Name == ref:
			return d, nil
		case err != nil && core.KindOf(err) != core.NotFound:
			return d, core.E(op, core.KindOf(err), err)
		}
		c.names.forget(ref) // deleted, or not this drive any more: list
	}
	ds, err := c.ListDrives(ctx)
	if err != nil {
		return wire.Drive{}, err
	}
	for _, d := range ds {
		if d.Name == ref {
			return d, nil
		}
	}
	return wire.Drive{}, core.Errorf(op, core.NotFound, "no drive %q (drives are named by id or by the name you gave them)", ref)
}

// DriveInfo describes a drive: its record, primaries, quorum and pending root.
func (c *Client) DriveInfo(ctx context.Context, ref string) (DriveInfo, error) {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return DriveInfo{}, err
	}
	info := DriveInfo{Drive: d}
	if b, err := c.chain.Bucket(ctx, d.Bucket); err == nil {
		info.Quorum = b.Quorum
	}
	if ps, err := c.pool.Providers(ctx, d.Bucket); err == nil {
		for _, p := range ps {
			info.Providers = append(info.Providers, p.Account)
		}
	}
	if pr, ok := c.cp.PendingRootOf(d.Bucket); ok && pr.Drive == d.ID {
		info.PendingRoot = pr.RootCID
	}
	return info, nil
}

// DeleteDrive deletes the drive record on chain.
func (c *Client) DeleteDrive(ctx context.Context, ref string) error {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return err
	}
	if d.Owner != c.signer.Account() {
		return core.Errorf("drive.DeleteDrive", core.Unauthorized, "drive %s belongs to %s", d.ID, d.Owner.Short())
	}
	if _, err := c.chain.Submit(ctx, c.signer, &wire.DeleteDrive{Drive: d.ID}); err != nil {
		return core.E("drive.DeleteDrive", core.KindOf(err), err)
	}
	return nil
}

// SetCommitStrategy changes the drive's strategy on chain.
func (c *Client) SetCommitStrategy(ctx context.Context, ref string, s wire.CommitStrategy) error {
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return err
	}
	if _, err := c.chain.Submit(ctx, c.signer, &wire.SetCommitStrategy{Drive: d.ID, Strategy: s}); err != nil {
		return core.E("drive.SetCommitStrategy", core.KindOf(err), err)
	}
	return nil
}

// ParseStrategy reads "immediate", "manual" or "batched:BLOCKS".
func ParseStrategy(s string) (wire.CommitStrategy, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch {
	case kind == wire.StrategyImmediate && !hasArg, kind == wire.StrategyManual && !hasArg:
		return wire.CommitStrategy{Kind: kind}, nil
	case kind == wire.StrategyBatched:
		n, err := strconv.ParseUint(arg, 10, 64)
		if err == nil && n > 0 {
			return wire.CommitStrategy{Kind: kind, Interval: n}, nil
		}
	}
	return wire.CommitStrategy{}, core.Errorf("drive.ParseStrategy", core.Invalid, "strategy %q: want immediate, manual or batched:BLOCKS", s)
}

// StrategyString is the inverse of ParseStrategy.
func StrategyString(s wire.CommitStrategy) string {
	if s.Kind == wire.StrategyBatched {
		return "batched:" + strconv.FormatUint(s.Interval, 10)
	}
	return s.Kind
}
