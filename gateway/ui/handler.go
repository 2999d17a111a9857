package ui

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/cairn-storage/cairn/core"
	pwire "github.com/cairn-storage/cairn/provider/wire"
)

//go:embed assets
var assets embed.FS

// Handler serves the page at /ui/ and the JSON at /api/ (docs/api.md):
//
//	GET /api/dashboard                    the whole Snapshot
//	GET /api/drives                       []DriveSummary
//	GET /api/drives/{drive}               DriveView (drive: name or id)
//	GET /api/drives/{drive}/providers     []ProviderView
//	GET /api/drives/{drive}/checkpoints   []CheckpointView, newest first
//	GET /api/drives/{drive}/conflicts     []ConflictView
//	GET /api/drives/{drive}/challenges    []ChallengeView, newest first
//	GET /api/drives/{drive}/chart.svg     time to quorum and signers per checkpoint
//	GET /api/events                       server-sent events (Event)
//
// Errors are JSON {kind, op, message} with the status of their kind.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Mount(mux)
	return mux
}

// Mount registers the dashboard's routes (/ui/ and /api/) on mux.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.Handle("GET /ui/", secure(http.StripPrefix("/ui/", pageFiles())))
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	mux.HandleFunc("GET /api/dashboard", s.serveDashboard)
	mux.HandleFunc("GET /api/drives", s.serveDrives)
	mux.HandleFunc("GET /api/drives/{drive}", s.driveRoute(func(d *DriveView) any { return d }))
	mux.HandleFunc("GET /api/drives/{drive}/providers", s.driveRoute(func(d *DriveView) any { return d.Providers }))
	mux.HandleFunc("GET /api/drives/{drive}/checkpoints", s.driveRoute(func(d *DriveView) any { return d.Checkpoints }))
	mux.HandleFunc("GET /api/drives/{drive}/conflicts", s.driveRoute(func(d *DriveView) any { return d.Conflicts }))
	mux.HandleFunc("GET /api/drives/{drive}/challenges", s.driveRoute(func(d *DriveView) any { return d.Challenges }))
	mux.HandleFunc("GET /api/drives/{drive}/chart.svg", s.serveChart)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		pwire.WriteError(w, core.Errorf("ui.api", core.NotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}

// pageFiles serves the embedded page.
func pageFiles() http.Handler {
	static, err := fs.Sub(assets, "assets")
	if err != nil { // only a broken build gets here: the tree is embedded
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pwire.WriteError(w, core.E("ui.page", core.Internal, err))
		})
	}
	return http.FileServerFS(static)
}

// secure adds the headers that keep the page to its own origin: no
// script, style, image or connection from anywhere else.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// snapshot returns the last snapshot or writes 503 before the first.
func (s *Server) snapshot(w http.ResponseWriter) (*Snapshot, bool) {
	snap, ok := s.Snapshot()
	if !ok {
		pwire.WriteError(w, core.Errorf("ui.api", core.Unavailable, "the dashboard has not read the chain yet"))
	}
	return snap, ok
}

func (s *Server) serveDashboard(w http.ResponseWriter, r *http.Request) {
	if snap, ok := s.snapshot(w); ok {
		writeJSON(w, snap)
	}
}

func (s *Server) serveDrives(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.snapshot(w)
	if !ok {
		return
	}
	out := make([]DriveSummary, 0, len(snap.Drives))
	for i := range snap.Drives {
		out = append(out, snap.Drives[i].summary())
	}
	writeJSON(w, out)
}

// driveRoute serves part of one drive, found by name or id.
func (s *Server) driveRoute(part func(*DriveView) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d, ok := s.drive(w, r); ok {
			writeJSON(w, part(d))
		}
	}
}

// drive finds the {drive} of the request in the snapshot, or writes 404.
func (s *Server) drive(w http.ResponseWriter, r *http.Request) (*DriveView, bool) {
	snap, ok := s.snapshot(w)
	if !ok {
		return nil, false
	}
	name := r.PathValue("drive")
	for i := range snap.Drives {
		if d := &snap.Drives[i]; d.Name == name || d.ID == name {
			return d, true
		}
	}
	pwire.WriteError(w, core.Errorf("ui.api", core.NotFound, "no drive %q", name))
	return nil, false
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		pwire.WriteError(w, core.E("ui.api", core.Internal, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(append(b, '\n'))
}
