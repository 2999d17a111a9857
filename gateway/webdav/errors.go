package webdav

import (
	"errors"
	"os"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// osError turns a drive error into the os error x/net/webdav understands
// (it tests with os.IsNotExist and os.IsExist, which look only at
// *os.PathError's cause): not found and "not a directory" become
// fs.ErrNotExist (a 404, or a 409 for a missing parent), exists becomes
// fs.ErrExist; other errors keep their kind inside the PathError.
func osError(op, name string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, core.NotFound), errors.Is(err, drive.ErrNotDir):
		return &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	case errors.Is(err, core.Exists):
		return &os.PathError{Op: op, Path: name, Err: os.ErrExist}
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}
