// Package chainclient talks to a Cairn chain node over CometBFT's RPC: it
// builds, signs and broadcasts transactions and waits for them to commit,
// answers every chain query with a typed method, and follows new blocks and
// chain events over a websocket that reconnects when the node restarts.
//
// Errors carry a core.Kind: NotFound for unknown ids, Unavailable when the
// node cannot be reached (retry), and for a refused transaction the kind of
// its ABCI result code, with a *wire.TxError as the cause.
package chainclient
