package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cairn-storage/cairn/core"
)

// ErrorBody is the JSON body of every error response.
//
// LeafCount is set on a write refused with kind conflict because the
// provider is behind (a *core.BehindError): it is the provider's leaf count
// (start_seq + leaves), so a client that named a seq past it learns how far
// behind the provider is.
type ErrorBody struct {
	Kind      string  `json:"kind"`
	Op        string  `json:"op,omitempty"`
	Message   string  `json:"message"`
	LeafCount *uint64 `json:"leaf_count,omitempty"`
}

// kindStatus is the table from error kinds to HTTP statuses. Two refinements
// ride on top of it, each chosen by wrapping the error (see WithStatus):
// 403 Forbidden for an authenticated caller who may not do what it asked
// (kind unauthorized), and 413 Request Entity Too Large or 507 Insufficient
// Storage for a body past the size limit or a write past the quota (kind
// invalid).
var kindStatus = map[core.Kind]int{
	core.Other:        http.StatusInternalServerError,
	core.Invalid:      http.StatusBadRequest,
	core.NotFound:     http.StatusNotFound,
	core.Exists:       http.StatusConflict,
	core.Unauthorized: http.StatusUnauthorized,
	core.Conflict:     http.StatusConflict,
	core.Unavailable:  http.StatusServiceUnavailable,
	core.Corrupt:      http.StatusUnprocessableEntity,
	core.NoQuorum:     http.StatusServiceUnavailable,
	core.Internal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err: the status attached by
// WithStatus if any, else the table's status for its kind.
func StatusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	if s, ok := kindStatus[core.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// KindOfStatus maps a status back to a kind, for responses that carry no
// JSON error body (a proxy's page, a truncated body). A body's kind always
// wins over this guess.
func KindOfStatus(status int) core.Kind {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge,
		http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge, http.StatusInsufficientStorage,
		http.StatusLengthRequired, http.StatusUnsupportedMediaType:
		return core.Invalid
	case http.StatusUnauthorized, http.StatusForbidden:
		return core.Unauthorized
	case http.StatusNotFound:
		return core.NotFound
	case http.StatusConflict:
		return core.Conflict
	case http.StatusUnprocessableEntity:
		return core.Corrupt
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return core.Unavailable
	}
	if status >= 500 {
		return core.Internal
	}
	return core.Other
}

type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// WithStatus attaches an HTTP status to err without changing its kind, for
// the refinements of the table: 403 (unauthorized: signed, but not allowed),
// 413 (invalid: body too large) and 507 (invalid: over quota).
func WithStatus(err error, status int) error {
	return &statusError{status: status, err: err}
}

// Forbidden is an unauthorized error served as 403: the caller proved who
// it is, and that account may not do this.
func Forbidden(op, format string, args ...any) error {
	return WithStatus(core.Errorf(op, core.Unauthorized, format, args...), http.StatusForbidden)
}

// BodyOf builds the error body for err.
func BodyOf(err error) ErrorBody {
	b := ErrorBody{Kind: core.KindOf(err).String(), Message: err.Error()}
	var ce *core.Error
	if errors.As(err, &ce) {
		b.Op = ce.Op
	}
	var be *core.BehindError
	if errors.As(err, &be) {
		n := be.LeafCount
		b.LeafCount = &n
	}
	return b
}

// WriteError writes err as a JSON error response with its status.
func WriteError(w http.ResponseWriter, err error) {
	status := StatusOf(err)
	body, _ := json.Marshal(BodyOf(err))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// RemoteError is the error a client decodes from an error response. It
// keeps what the provider said; its kind is Kind.
type RemoteError struct {
	Status  int
	Kind    core.Kind
	Op      string // the provider's op
	Message string
	// Behind is set with kind conflict on a write the provider is behind
	// for (from leaf_count); errors.As finds it through the RemoteError.
	Behind *core.BehindError
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("provider answered %d: %s", e.Status, e.Message)
}

// Unwrap gives the *core.BehindError the provider sent, if any.
func (e *RemoteError) Unwrap() error {
	if e.Behind == nil {
		return nil
	}
	return e.Behind
}

// DecodeError turns an error response (status >= 400 and its body, which
// may be empty or not JSON) into a *core.Error of the provider's kind,
// under the client's op. The cause is a *RemoteError.
func DecodeError(op string, status int, body []byte) error {
	re := &RemoteError{Status: status, Kind: KindOfStatus(status)}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil && eb.Kind != "" {
		if k := core.ParseKind(eb.Kind); k != core.Other || eb.Kind == core.Other.String() {
			re.Kind = k
		}
		re.Op, re.Message = eb.Op, eb.Message
		if eb.LeafCount != nil {
			re.Behind = &core.BehindError{LeafCount: *eb.LeafCount}
		}
	} else {
		re.Message = strings.TrimSpace(string(body))
		if len(re.Message) > 200 {
			re.Message = re.Message[:200] + "..."
		}
		if re.Message == "" {
			re.Message = http.StatusText(status)
		}
	}
	return core.E(op, re.Kind, re)
}
