package webdav

import (
	"encoding/xml"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/webdav"
)

type xmlName = xml.Name

// DefaultMaxProps bounds the dead properties one drive keeps in memory.
const DefaultMaxProps = 10_000

// MaxPropBytes bounds one property's XML.
const MaxPropBytes = 64 << 10

// deadProps holds a drive's dead properties (PROPPATCH) in memory, by
// path, bounded in count and size: they are this process's, not the
// drive's, and are lost when it stops.
type deadProps struct {
	mu    sync.Mutex
	max   int
	count int
	m     map[string]map[xml.Name]webdav.Property
}

func newDeadProps(max int) *deadProps {
	return &deadProps{max: max, m: map[string]map[xml.Name]webdav.Property{}}
}

func (d *deadProps) get(p string) map[xml.Name]webdav.Property {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[xml.Name]webdav.Property, len(d.m[p]))
	for k, v := range d.m[p] {
		out[k] = v
	}
	return out
}

// patch applies a PROPPATCH all or nothing: a property over the size
// bound, or more properties than the drive may keep, fails every one of
// them (507, as RFC 4918 says for a server out of room).
func (d *deadProps) patch(p string, patches []webdav.Proppatch) []webdav.Propstat {
	d.mu.Lock()
	defer d.mu.Unlock()
	added := 0
	st := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: prop.XMLName})
			if _, ok := d.m[p][prop.XMLName]; !ok && !pp.Remove {
				added++
			}
			if len(prop.InnerXML) > MaxPropBytes {
				st.Status = http.StatusInsufficientStorage
			}
		}
	}
	if d.count+added > d.max {
		st.Status = http.StatusInsufficientStorage
	}
	if st.Status != http.StatusOK {
		return []webdav.Propstat{st}
	}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			_, had := d.m[p][prop.XMLName]
			if pp.Remove {
				if had {
					delete(d.m[p], prop.XMLName)
					d.count--
				}
				continue
			}
			if d.m[p] == nil {
				d.m[p] = map[xml.Name]webdav.Property{}
			}
			if !had {
				d.count++
			}
			d.m[p][prop.XMLName] = prop
		}
	}
	if len(d.m[p]) == 0 {
		delete(d.m, p)
	}
	return []webdav.Propstat{st}
}

// under reports whether p is dir or below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// remove forgets the properties of p and everything below it.
func (d *deadProps) remove(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, m := range d.m {
		if under(p, dir) {
			d.count -= len(m)
			delete(d.m, p)
		}
	}
}

// rename moves the properties of src and everything below it to dst.
func (d *deadProps) rename(src, dst string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	moved := map[string]map[xml.Name]webdav.Property{}
	for p, m := range d.m {
		if under(p, src) {
			moved[dst+strings.TrimPrefix(p, src)] = m
			delete(d.m, p)
		}
	}
	for p, m := range moved {
		d.m[p] = m
	}
}
