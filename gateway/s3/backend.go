package s3

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// Config holds the gateway's settings.
type Config struct {
	// TempDir holds the parts of multipart uploads until they complete
	// ("" is a directory of its own under os.TempDir()).
	TempDir string
	// MaxTempBytes bounds the bytes of all parts held at once; a part
	// that would pass it is refused (EntityTooLarge) before a byte is read.
	MaxTempBytes int64
	// MaxPartSize bounds one part (S3's own limit is 5 GiB).
	MaxPartSize int64
	// DriveCacheTTL is how long the list of the signer's drives is trusted.
	DriveCacheTTL time.Duration
}

// DefaultConfig: parts under os.TempDir(), at most 16 GiB of them at
// once, 5 GiB a part, the drive list re-read every 10 s.
func DefaultConfig() Config {
	return Config{MaxTempBytes: 16 << 30, MaxPartSize: 5 << 30, DriveCacheTTL: 10 * time.Second}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	if c.MaxTempBytes <= 0 || c.MaxPartSize <= 0 || c.DriveCacheTTL <= 0 {
		return core.Errorf("s3.Config", core.Invalid, "MaxTempBytes, MaxPartSize and DriveCacheTTL must be positive")
	}
	return nil
}

// Backend is the gofakes3 Backend and MultipartBackend over the drives of
// a drive.Client's signer: a bucket is a drive, by name or decimal id.
type Backend struct {
	c    *drive.Client
	meta MetaStore
	cfg  Config
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	list   []wire.Drive
	listed time.Time

	parts *partArea
}

var (
	_ gofakes3.Backend          = (*Backend)(nil)
	_ gofakes3.MultipartBackend = (*Backend)(nil)
)

// NewBackend serves c's drives, keeping object metadata in meta (nil: in
// memory). log may be nil. Close removes the parts of uploads left
// unfinished.
func NewBackend(c *drive.Client, meta MetaStore, cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if meta == nil {
		meta = NewMemMeta()
	}
	parts, err := newPartArea(cfg.TempDir, cfg.MaxTempBytes)
	if err != nil {
		return nil, err
	}
	return &Backend{c: c, meta: meta, cfg: cfg, log: log, now: time.Now, parts: parts}, nil
}

// Close removes the temporary area and the parts in it.
func (b *Backend) Close() error { return b.parts.close() }

// drives lists the signer's drives, re-read at most every DriveCacheTTL
// (or at once when fresh is set).
func (b *Backend) drives(ctx context.Context, fresh bool) ([]wire.Drive, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fresh || b.list == nil || b.now().Sub(b.listed) > b.cfg.DriveCacheTTL {
		ds, err := b.c.ListDrives(ctx)
		if err != nil {
			return nil, s3Error(err, "")
		}
		b.list, b.listed = ds, b.now()
	}
	return b.list, nil
}

// bucketName is how a drive appears as a bucket: its name, or its id when
// it has none.
func bucketName(d wire.Drive) string {
	if d.Name != "" {
		return d.Name
	}
	return d.ID.String()
}

// drive finds the bucket's drive and returns its decimal id, the
// reference the drive client resolves without listing the drives.
func (b *Backend) drive(ctx context.Context, bucket string) (string, error) {
	for _, fresh := range []bool{false, true} {
		list, err := b.drives(ctx, fresh)
		if err != nil {
			return "", err
		}
		for _, d := range list {
			if d.Name == bucket || d.ID.String() == bucket {
				return d.ID.String(), nil
			}
		}
	}
	return "", gofakes3.BucketNotFound(printable(bucket))
}

// ListBuckets lists the signer's drives.
func (b *Backend) ListBuckets(ctx context.Context) ([]gofakes3.BucketInfo, error) {
	list, err := b.drives(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]gofakes3.BucketInfo, 0, len(list))
	for _, d := range list {
		// The chain keeps no creation time; S3 clients need one.
		out = append(out, gofakes3.BucketInfo{Name: bucketName(d), CreationDate: gofakes3.NewContentTime(time.Unix(0, 0))})
	}
	return out, nil
}

// BucketExists reports whether the signer has the drive.
func (b *Backend) BucketExists(ctx context.Context, bucket string) (bool, error) {
	_, err := b.drive(ctx, bucket)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		return false, nil
	}
	return err == nil, err
}

// CreateBucket creates a drive of that name with the client's defaults
// (the immediate strategy); a drive of the signer's already named so is
// BucketAlreadyExists, which clients such as rclone take as success.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	if _, err := b.drive(ctx, bucket); err == nil {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, bucket)
	}
	if _, err := b.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: bucket}); err != nil {
		return s3Error(err, bucket)
	}
	_, err := b.drives(ctx, true)
	return err
}

// DeleteBucket is refused: a drive is deleted with `cairn drive rm`, which
// says what it costs.
func (b *Backend) DeleteBucket(ctx context.Context, bucket string) error {
	if _, err := b.drive(ctx, bucket); err != nil {
		return err
	}
	return gofakes3.ErrorMessage(gofakes3.ErrNotImplemented, "a drive is deleted with 'cairn drive rm', not through S3")
}
