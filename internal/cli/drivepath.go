package cli

import (
	"strings"
)

// drivePath is a DRIVE:/path argument.
type drivePath struct {
	Drive string
	Path  string
}

func (d drivePath) String() string { return d.Drive + ":" + d.Path }

// parseDrivePath reads DRIVE:/path, where DRIVE is a drive id or name. A
// bare DRIVE or DRIVE: means the drive's root.
func parseDrivePath(s string) (drivePath, error) {
	drive, p, ok := strings.Cut(s, ":")
	if drive == "" {
		return drivePath{}, usagef("%q: want DRIVE:/path (a drive id or name, a colon, an absolute path)", s)
	}
	if !ok || p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") {
		return drivePath{}, usagef("%q: the path after the colon must be absolute (DRIVE:/path)", s)
	}
	return drivePath{Drive: drive, Path: p}, nil
}

func isDrivePath(s string) bool {
	i := strings.Index(s, ":/")
	return i > 0 && !strings.ContainsAny(s[:i], `/\`)
}
