package checkpoint

import (
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providerclient"
)

// HTTPDialer reaches providers over their HTTP API. Requests that need a
// signature (blob reads for audits) are signed by key, bound to chainID.
// The per-request timeout is left to the manager (ProviderTimeout).
func HTTPDialer(key core.PrivateKey, chainID string) Dialer {
	return func(baseURL string) (Provider, error) {
		c, err := providerclient.New(baseURL, providerclient.Options{Signer: key, ChainID: chainID, Timeout: core.NoTimeout}) // every call carries its caller's deadline (ProviderTimeout, WriteTimeout, ...)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
