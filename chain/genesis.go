package chain

import (
	"encoding/json"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// DevChainID is the chain id of a development chain.
const DevChainID = "cairn-dev"

// DevBalance is what each dev account holds at genesis.
const DevBalance = 1_000_000_000_000

// Genesis is the application's part of the genesis file (CometBFT's
// app_state): the parameters and the funded accounts.
type Genesis struct {
	Params   wire.Params      `json:"params"`
	Accounts []GenesisAccount `json:"accounts"`
}

// GenesisAccount is an account funded at genesis.
type GenesisAccount struct {
	ID      core.AccountID `json:"id"`
	Name    string         `json:"name,omitempty"` // informational
	Balance uint64         `json:"balance"`
}

// DevGenesis funds every dev account (core.DevAccountNames) with
// DevBalance and uses wire.DefaultParams.
func DevGenesis() Genesis {
	g := Genesis{Params: wire.DefaultParams()}
	for _, n := range core.DevAccountNames {
		k, _ := core.DevKey(n)
		g.Accounts = append(g.Accounts, GenesisAccount{ID: k.Account(), Name: n, Balance: DevBalance})
	}
	return g
}

// Validate checks the genesis: valid parameters, each account once.
func (g Genesis) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	seen := map[core.AccountID]bool{}
	for _, a := range g.Accounts {
		if seen[a.ID] {
			return core.Errorf("chain.Genesis", core.Invalid, "account %s funded twice", a.ID.Short())
		}
		seen[a.ID] = true
	}
	return nil
}

// JSON returns the genesis as app_state JSON.
func (g Genesis) JSON() (json.RawMessage, error) {
	b, err := json.Marshal(g)
	return b, err
}
