// Package devnet wires real Cairn components into a local network: the
// chain (CometBFT embedded in-process, one validator) and N storage
// providers, either in-process HTTP servers or child processes of the cairn
// binary, each funded, staked and registered on the chain. It backs
// `cairn dev`, `cairn demo` and the end-to-end tests.
//
// A network lives in a directory:
//
//	DIR/devnet.json          the manifest: chain RPC URL, each provider's
//	                         endpoint, account, data dir, pid and command line
//	DIR/chain/               the validator's home
//	DIR/providers/pK/        provider K's data, key (provider.key) and log
//
// Starting again from the same directory restarts the same network with its
// state: the providers keep their keys, data and ports.
package devnet
