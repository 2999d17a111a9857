package webdav

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/dav/d/a/b.txt", true},
		{"/dav/d/", true},
		{"/dav/d/ünïcode/文件", true},
		{"/dav/d/a..b/.hidden", true},
		{"/dav/d/../x", false},
		{"/dav/d/a/..", false},
		{"/dav/d/./x", false},
		{"/dav/d/\xff", false},
		{"/dav/d/a\x00b", false},
	} {
		if err := CheckPath(tc.path); (err == nil) != tc.ok {
			t.Errorf("CheckPath(%q) = %v, want ok %v", tc.path, err, tc.ok)
		}
	}
}

func TestCheckXML(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"empty", "", true},
		{"propfind", `<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>`, true},
		{"prefixed", `<D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x="urn:x"/></D:prop></D:propfind>`, true},
		{"empty prefix", `<propfind xmlns="DAV:"><prop><bar:foo xmlns:bar=""/></prop></propfind>`, false},
		{"default namespace may be empty", `<propfind xmlns="DAV:"><prop><foo xmlns=""/></prop></propfind>`, true},
		{"not xml", "\x00\x01<<", true}, // webdav judges it
	} {
		if err := checkXML([]byte(tc.body)); (err == nil) != tc.ok {
			t.Errorf("%s: checkXML = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// FuzzCheckPath: never panics, and a path it accepts is UTF-8 without
// NUL, "." or ".." elements.
func FuzzCheckPath(f *testing.F) {
	f.Add("/dav/d/a/b")
	f.Add("/dav/d/../x")
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		if !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
			t.Fatalf("accepted %q", p)
		}
		for _, e := range strings.Split(p, "/") {
			if e == "." || e == ".." {
				t.Fatalf("accepted %q", p)
			}
		}
	})
}

// FuzzCheckXML: never panics on any body.
func FuzzCheckXML(f *testing.F) {
	f.Add([]byte(`<propfind xmlns="DAV:"><allprop/></propfind>`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = checkXML(b) })
}
