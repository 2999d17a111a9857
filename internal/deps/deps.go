package deps

import (
	_ "github.com/cockroachdb/pebble"
	_ "github.com/cometbft/cometbft/node"
	_ "github.com/ipfs/go-cid"
	_ "github.com/multiformats/go-multihash"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "github.com/stretchr/testify/require"
	_ "go.uber.org/goleak"
	_ "golang.org/x/net/webdav"
	_ "pgregory.net/rapid"
)
