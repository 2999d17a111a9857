package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-storage/cairn/core"
)

// KeyInfo is what `cairn key new` and `cairn key show` print.
type KeyInfo struct {
	File    string         `json:"file"`
	Account core.AccountID `json:"account"`
	Created bool           `json:"created,omitempty"`
}

func newKeyCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create an account key file, or show a key file's account",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "new FILE",
		Short: "Create a key file (mode 0600) and print its account",
		Long: `Create FILE holding a new ed25519 key (its 32-byte seed as 64 hex digits), readable by
its owner only, and print its account id: what genesis funds ('chain testnet --accounts'),
what --signer FILE signs as. An existing FILE is refused, never overwritten.
` + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return printKey(g, args[0], true)
		},
	}, &cobra.Command{
		Use:   "show FILE",
		Short: "Print a key file's account",
		Long:  "Print the account id of the key in FILE.\n" + exitStatusHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return printKey(g, args[0], false)
		},
	})
	return cmd
}

func printKey(g *Globals, file string, create bool) error {
	k, err := runKey(file, create)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g.Stdout, k)
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", k.Account, k.File)
	return nil
}

// runKey creates (create) or reads the key in file.
func runKey(file string, create bool) (KeyInfo, error) {
	if !create {
		k, err := core.ReadKeyFile(file)
		if err != nil {
			return KeyInfo{}, err
		}
		return KeyInfo{File: file, Account: k.Account()}, nil
	}
	if _, err := core.ReadKeyFile(file); core.KindOf(err) != core.NotFound {
		return KeyInfo{}, core.Errorf("key new", core.Exists, "%s exists: not overwritten", file)
	}
	k, err := core.LoadOrCreateKeyFile(file)
	if err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{File: file, Account: k.Account(), Created: true}, nil
}
