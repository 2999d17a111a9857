package drive

import (
	"strings"
	"unicode/utf8"
)

// Limits on names and paths.
const (
	MaxNameLen    = 255  // bytes of one path element
	MaxPathLen    = 4096 // bytes of a whole path
	MaxDepth      = 64   // directory levels
	MaxDirEntries = 100_000
)

// CleanPath checks and normalises a drive path: it must be absolute, UTF-8,
// within the length limits, free of NUL and control characters, and must
// not contain "." or ".." elements (refused rather than resolved, so a path
// never means something other than what it says). Repeated and trailing
// slashes are removed. It returns the elements; "/" gives none.
func CleanPath(p string) ([]string, error) {
	const op = "drive.path"
	switch {
	case p == "":
		return nil, perr(op, p, ErrInvalidPath, "empty path")
	case len(p) > MaxPathLen:
		return nil, perr(op, p[:32]+"...", ErrInvalidPath, "path too long")
	case !utf8.ValidString(p):
		return nil, perr(op, p, ErrInvalidPath, "not UTF-8")
	case p[0] != '/':
		return nil, perr(op, p, ErrInvalidPath, "path must be absolute (start with /)")
	}
	var out []string
	for _, e := range strings.Split(p, "/") {
		if e == "" {
			continue
		}
		if err := checkName(e); err != nil {
			return nil, perr(op, p, ErrInvalidPath, err.Error())
		}
		out = append(out, e)
	}
	if len(out) > MaxDepth {
		return nil, perr(op, p, ErrInvalidPath, "too deep")
	}
	return out, nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

func checkName(e string) error {
	switch {
	case e == "." || e == "..":
		return nameError(`"." and ".." are not allowed`)
	case len(e) > MaxNameLen:
		return nameError("name longer than 255 bytes")
	}
	for _, r := range e {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return nameError("control characters and backslashes are not allowed in names")
		}
	}
	return nil
}

// JoinPath is the inverse of CleanPath.
func JoinPath(elems []string) string { return "/" + strings.Join(elems, "/") }
