package checkpoint

import (
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providerclient"
)

// callerTimeout effectively switches off providerclient's own per-request
// timeout: every call here already carries a context deadline chosen by
// the caller (ProviderTimeout, WriteTimeout, ReadTimeout, ...).
const callerTimeout = 24 * time.Hour

// HTTPDialer reaches providers over their HTTP API. Requests that need a
// signature (blob reads for audits) are signed by key, bound to chainID.
// The per-request timeout is left to the manager (ProviderTimeout).
func HTTPDialer(key core.PrivateKey, chainID string) Dialer {
	return func(baseURL string) (Provider, error) {
		c, err := providerclient.New(baseURL, providerclient.Options{Signer: key, ChainID: chainID, Timeout: callerTimeout})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
