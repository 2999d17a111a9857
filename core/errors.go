package core

import (
	"errors"
	"fmt"
)

// Kind classifies an error so callers can decide what to do with it
// (retry, report, refuse) without comparing strings. The list is
// append-only: the numeric values travel on the wire and in chain results.
type Kind uint8

// The kinds. Unavailable is the only transient kind; everything else is
// permanent for the request that produced it.
const (
	Other        Kind = iota // unclassified; treated like Internal
	Invalid                  // the request is malformed or breaks a rule
	NotFound                 // the named thing does not exist
	Exists                   // the thing to create already exists
	Unauthorized             // the caller may not do this
	Conflict                 // the request disagrees with current state
	Unavailable              // transient: a peer is down, slow or overloaded
	Corrupt                  // a hash, signature or proof failed to verify
	NoQuorum                 // not enough providers agreed
	Internal                 // a bug or a storage failure on our side
)

var kindNames = [...]string{
	Other:        "other",
	Invalid:      "invalid",
	NotFound:     "not_found",
	Exists:       "exists",
	Unauthorized: "unauthorized",
	Conflict:     "conflict",
	Unavailable:  "unavailable",
	Corrupt:      "corrupt",
	NoQuorum:     "no_quorum",
	Internal:     "internal",
}

// String returns the kind's stable wire name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error makes a Kind usable as an errors.Is target:
// errors.Is(err, core.NotFound).
func (k Kind) Error() string { return k.String() }

// ParseKind is the inverse of Kind.String. Unknown names give Other.
func ParseKind(s string) Kind {
	for k, n := range kindNames {
		if n == s {
			return Kind(k)
		}
	}
	return Other
}

// Retryable reports whether an error of this kind may succeed if the same
// request is sent again later.
func (k Kind) Retryable() bool { return k == Unavailable }

// Error is Cairn's error: the operation that failed, its kind, and the cause.
type Error struct {
	Op   string // what was being done, e.g. "provider.commitment"
	Kind Kind
	Err  error // the underlying cause; may be nil
}

// E builds an *Error. Wrapping an *Error without a kind inherits its kind.
func E(op string, kind Kind, err error) *Error {
	return &Error{Op: op, Kind: kind, Err: err}
}

// Errorf builds an *Error whose cause is a formatted message.
func Errorf(op string, kind Kind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

func (e *Error) Error() string {
	msg := e.Op
	if e.Kind != Other {
		if msg != "" {
			msg += ": "
		}
		msg += e.Kind.String()
	}
	if e.Err != nil {
		if msg != "" {
			msg += ": "
		}
		msg += e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, core.NotFound) match on the error's kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && KindOf(e) == k
}

// KindOf returns the kind of the outermost *Error in err's chain that has
// one, or Other for nil and for errors Cairn did not classify.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}
