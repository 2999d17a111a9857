package httpconn

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusWriter(t *testing.T) {
	tests := []struct {
		name    string
		handle  func(w http.ResponseWriter)
		status  int
		started bool
	}{
		{"nothing written", func(http.ResponseWriter) {}, 200, false},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("x")) }, 200, true},
		{"header then body", func(w http.ResponseWriter) { w.WriteHeader(404); w.Write([]byte("x")) }, 404, true},
		{"first header wins", func(w http.ResponseWriter) { w.WriteHeader(201); w.WriteHeader(500) }, 201, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			sw := NewStatusWriter(rec)
			tt.handle(sw)
			if sw.Status() != tt.status || sw.Started() != tt.started {
				t.Errorf("Status, Started = %d, %v; want %d, %v", sw.Status(), sw.Started(), tt.status, tt.started)
			}
			if tt.started && rec.Code != tt.status {
				t.Errorf("the wrapped writer got %d, want %d", rec.Code, tt.status)
			}
			if sw.Unwrap() != rec {
				t.Error("Unwrap does not give the wrapped writer")
			}
		})
	}
}
