package providers

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// ChainReader is what discovery reads from the chain; *chainclient.Client
// fits.
type ChainReader interface {
	// Bucket gives the bucket's on-chain quorum, which raises the threshold.
	Bucket(ctx context.Context, bucket core.BucketID) (wire.Bucket, error)
	BucketAgreements(ctx context.Context, bucket core.BucketID) ([]wire.Agreement, error)
	Provider(ctx context.Context, account core.AccountID) (wire.Provider, error)
}

// EndpointResolver turns a registered endpoint (multiaddr or URL) into an
// HTTP base URL; providerclient.BaseURL fits.
type EndpointResolver func(endpoint string) (string, error)
