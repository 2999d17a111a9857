package mount

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// errno is the one translation of drive errors to errno values. An error
// it has no errno for is EIO, and logged with the operation and path, so
// the cause a program cannot see is in the mount's log.
func errno(log *slog.Logger, op, p string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := errnoOf(err); ok {
		return e
	}
	log.Warn("mount: I/O error", "op", op, "path", p, "err", err)
	return syscall.EIO
}

// errnoOf maps an error with a meaning a program can act on.
func errnoOf(err error) (syscall.Errno, bool) {
	var quota *drive.QuotaError
	switch {
	case errors.Is(err, drive.ErrNotDir):
		return syscall.ENOTDIR, true
	case errors.Is(err, drive.ErrIsDir):
		return syscall.EISDIR, true
	case errors.Is(err, drive.ErrNotEmpty):
		return syscall.ENOTEMPTY, true
	case errors.Is(err, drive.ErrInvalidPath):
		return syscall.EINVAL, true
	case errors.As(err, &quota):
		return syscall.ENOSPC, true
	case errors.Is(err, core.NotFound):
		return syscall.ENOENT, true
	case errors.Is(err, core.Unauthorized):
		return syscall.EACCES, true
	case errors.Is(err, core.Exists):
		return syscall.EEXIST, true
	case errors.Is(err, context.Canceled):
		return syscall.EINTR, true
	}
	return 0, false
}
