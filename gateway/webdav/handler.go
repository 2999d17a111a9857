package webdav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/webdav"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// Prefix is where Handler serves: /dav/<drive>/...
const Prefix = "/dav/"

// MaxXMLBody bounds the body of every request but PUT (PROPFIND,
// PROPPATCH, LOCK carry XML; webdav reads it whole).
const MaxXMLBody = 1 << 20

// DriveCacheTTL is how long Handler trusts its list of the signer's drives.
const DriveCacheTTL = 10 * time.Second

// Handler serves every drive of the client's signer at /dav/<drive>/,
// <drive> being its name or decimal id, and at /dav/ a read-only
// collection of the drives. Each drive has one FileSystem and one
// in-memory lock system, whichever name reaches it.
type Handler struct {
	c   *drive.Client
	log *slog.Logger
	now func() time.Time

	rootLS webdav.LockSystem // for the read-only list of drives at Prefix

	mu     sync.Mutex
	served map[core.DriveID]*served
	list   []wire.Drive
	listed time.Time
}

type served struct {
	fs *FileSystem
	ls webdav.LockSystem
}

// NewHandler serves c's drives; log may be nil.
func NewHandler(c *drive.Client, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{c: c, log: log, now: time.Now, served: map[core.DriveID]*served{}, rootLS: webdav.NewMemLS()}
}

// CheckPath refuses a request path that is not valid UTF-8 or holds a NUL,
// a "." or a ".." element: such a path is an error (400), never resolved
// or redirected to another name.
func CheckPath(p string) error {
	if !utf8.ValidString(p) {
		return errors.New("path is not valid UTF-8")
	}
	if strings.ContainsRune(p, 0) {
		return errors.New("path holds a NUL byte")
	}
	for _, e := range strings.Split(p, "/") {
		if e == "." || e == ".." {
			return errors.New(`path holds a "." or ".." element`)
		}
	}
	return nil
}

// ServeHTTP checks the path (and a COPY or MOVE's Destination), finds the
// drive and hands the request to x/net/webdav.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := CheckPath(r.URL.Path); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if d := r.Header.Get("Destination"); d != "" {
		u, err := url.Parse(d)
		if err != nil {
			http.Error(w, "bad Destination header", http.StatusBadRequest)
			return
		}
		if err := CheckPath(u.Path); err != nil {
			http.Error(w, "Destination: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ref, _, _ := strings.Cut(rest, "/")
	if ref == "" { // the list of drives
		h.serveDAV(w, r, strings.TrimSuffix(Prefix, "/"), drivesFS{h}, h.rootLS)
		return
	}
	s, err := h.drive(r.Context(), ref)
	if err != nil {
		status := http.StatusBadGateway
		if core.KindOf(err) == core.NotFound {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	h.serveDAV(w, r, Prefix+ref, s.fs, s.ls)
}

// serveDAV bounds the body (a PUT's streams; any other is XML, read whole
// and checked) and hands the request to x/net/webdav.
func (h *Handler) serveDAV(w http.ResponseWriter, r *http.Request, prefix string, fs webdav.FileSystem, ls webdav.LockSystem) {
	if r.Method == http.MethodPut {
		br := &bodyReader{r: r.Body}
		r.Body = br
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, br))
	} else if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxXMLBody))
		if err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if err := checkXML(body); err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	dh := &webdav.Handler{Prefix: prefix, FileSystem: fs, LockSystem: ls, Logger: h.logError}
	dh.ServeHTTP(w, r)
}

func (h *Handler) logError(r *http.Request, err error) {
	if err != nil {
		h.log.Info("webdav", "op", r.Method, "path", r.URL.Path, "err", err)
	}
}

// drives lists the signer's drives, re-read at most every DriveCacheTTL.
func (h *Handler) drives(ctx context.Context) ([]wire.Drive, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.list == nil || h.now().Sub(h.listed) > DriveCacheTTL {
		ds, err := h.c.ListDrives(ctx)
		if err != nil {
			return nil, err
		}
		h.list, h.listed = ds, h.now()
	}
	return h.list, nil
}

// drive finds the signer's drive named ref (a name or decimal id).
func (h *Handler) drive(ctx context.Context, ref string) (*served, error) {
	list, err := h.drives(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range list {
		if d.Name == ref || d.ID.String() == ref {
			s, ok := h.served[d.ID]
			if !ok {
				s = &served{fs: NewFileSystem(h.c, d.ID.String()), ls: webdav.NewMemLS()}
				h.served[d.ID] = s
			}
			return s, nil
		}
	}
	return nil, core.Errorf("webdav", core.NotFound, "no drive %q of this signer", ref)
}

// bodyReader remembers how a PUT's body ended, so an upload whose body
// failed is aborted instead of stored short.
type bodyReader struct {
	r   io.ReadCloser
	mu  sync.Mutex
	err error
}

type bodyKey struct{}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.r.Close() }

// bodyError is the error a PUT's body ended with (nil: none, or not a PUT).
func bodyError(ctx context.Context) error {
	b, ok := ctx.Value(bodyKey{}).(*bodyReader)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// checkXML refuses an XML body that declares a namespace prefix as the
// empty name (xmlns:p=""), which XML namespaces 1.0 forbids and
// encoding/xml would accept. An empty body or one that is not XML is
// left to webdav to judge.
func checkXML(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					return errors.New("namespace prefix " + a.Name.Local + " declared empty")
				}
			}
		}
	}
}
