package httpconn

import "net/http"

// StatusWriter wraps a ResponseWriter and remembers the status of the
// response: the first WriteHeader's code, or 200 once the body is written
// without one. Servers use it to count requests by status and to know
// whether an answer has begun.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

// NewStatusWriter wraps w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter { return &StatusWriter{ResponseWriter: w} }

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushes).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Started reports whether the answer has begun (a status or a byte went
// out).
func (w *StatusWriter) Started() bool { return w.status != 0 }

// Status is the response's status; 200 if the handler wrote nothing, as
// net/http then answers.
func (w *StatusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
