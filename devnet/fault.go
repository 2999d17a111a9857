package devnet

import (
	"context"
	"path/filepath"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/store"
)

// DropBlob deletes blob h's bytes from provider i's store, as a lost disk
// sector would: it stops the provider, drops the blob (its leaves stay),
// and starts the provider again. For tests of audits and challenges.
func (n *Network) DropBlob(ctx context.Context, i int, h core.H256) error {
	if err := n.StopProvider(i); err != nil {
		return err
	}
	n.mu.Lock()
	dir := filepath.Join(n.providers[i].entry.DataDir, "store")
	n.mu.Unlock()
	if err := store.DropBlob(dir, h); err != nil {
		n.StartProvider(ctx, i)
		return err
	}
	return n.StartProvider(ctx, i)
}
