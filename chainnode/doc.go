// Package chainnode runs the Cairn chain: CometBFT embedded in-process
// with the chain application, one validator per Node. It lays out node
// homes (Init for a single dev validator, Testnet for N validators on
// 127.0.0.1 ports), starts and stops nodes, and serves CometBFT's RPC on a
// listener it owns, so "127.0.0.1:0" works and RPCURL reports the bound
// address.
//
// A node home holds:
//
//	config/genesis.json              CometBFT genesis; app_state is chain.Genesis
//	config/cairn-node.json           this package's NodeConfig (listen addresses, peers, timeouts)
//	config/node_key.json             P2P key
//	config/priv_validator_key.json   validator key
//	data/                            CometBFT's stores and priv_validator_state.json
//	data/cairn.db/                   the application's state (Pebble)
package chainnode
