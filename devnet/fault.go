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
	return n.alterStore(ctx, i, func(dir string) error { return store.DropBlob(dir, h) })
}

// CorruptBlob flips a byte of blob h in provider i's store, as bit rot
// would: it stops the provider, corrupts the blob (its length and leaves
// stay), and starts the provider again. Readers must notice the bytes no
// longer match the leaf's hash and move on.
func (n *Network) CorruptBlob(ctx context.Context, i int, h core.H256) error {
	return n.alterStore(ctx, i, func(dir string) error { return store.CorruptBlob(dir, h) })
}

// alterStore stops provider i, applies change to its store directory, and
// starts it again (also when change fails).
func (n *Network) alterStore(ctx context.Context, i int, change func(dir string) error) error {
	if err := n.StopProvider(i); err != nil {
		return err
	}
	n.mu.Lock()
	dir := StoreDir(n.providers[i].entry.DataDir)
	n.mu.Unlock()
	if err := change(dir); err != nil {
		n.StartProvider(ctx, i)
		return err
	}
	return n.StartProvider(ctx, i)
}

// StoreDir is where a provider with data directory dataDir keeps its
// Pebble store (for fault injectors that reach it while it is stopped).
func StoreDir(dataDir string) string { return filepath.Join(dataDir, "store") }
