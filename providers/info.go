package providers

import (
	"time"

	"github.com/cairn-storage/cairn/core"
)

// Info is one primary of a bucket as the chain registers it, with its
// health as this client last saw it.
type Info struct {
	Account   core.AccountID `json:"account"`
	Endpoint  string         `json:"endpoint"` // as registered on chain
	URL       string         `json:"url"`      // HTTP base URL derived from it
	PublicKey core.AccountID `json:"public_key"`
	LastSeen  time.Time      `json:"last_seen,omitempty"`
	Status    Status         `json:"status"`
	LastError string         `json:"last_error,omitempty"`
}

// Ranked pairs a provider with its health record.
type Ranked struct {
	Info
	History Health `json:"history"`
}
