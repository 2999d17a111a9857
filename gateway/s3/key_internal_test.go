package s3

import (
	"strings"
	"testing"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/drive"
)

func TestObjectPath(t *testing.T) {
	for _, c := range []struct {
		key  string
		path string
		dir  bool
		code gofakes3.ErrorCode // "" when the key maps
	}{
		{"a.txt", "/a.txt", false, ""},
		{"a/b/c.txt", "/a/b/c.txt", false, ""},
		{"photos/", "/photos", true, ""},
		{"naïve café.txt", "/naïve café.txt", false, ""},
		{"..a/b..", "/..a/b..", false, ""},
		{"", "", false, gofakes3.ErrInvalidArgument},
		{"/", "", false, gofakes3.ErrInvalidArgument},
		{"/a", "", false, gofakes3.ErrInvalidArgument},
		{"a//b", "", false, gofakes3.ErrInvalidArgument},
		{"a/../b", "", false, gofakes3.ErrInvalidArgument},
		{"..", "", false, gofakes3.ErrInvalidArgument},
		{"./a", "", false, gofakes3.ErrInvalidArgument},
		{"a/.", "", false, gofakes3.ErrInvalidArgument},
		{"a\\b", "", false, gofakes3.ErrInvalidArgument},
		{"a\x00b", "", false, gofakes3.ErrInvalidArgument},
		{"a\nb", "", false, gofakes3.ErrInvalidArgument},
		{"\xff", "", false, gofakes3.ErrInvalidArgument},
		{strings.Repeat("a", 256), "", false, gofakes3.ErrInvalidArgument}, // one element past the drive's 255 bytes
		{strings.Repeat("a/", 65) + "x", "", false, gofakes3.ErrInvalidArgument},
		{strings.Repeat("ab/", 400), "", false, gofakes3.ErrKeyTooLong},
	} {
		p, dir, err := objectPath(c.key)
		switch {
		case c.code == "" && (err != nil || p != c.path || dir != c.dir):
			t.Errorf("objectPath(%q) = %q, %v, %v; want %q, %v", c.key, p, dir, err, c.path, c.dir)
		case c.code != "" && !gofakes3.HasErrorCode(err, c.code):
			t.Errorf("objectPath(%q) = %q, %v; want %s", c.key, p, err, c.code)
		}
	}
}

// FuzzObjectPath: no key panics; a key that maps gives a path the drive
// accepts, which maps back to exactly the key; an error message is
// printable (it goes into an XML answer).
func FuzzObjectPath(f *testing.F) {
	for _, k := range []string{"a.txt", "a/b/", "a//b", "a/../b", "\x00", "naïve/ü", "..", "a\\b"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, dir, err := objectPath(key)
		if err != nil {
			if msg := err.Error(); printable(msg) != msg {
				t.Fatalf("error for %q is not printable: %q", key, msg)
			}
			return
		}
		if _, err := drive.CleanPath(p); err != nil {
			t.Fatalf("objectPath(%q) = %q, which the drive refuses: %v", key, p, err)
		}
		back := objectKey(p)
		if dir {
			back += "/"
		}
		if back != key {
			t.Fatalf("objectPath(%q) = %q, which maps back to %q", key, p, back)
		}
	})
}
