package chainclient

import (
	"context"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// ChallengeFilter selects challenges; zero fields match everything.
type ChallengeFilter = wire.ChallengeFilter

// Params returns the chain's parameters.
func (c *Client) Params(ctx context.Context) (wire.Params, error) {
	var p wire.Params
	err := c.query(ctx, "chainclient.Params", wire.PathParams(), &p)
	return p, err
}

// Status returns the chain id, the committed height and app hash, and the
// parameters, as the application sees them.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var s wire.Status
	err := c.query(ctx, "chainclient.Status", wire.PathStatus(), &s)
	return s, err
}

// Account returns an account's balance, stake and nonce (zero for an
// account the chain has never seen).
func (c *Client) Account(ctx context.Context, a core.AccountID) (wire.Account, error) {
	var v wire.Account
	err := c.query(ctx, "chainclient.Account", wire.PathAccount(a), &v)
	return v, err
}

// NextNonce returns the nonce a's next transaction must carry, counting
// transactions waiting in the node's mempool.
func (c *Client) NextNonce(ctx context.Context, a core.AccountID) (wire.NextNonce, error) {
	var v wire.NextNonce
	err := c.query(ctx, "chainclient.NextNonce", wire.PathNonce(a), &v)
	return v, err
}

// Provider returns a registered provider (NotFound if a is not one).
func (c *Client) Provider(ctx context.Context, a core.AccountID) (wire.Provider, error) {
	var v wire.Provider
	err := c.query(ctx, "chainclient.Provider", wire.PathProvider(a), &v)
	return v, err
}

// Providers returns every registered provider, ordered by account.
func (c *Client) Providers(ctx context.Context) ([]wire.Provider, error) {
	var v []wire.Provider
	err := c.query(ctx, "chainclient.Providers", wire.PathProviders(), &v)
	return v, err
}

// Bucket returns a bucket (NotFound if there is none with that id).
func (c *Client) Bucket(ctx context.Context, b core.BucketID) (wire.Bucket, error) {
	var v wire.Bucket
	err := c.query(ctx, "chainclient.Bucket", wire.PathBucket(b), &v)
	return v, err
}

// BucketAgreements returns a bucket's agreements, ordered by provider,
// expired ones included (Active says which are in force).
func (c *Client) BucketAgreements(ctx context.Context, b core.BucketID) ([]wire.Agreement, error) {
	var v []wire.Agreement
	err := c.query(ctx, "chainclient.BucketAgreements", wire.PathAgreements(b), &v)
	return v, err
}

// ProviderAgreements returns the agreements a provider holds, ordered by
// bucket. An expired one stays listed (Active false) until the provider's
// next agreement prunes it from the chain's index; an ended one is gone. It is
// an indexed query: its cost grows with the provider's own agreements,
// not with the chain.
func (c *Client) ProviderAgreements(ctx context.Context, p core.AccountID) ([]wire.Agreement, error) {
	var v []wire.Agreement
	err := c.query(ctx, "chainclient.ProviderAgreements", wire.PathProviderAgreements(p), &v)
	return v, err
}

// LatestCheckpoint returns a bucket's latest checkpoint (NotFound if the
// bucket has none, or does not exist).
func (c *Client) LatestCheckpoint(ctx context.Context, b core.BucketID) (wire.Checkpoint, error) {
	var v wire.Checkpoint
	err := c.query(ctx, "chainclient.LatestCheckpoint", wire.PathCheckpoint(b), &v)
	return v, err
}

// CheckpointHistory returns a bucket's checkpoints, oldest first.
func (c *Client) CheckpointHistory(ctx context.Context, b core.BucketID) ([]wire.Checkpoint, error) {
	var v []wire.Checkpoint
	err := c.query(ctx, "chainclient.CheckpointHistory", wire.PathCheckpoints(b), &v)
	return v, err
}

// Equivocations returns the equivocations recorded on a bucket (two
// writer-signed leaves at one seq), ordered by seq.
func (c *Client) Equivocations(ctx context.Context, b core.BucketID) ([]wire.Equivocation, error) {
	var v []wire.Equivocation
	err := c.query(ctx, "chainclient.Equivocations", wire.PathEquivocations(b), &v)
	return v, err
}

// Challenge returns a challenge (NotFound if there is none with that id).
func (c *Client) Challenge(ctx context.Context, id core.ChallengeID) (wire.Challenge, error) {
	var v wire.Challenge
	err := c.query(ctx, "chainclient.Challenge", wire.PathChallenge(id), &v)
	return v, err
}

// Challenges returns the challenges f selects, ordered by id.
func (c *Client) Challenges(ctx context.Context, f ChallengeFilter) ([]wire.Challenge, error) {
	var v []wire.Challenge
	err := c.query(ctx, "chainclient.Challenges", wire.PathChallenges(f), &v)
	return v, err
}

// Drive returns a drive (NotFound if there is none with that id).
func (c *Client) Drive(ctx context.Context, id core.DriveID) (wire.Drive, error) {
	var v wire.Drive
	err := c.query(ctx, "chainclient.Drive", wire.PathDrive(id), &v)
	return v, err
}

// DrivesByOwner returns the drives owner owns, ordered by id.
func (c *Client) DrivesByOwner(ctx context.Context, owner core.AccountID) ([]wire.Drive, error) {
	var v []wire.Drive
	err := c.query(ctx, "chainclient.DrivesByOwner", wire.PathDrives(owner), &v)
	return v, err
}

// Validators returns the active validator set, by consensus key.
func (c *Client) Validators(ctx context.Context) ([]wire.Validator, error) {
	var out []wire.Validator
	return out, c.query(ctx, "chainclient.Validators", wire.PathValidators(), &out)
}
