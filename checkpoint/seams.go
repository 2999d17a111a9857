package checkpoint

import (
	"context"
	"io"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/mmr"
	"github.com/cairn-storage/cairn/providers"
)

// ChainReader is what discovery and status read from the chain.
type ChainReader interface {
	ChainID(ctx context.Context) (string, error)
	Height(ctx context.Context) (int64, error)
	// Bucket gives the bucket's on-chain quorum (which raises the
	// threshold) and its writers (whose signatures make a leaf stand).
	Bucket(ctx context.Context, bucket core.BucketID) (wire.Bucket, error)
	BucketAgreements(ctx context.Context, bucket core.BucketID) ([]wire.Agreement, error)
	Provider(ctx context.Context, account core.AccountID) (wire.Provider, error)
	LatestCheckpoint(ctx context.Context, bucket core.BucketID) (wire.Checkpoint, error)
	Challenge(ctx context.Context, id core.ChallengeID) (wire.Challenge, error)
}

// TxSubmitter sends a signed call and returns once it is committed.
type TxSubmitter interface {
	Submit(ctx context.Context, signer core.PrivateKey, call wire.Call) (*wire.TxResult, error)
}

// Chain is the chain as the manager uses it; *chainclient.Client fits.
type Chain interface {
	ChainReader
	TxSubmitter
}

// BlockSource delivers new block heights; *chainclient.Client fits. The
// loop takes its ticks from it, so a test can step one block at a time.
type BlockSource interface {
	SubscribeBlocks(ctx context.Context) (<-chan int64, error)
}

// Provider is one provider's API as the manager uses it.
type Provider interface {
	Health(ctx context.Context) error
	Commitment(ctx context.Context, bucket core.BucketID) (core.SignedCommitment, error)
	ConsistencyProof(ctx context.Context, bucket core.BucketID, oldCount, newCount uint64) (*mmr.ConsistencyProof, error)
	Proof(ctx context.Context, bucket core.BucketID, leafIndex, leafCount uint64) (core.SignedLeaf, *mmr.InclusionProof, error)
	Leaves(ctx context.Context, bucket core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error)
	Blob(ctx context.Context, bucket core.BucketID, hash core.H256) (io.ReadCloser, error)
}

// Dialer returns the Provider API at a base URL (http://host:port).
type Dialer func(baseURL string) (Provider, error)

// EndpointResolver turns a registered endpoint (multiaddr or URL) into an
// HTTP base URL.
type EndpointResolver = providers.EndpointResolver

// Clock is time, injectable so back-off and caches can be tested.
type Clock interface {
	Now() time.Time
	// After is time.After: a channel that fires once after d.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
