// Package providerclient is the HTTP client of a Cairn provider: one typed
// method per route (see docs/api.md, "Provider"), each bounded by the
// caller's context and a per-request timeout. An error the provider raised
// comes back as a *core.Error of the same kind, with a *wire.RemoteError
// holding what the provider said; a transport failure is kind unavailable.
//
// The client trusts nothing it is told: Commitment returns the signed
// commitment for the caller to verify against the provider's key on
// chain; Blob verifies the bytes against their hash while they stream.
//
// *Client satisfies checkpoint.Provider as is.
package providerclient
