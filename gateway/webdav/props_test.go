package webdav

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/webdav"
)

func prop(local, value string) webdav.Property {
	return webdav.Property{XMLName: xml.Name{Space: "urn:t", Local: local}, InnerXML: []byte(value)}
}

func set(ps ...webdav.Property) webdav.Proppatch    { return webdav.Proppatch{Props: ps} }
func remove(ps ...webdav.Property) webdav.Proppatch { return webdav.Proppatch{Remove: true, Props: ps} }

func TestDeadProps(t *testing.T) {
	type step struct {
		op         string // patch | rename | remove
		path, dst  string
		patches    []webdav.Proppatch
		wantStatus int
	}
	for _, tc := range []struct {
		name  string
		max   int
		steps []step
		want  map[string][]string // path -> property names held
	}{
		{"set and remove", 10, []step{
			{op: "patch", path: "/a", patches: []webdav.Proppatch{set(prop("x", "1"), prop("y", "2"))}, wantStatus: 200},
			{op: "patch", path: "/a", patches: []webdav.Proppatch{remove(prop("x", ""))}, wantStatus: 200},
		}, map[string][]string{"/a": {"y"}}},
		{"over the count bound fails whole", 2, []step{
			{op: "patch", path: "/a", patches: []webdav.Proppatch{set(prop("x", "1"))}, wantStatus: 200},
			{op: "patch", path: "/b", patches: []webdav.Proppatch{set(prop("x", "1"), prop("y", "1"))}, wantStatus: http.StatusInsufficientStorage},
			{op: "patch", path: "/a", patches: []webdav.Proppatch{set(prop("x", "changed"))}, wantStatus: 200}, // a change adds none
		}, map[string][]string{"/a": {"x"}}},
		{"too large a value", 10, []step{
			{op: "patch", path: "/a", patches: []webdav.Proppatch{set(prop("x", strings.Repeat("v", MaxPropBytes+1)))}, wantStatus: http.StatusInsufficientStorage},
		}, map[string][]string{}},
		{"rename moves a tree, not a sibling", 10, []step{
			{op: "patch", path: "/d", patches: []webdav.Proppatch{set(prop("x", "1"))}, wantStatus: 200},
			{op: "patch", path: "/d/f", patches: []webdav.Proppatch{set(prop("x", "1"))}, wantStatus: 200},
			{op: "patch", path: "/dd", patches: []webdav.Proppatch{set(prop("x", "1"))}, wantStatus: 200},
			{op: "rename", path: "/d", dst: "/e"},
		}, map[string][]string{"/e": {"x"}, "/e/f": {"x"}, "/dd": {"x"}}},
		{"remove forgets a tree and frees room", 2, []step{
			{op: "patch", path: "/d/f", patches: []webdav.Proppatch{set(prop("x", "1"), prop("y", "1"))}, wantStatus: 200},
			{op: "remove", path: "/d"},
			{op: "patch", path: "/g", patches: []webdav.Proppatch{set(prop("x", "1"), prop("y", "1"))}, wantStatus: 200},
		}, map[string][]string{"/g": {"x", "y"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeadProps(tc.max)
			for i, s := range tc.steps {
				switch s.op {
				case "patch":
					st := d.patch(s.path, s.patches)
					if len(st) != 1 || st[0].Status != s.wantStatus {
						t.Fatalf("step %d: status %+v, want %d", i, st, s.wantStatus)
					}
				case "rename":
					d.rename(s.path, s.dst)
				case "remove":
					d.remove(s.path)
				}
			}
			if len(d.m) != len(tc.want) {
				t.Fatalf("holds %d paths, want %d: %v", len(d.m), len(tc.want), d.m)
			}
			count := 0
			for p, names := range tc.want {
				got := d.get(p)
				count += len(got)
				if len(got) != len(names) {
					t.Errorf("%s: %d properties, want %v", p, len(got), names)
				}
				for _, n := range names {
					if _, ok := got[xml.Name{Space: "urn:t", Local: n}]; !ok {
						t.Errorf("%s lacks %s", p, n)
					}
				}
			}
			if d.count != count {
				t.Errorf("count %d, want %d", d.count, count)
			}
		})
	}
}
