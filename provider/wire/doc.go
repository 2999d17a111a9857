// Package wire holds what crosses the provider's HTTP boundary: the JSON
// bodies of every route, the query parameters and headers of each request
// with their parsers, the signed payloads of writes and blob reads, and the
// one table between error kinds and HTTP statuses.
//
// The provider (package provider) and its client (package providerclient)
// share only this package, so a change to the protocol is a change here.
// Every parser in this package faces the network: it never panics and
// reports malformed input as an error of kind core.Invalid.
package wire
