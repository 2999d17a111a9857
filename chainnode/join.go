package chainnode

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/cairn-storage/cairn/chain"
	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// maxGenesisBytes bounds a genesis file read from a user or a peer.
const maxGenesisBytes = 16 << 20

// JoinOptions describe a node joining a network that already runs.
type JoinOptions struct {
	// Genesis is the network's config/genesis.json, byte for byte.
	Genesis []byte
	// Peers is CometBFT's id@host:port,... list of nodes to sync from;
	// at least one.
	Peers string
	// Node is this node's configuration (default DefaultNodeConfig());
	// its PersistentPeers is set to Peers.
	Node NodeConfig
}

// InitJoin lays out a home in dir for a node that joins an existing
// network: fresh keys, the network's genesis, the peers. It starts as a
// non-validator that syncs from its peers; its operator can then make it
// a validator with a join_validator transaction (JoinValidatorCall).
func InitJoin(dir string, o JoinOptions) error {
	const op = "chainnode.InitJoin"
	if IsHome(dir) {
		return core.Errorf(op, core.Exists, "%s is already a node home", dir)
	}
	gen, err := ParseGenesis(o.Genesis)
	if err != nil {
		return err
	}
	peers, err := ParsePeers(o.Peers)
	if err != nil {
		return err
	}
	if len(peers) == 0 {
		return core.Errorf(op, core.Invalid, "a joining node needs at least one peer")
	}
	if o.Node == (NodeConfig{}) {
		o.Node = DefaultNodeConfig()
	}
	o.Node.PersistentPeers = strings.Join(peers, ",")
	if err := o.Node.Validate(); err != nil {
		return err
	}
	if _, err := makeKeys(dir); err != nil {
		return err
	}
	if err := gen.SaveAs(cometConfig(dir).GenesisFile()); err != nil {
		return core.E(op, core.Internal, err)
	}
	return WriteNodeConfig(dir, o.Node)
}

// ParseGenesis checks a CometBFT genesis file whose app_state is a valid
// chain.Genesis. It never panics on input and refuses files above 16 MiB.
func ParseGenesis(b []byte) (*types.GenesisDoc, error) {
	const op = "chainnode.ParseGenesis"
	if len(b) > maxGenesisBytes {
		return nil, core.Errorf(op, core.Invalid, "genesis of %d bytes, at most %d", len(b), maxGenesisBytes)
	}
	// types.GenesisDocFromJSON, with the check it lacks: a validator with
	// an address and no public key makes its ValidateAndComplete panic.
	gen := new(types.GenesisDoc)
	if err := cmtjson.Unmarshal(b, gen); err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	for i, v := range gen.Validators {
		if v.PubKey == nil {
			return nil, core.Errorf(op, core.Invalid, "genesis validator %d has no pub_key", i)
		}
	}
	if err := gen.ValidateAndComplete(); err != nil {
		return nil, core.E(op, core.Invalid, err)
	}
	var g chain.Genesis
	d := json.NewDecoder(bytes.NewReader(gen.AppState))
	d.DisallowUnknownFields()
	if err := d.Decode(&g); err != nil {
		return nil, core.Errorf(op, core.Invalid, "app_state: %v", err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return gen, nil
}

// ParsePeers checks a comma-separated list of id@host:port peers and
// returns its entries (none for "").
func ParsePeers(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := p2p.NewNetAddressString(p); err != nil {
			return nil, core.Errorf("chainnode.ParsePeers", core.Invalid, "peer %q: want id@host:port: %v", p, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ReadGenesis returns a home's config/genesis.json.
func ReadGenesis(home string) ([]byte, error) {
	b, err := os.ReadFile(cometConfig(home).GenesisFile())
	if err != nil {
		return nil, core.E("chainnode.ReadGenesis", core.NotFound, err)
	}
	return b, nil
}

// PeerAddress is the id@host:port other nodes name a home's node by, from
// its node key and configured P2P address.
func PeerAddress(home string) (string, error) {
	nc, err := ReadNodeConfig(home)
	if err != nil {
		return "", err
	}
	nk, err := p2p.LoadNodeKey(cometConfig(home).NodeKeyFile())
	if err != nil {
		return "", core.E("chainnode.PeerAddress", core.NotFound, err)
	}
	return string(nk.ID()) + "@" + nc.P2PListen, nil
}

// JoinValidatorCall builds the join_validator call that makes home's node
// a validator bonded by operator on chainID: its consensus key and that
// key's proof of possession (wire.ValidatorProofPayload).
func JoinValidatorCall(home, chainID string, operator core.AccountID, stake uint64) (wire.JoinValidator, error) {
	const op = "chainnode.JoinValidatorCall"
	c := cometConfig(home)
	// Read here rather than with privval.LoadFilePV, which exits the
	// process on a bad file.
	b, err := os.ReadFile(c.PrivValidatorKeyFile())
	if err != nil {
		return wire.JoinValidator{}, core.E(op, core.NotFound, err)
	}
	var key privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &key); err != nil || key.PubKey == nil || key.PrivKey == nil {
		return wire.JoinValidator{}, core.Errorf(op, core.Invalid, "%s: not a validator key file: %v", c.PrivValidatorKeyFile(), err)
	}
	pub := key.PubKey.Bytes()
	if len(pub) != len(wire.ValidatorKey{}) || key.PubKey.Type() != "ed25519" {
		return wire.JoinValidator{}, core.Errorf(op, core.Invalid, "%s: not an ed25519 consensus key", c.PrivValidatorKeyFile())
	}
	sig, err := key.PrivKey.Sign(wire.ValidatorProofPayload(chainID, operator))
	if err != nil || len(sig) != len(core.Signature{}) {
		return wire.JoinValidator{}, core.Errorf(op, core.Internal, "sign the proof: %v", err)
	}
	return wire.JoinValidator{PubKey: wire.ValidatorKey(pub), Stake: stake, Proof: core.Signature(sig)}, nil
}
