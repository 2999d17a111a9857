package drive

import (
	"fmt"

	"github.com/cairn-storage/cairn/core"
)

// Errors, each of a core.Kind so errors.Is works both ways:
// errors.Is(err, drive.ErrNotFound) and errors.Is(err, core.NotFound).
var (
	ErrNotFound    = core.Errorf("fs", core.NotFound, "no such file or directory")
	ErrExists      = core.Errorf("fs", core.Exists, "file exists")
	ErrNotDir      = core.Errorf("fs", core.Invalid, "not a directory")
	ErrIsDir       = core.Errorf("fs", core.Invalid, "is a directory")
	ErrNotEmpty    = core.Errorf("fs", core.Conflict, "directory not empty")
	ErrInvalidPath = core.Errorf("fs", core.Invalid, "invalid path")
	ErrNoQuorum    = core.Errorf("fs", core.NoQuorum, "not enough providers hold the write")
)

// pathError wraps a sentinel with the operation and path, keeping both the
// sentinel (errors.Is) and its kind.
type pathError struct {
	Op   string
	Path string
	Err  *core.Error
	why  string
}

func (e *pathError) Error() string {
	s := fmt.Sprintf("%s %q: %s", e.Op, e.Path, e.Err.Err.Error())
	if e.why != "" {
		s += " (" + e.why + ")"
	}
	return s
}

func (e *pathError) Unwrap() []error { return []error{e.Err, e.Err.Kind} }

func perr(op, path string, sentinel *core.Error, why string) error {
	return &pathError{Op: op, Path: path, Err: sentinel, why: why}
}
