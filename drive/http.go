package drive

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providerclient"
)

// HTTPStorage reaches providers over their HTTP API, signing writes and
// reads with key for chainID.
func HTTPStorage(key core.PrivateKey, chainID string) StorageDialer {
	return HTTPStorageWith(key, chainID, nil)
}

// HTTPStorageWith is HTTPStorage sending through hc (nil: the default
// client); tests pass clients whose transport drops, delays or corrupts.
func HTTPStorageWith(key core.PrivateKey, chainID string, hc *http.Client) StorageDialer {
	return func(baseURL string) (Storage, error) {
		c, err := providerclient.New(baseURL, providerclient.Options{Signer: key, ChainID: chainID, HTTPClient: hc, Timeout: core.NoTimeout}) // every call carries its caller's deadline (ProviderTimeout, WriteTimeout, ...)
		if err != nil {
			return nil, err
		}
		return &httpStorage{c: c, key: key}, nil
	}
}

type httpStorage struct {
	c   *providerclient.Client
	key core.PrivateKey
}

func (s *httpStorage) Write(ctx context.Context, bucket core.BucketID, leaf core.SignedLeaf, data []byte) (core.Leaf, error) {
	// A provider that is behind answers with a *core.BehindError in the
	// chain, which the session finds with errors.As.
	r, err := s.c.Write(ctx, bucket, leaf, bytes.NewReader(data), s.key)
	return r.Leaf, err
}

func (s *httpStorage) Commitment(ctx context.Context, bucket core.BucketID) (core.SignedCommitment, error) {
	return s.c.Commitment(ctx, bucket)
}

func (s *httpStorage) Leaves(ctx context.Context, bucket core.BucketID, from uint64, limit int) ([]core.SignedLeaf, error) {
	return s.c.Leaves(ctx, bucket, from, limit)
}

func (s *httpStorage) Blob(ctx context.Context, bucket core.BucketID, hash core.H256) (io.ReadCloser, error) {
	return s.c.Blob(ctx, bucket, hash)
}

func (s *httpStorage) Used(ctx context.Context, bucket core.BucketID) (uint64, error) {
	// GET /usage: one bucket's figures, a signed read (a provider's
	// /health names none of its buckets).
	u, err := s.c.Usage(ctx, bucket)
	if err != nil {
		return 0, err
	}
	return u.Bytes, nil
}
