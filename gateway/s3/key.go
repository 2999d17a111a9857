package s3

import (
	"strings"
	"unicode/utf8"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/drive"
)

// MaxKeyLen is S3's limit on a key, in bytes.
const MaxKeyLen = gofakes3.KeySizeLimit

// objectPath maps an object key to a drive path. A key is the path
// without its leading slash; a key ending in "/" names a directory (S3's
// folder marker), reported by dir. Keys the drive cannot hold as they are
// (empty elements such as "a//b" or a leading "/", "." and ".." elements,
// control characters, backslashes, bad UTF-8, too long or too deep) are
// refused with an S3 error, never resolved to another name.
func objectPath(key string) (p string, dir bool, err error) {
	switch {
	case key == "":
		return "", false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "empty key")
	case len(key) > MaxKeyLen:
		return "", false, gofakes3.ResourceError(gofakes3.ErrKeyTooLong, truncate(key))
	case !utf8.ValidString(key):
		return "", false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "key is not valid UTF-8")
	}
	trimmed, dir := strings.CutSuffix(key, "/")
	for _, e := range strings.Split(trimmed, "/") {
		if e == "" {
			return "", false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "key "+quote(key)+" has an empty path element (a drive cannot hold \"//\" or a leading \"/\")")
		}
	}
	elems, err := drive.CleanPath("/" + trimmed)
	if err != nil {
		return "", false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "key "+quote(key)+": "+printable(err.Error()))
	}
	return drive.JoinPath(elems), dir, nil
}

// objectKey is the inverse of objectPath for a file's path.
func objectKey(p string) string { return strings.TrimPrefix(p, "/") }

func truncate(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return printable(s)
}

// printable makes s fit an XML error message: bad UTF-8 and control
// characters (which XML 1.0 cannot carry) become "?".
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

func quote(s string) string { return `"` + truncate(s) + `"` }
