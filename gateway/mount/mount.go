package mount

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// Config holds a mount's settings.
type Config struct {
	// EntryTimeout and AttrTimeout are how long the kernel may cache a
	// name lookup and a file's attributes before asking again (changes
	// made by other clients show up after this long).
	EntryTimeout time.Duration
	AttrTimeout  time.Duration
	// MaxWrite is the largest read or write request the kernel sends.
	MaxWrite int
	// Debug logs every FUSE request (go-fuse's own log).
	Debug bool
}

// DefaultConfig: one-second caches and 128 KiB requests.
func DefaultConfig() Config {
	return Config{EntryTimeout: time.Second, AttrTimeout: time.Second, MaxWrite: 128 << 10}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	if c.EntryTimeout < 0 || c.AttrTimeout < 0 || c.MaxWrite < 4096 || c.MaxWrite > 1<<20 {
		return core.Errorf("mount.Config", core.Invalid, "timeouts must not be negative and MaxWrite must be 4 KiB..1 MiB")
	}
	return nil
}

// mountFS is what every node of one mount shares.
type mountFS struct {
	c   *drive.Client
	ref string // the drive, by decimal id
	log *slog.Logger
	// ctx bounds the transfers (downloads, uploads) that outlive the FUSE
	// request that started them; Close cancels it once none is left.
	ctx context.Context
	// transfers counts the uploads and downloads running, so Close waits
	// for them.
	transfers sync.WaitGroup
}

// Server is a mounted drive.
type Server struct {
	srv    *fuse.Server
	m      *mountFS
	cancel context.CancelFunc
	done   chan struct{} // closed once the folder is unmounted
	mu     sync.Mutex    // serialises Close
}

// Mount mounts the drive ref of c (a name or decimal id) on dir, an
// existing empty directory, and serves it until Close (or until it is
// unmounted from outside, e.g. with fusermount3 -u: see Wait).
func Mount(ctx context.Context, c *drive.Client, ref, dir string, cfg Config, log *slog.Logger) (*Server, error) {
	const op = "mount"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d, err := c.ResolveDrive(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, err := c.Stat(ctx, d.ID.String(), "/"); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &mountFS{c: c, ref: d.ID.String(), log: log, ctx: mctx}
	root := &node{m: m, dir: true}
	name := d.Name
	if name == "" {
		name = d.ID.String()
	}
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:        "cairn:" + name,
			Name:          "cairn",
			MaxWrite:      cfg.MaxWrite,
			SyncRead:      true, // reads arrive in order: one download serves them
			DisableXAttrs: true,
			Debug:         cfg.Debug,
		},
		EntryTimeout: &cfg.EntryTimeout,
		AttrTimeout:  &cfg.AttrTimeout,
		UID:          uint32(os.Getuid()),
		GID:          uint32(os.Getgid()),
	}
	srv, err := fs.Mount(dir, root, opts)
	if err != nil {
		cancel()
		return nil, core.E(op, core.Unavailable, err)
	}
	s := &Server{srv: srv, m: m, cancel: cancel, done: make(chan struct{})}
	go func() {
		srv.Wait()
		close(s.done)
	}()
	return s, nil
}

// Done is closed once the folder is unmounted (by Close, or from outside
// with fusermount3 -u).
func (s *Server) Done() <-chan struct{} { return s.done }

// Close unmounts the folder, lets uploads in flight finish and stops the
// downloads still running. While a file in the folder is open the kernel
// refuses to unmount it: Close then fails (kind unavailable) and may be
// called again.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
	default:
		if err := s.srv.Unmount(); err != nil {
			return core.E("mount.Close", core.Unavailable, err)
		}
		<-s.done
	}
	s.cancel()
	s.m.transfers.Wait()
	return nil
}
