// Package wire holds what crosses the boundary between the chain (the ABCI
// application in package chain) and its clients: the state records that
// queries answer with, the calls a transaction carries, the signed
// transaction envelope and its encoding, the events, the query paths, and
// the one table between core.Kind and ABCI result codes.
//
// Everything here is plain data with a JSON form (snake_case field names;
// ids as decimal numbers; accounts, hashes and signatures as lowercase hex;
// byte strings as base64). docs/api.md ("## Chain") documents it.
package wire
