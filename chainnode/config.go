package chainnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// NodeConfig is what a node home keeps in config/cairn-node.json: the
// settings of this node that are not in the genesis.
type NodeConfig struct {
	Moniker string `json:"moniker"`
	// RPCListen is host:port for CometBFT's RPC (HTTP and websocket);
	// port 0 picks a free port. "" disables RPC.
	RPCListen string `json:"rpc_listen"`
	// P2PListen is host:port for peer connections; port 0 picks a free
	// port (fine for a single validator).
	P2PListen string `json:"p2p_listen"`
	// PersistentPeers is CometBFT's id@host:port,... list.
	PersistentPeers string `json:"persistent_peers,omitempty"`
	// TimeoutCommit is the pause after a commit before the next height:
	// about the block interval of a lone validator.
	TimeoutCommit Duration `json:"timeout_commit"`
	// TimeoutPropose is how long validators wait for a proposal before
	// moving to the next round (a stopped proposer costs this much).
	TimeoutPropose Duration `json:"timeout_propose"`
}

// Duration is a time.Duration written as a string ("200ms") in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultNodeConfig is a dev validator: RPC on 127.0.0.1:26657, P2P on a
// free loopback port, 200 ms between blocks.
func DefaultNodeConfig() NodeConfig {
	return NodeConfig{
		Moniker:        "cairn",
		RPCListen:      "127.0.0.1:26657",
		P2PListen:      "127.0.0.1:0",
		TimeoutCommit:  Duration(200 * time.Millisecond),
		TimeoutPropose: Duration(1 * time.Second),
	}
}

// Validate checks c.
func (c NodeConfig) Validate() error {
	const op = "chainnode.NodeConfig"
	if c.P2PListen == "" {
		return core.Errorf(op, core.Invalid, "p2p_listen is required")
	}
	if c.TimeoutCommit < 0 || c.TimeoutPropose <= 0 {
		return core.Errorf(op, core.Invalid, "timeouts must be positive")
	}
	return nil
}

// Config says how to run a node.
type Config struct {
	// Home is the node's home directory (see the package doc).
	Home string
	// Node overrides the home's cairn-node.json when non-nil. Options
	// below override single fields of whichever applies.
	Node *NodeConfig
	// RPCListen, when set, overrides the RPC listen address.
	RPCListen string
	// TimeoutCommit, when set, overrides the block interval.
	TimeoutCommit time.Duration
	// Logger receives the application's logs (default: discard).
	Logger *slog.Logger
	// CometLog receives CometBFT's logs (default: discard), filtered at
	// CometLogLevel ("error", "info" or "debug"; default "error").
	CometLog      io.Writer
	CometLogLevel string
}

const nodeConfigFile = "cairn-node.json"

func configDir(home string) string      { return filepath.Join(home, "config") }
func nodeConfigPath(home string) string { return filepath.Join(configDir(home), nodeConfigFile) }

// ReadNodeConfig reads a home's cairn-node.json.
func ReadNodeConfig(home string) (NodeConfig, error) {
	const op = "chainnode.ReadNodeConfig"
	var c NodeConfig
	b, err := os.ReadFile(nodeConfigPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return c, core.E(op, core.NotFound, fmt.Errorf("%s is not a node home (no config/%s)", home, nodeConfigFile))
	}
	if err != nil {
		return c, core.E(op, core.Internal, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, core.E(op, core.Invalid, fmt.Errorf("%s: %w", nodeConfigPath(home), err))
	}
	return c, c.Validate()
}

// WriteNodeConfig writes a home's cairn-node.json.
func WriteNodeConfig(home string, c NodeConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return core.E("chainnode.WriteNodeConfig", core.Internal, err)
	}
	if err := core.WriteFileAtomic(nodeConfigPath(home), append(b, '\n'), 0o644); err != nil {
		return core.E("chainnode.WriteNodeConfig", core.Internal, err)
	}
	return nil
}

// IsHome reports whether dir holds an initialised node home.
func IsHome(dir string) bool {
	_, err := os.Stat(nodeConfigPath(dir))
	return err == nil
}

// mempoolMaxTxBytes admits the largest transaction the chain accepts.
const mempoolMaxTxBytes = wire.MaxTxBytes

// rpcMaxBodyBytes admits a broadcast of the largest transaction (hex or
// base64 in JSON) with room to spare.
const rpcMaxBodyBytes = 3 * wire.MaxTxBytes
