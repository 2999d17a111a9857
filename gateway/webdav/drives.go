package webdav

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/net/webdav"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// drivesFS is the read-only collection at Prefix: one directory per drive
// of the signer, so a client pointed at /dav/ sees the drives. Everything
// below a drive is the drive's own FileSystem (Handler routes it there).
type drivesFS struct{ h *Handler }

func (d drivesFS) denied(op, name string) error {
	return &os.PathError{Op: op, Path: name, Err: os.ErrPermission}
}

func (d drivesFS) Mkdir(_ context.Context, name string, _ os.FileMode) error {
	return d.denied("mkdir", name)
}
func (d drivesFS) RemoveAll(_ context.Context, name string) error { return d.denied("remove", name) }
func (d drivesFS) Rename(_ context.Context, name, _ string) error { return d.denied("rename", name) }

func (d drivesFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	name = strings.Trim(name, "/")
	if name == "" {
		return &fileInfo{e: drive.DirectoryEntry{Name: "/", Kind: drive.KindDir}}, nil
	}
	list, err := d.h.drives(ctx)
	if err != nil {
		return nil, osError("stat", name, err)
	}
	for _, dr := range list {
		if dr.Name == name || dr.ID.String() == name {
			return driveInfo(dr), nil
		}
	}
	return nil, &os.PathError{Op: "stat", Path: name, Err: os.ErrNotExist}
}

func (d drivesFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) != 0 {
		return nil, d.denied("open", name)
	}
	fi, err := d.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	return &drivesDir{fs: d, ctx: ctx, info: fi, root: fi.Name() == "/"}, nil
}

func driveInfo(d wire.Drive) *fileInfo {
	name := d.Name
	if name == "" {
		name = d.ID.String()
	}
	return &fileInfo{e: drive.DirectoryEntry{Name: name, Kind: drive.KindDir, CID: d.RootCID}}
}

// drivesDir is the listing of the drives (or one drive, not listed here).
type drivesDir struct {
	fs   drivesFS
	ctx  context.Context
	info os.FileInfo
	root bool
	done bool
}

func (d *drivesDir) Readdir(count int) ([]fs.FileInfo, error) {
	if !d.root || d.done {
		if count > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.done = true
	list, err := d.fs.h.drives(d.ctx)
	if err != nil {
		return nil, osError("readdir", "/", err)
	}
	out := make([]fs.FileInfo, 0, len(list))
	for _, dr := range list {
		out = append(out, driveInfo(dr))
	}
	return out, nil
}

func (d *drivesDir) Close() error                   { return nil }
func (d *drivesDir) Stat() (fs.FileInfo, error)     { return d.info, nil }
func (d *drivesDir) Read([]byte) (int, error)       { return 0, drive.ErrIsDir }
func (d *drivesDir) Seek(int64, int) (int64, error) { return 0, drive.ErrIsDir }
func (d *drivesDir) Write([]byte) (int, error) {
	return 0, core.Errorf("webdav", core.Unauthorized, "the list of drives is read-only")
}
