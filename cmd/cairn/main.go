// Command cairn is the Cairn command line: a client for drives and files, a
// provider node, a chain node, and a local development network.
package main

import (
	"os"

	"github.com/cairn-storage/cairn/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
