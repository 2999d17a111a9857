// Package chainnode runs the Cairn chain: CometBFT embedded in-process
// with the chain application, one node per Node. It lays out node homes
// (Init for a single dev validator, Testnet for N validators on one host's
// ports or one per host, InitJoin for a node that joins a running network
// from its genesis file and peers), builds the join_validator call that
// bonds a home's consensus key (JoinValidatorCall), starts and stops nodes, and serves CometBFT's RPC on a
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
