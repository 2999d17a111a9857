package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// lockedBuffer is a log sink safe for the manager's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// breakStateDir makes dir impossible to write: it becomes a regular file,
// so creating the lock or the temp file fails with ENOTDIR (which holds
// for root too, unlike a chmod).
func breakStateDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// When the state directory cannot be written, the challenge bookkeeping
// says so: opening a challenge returns its id with an error (the
// challenge exists on chain, our record of it does not), resolving one
// returns the error of forgetting it, and a divergence that cannot be
// counted is logged.
func TestStateFileErrorsSurface(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, m *Manager, ch *fakeChain, ps []*fakeProvider, logs *lockedBuffer, breakIt func())
	}{
		{"opening a challenge", func(t *testing.T, m *Manager, ch *fakeChain, ps []*fakeProvider, logs *lockedBuffer, breakIt func()) {
			breakIt()
			sc, _ := ps[1].Commitment(context.Background(), bucket)
			id, err := m.ChallengeProvider(context.Background(), bucket, ps[1].key.Account(), wire.ChallengeEvidence{Commitment: &sc}, 0, "test")
			if err == nil || id == 0 || !errors.Is(err, core.Internal) {
				t.Fatalf("id %s, err %v: want the opened challenge's id with an internal error", id, err)
			}
			if !strings.Contains(logs.String(), "not recorded") {
				t.Fatalf("not logged: %s", logs)
			}
		}},
		{"resolving a challenge", func(t *testing.T, m *Manager, ch *fakeChain, ps []*fakeProvider, logs *lockedBuffer, breakIt func()) {
			ctx := context.Background()
			sc, _ := ps[1].Commitment(ctx, bucket)
			id, err := m.ChallengeProvider(ctx, bucket, ps[1].key.Account(), wire.ChallengeEvidence{Commitment: &sc}, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			breakIt()
			ch.height.Add(10)
			err = m.ResolveExpiredChallenges(ctx)
			if err == nil || !errors.Is(err, core.Internal) || !strings.Contains(err.Error(), id.String()) {
				t.Fatalf("resolve: %v, want the state error for challenge %s", err, id)
			}
			if c, _ := ch.Challenge(ctx, id); c.State != wire.ChallengeSlashed {
				t.Fatalf("challenge %s on chain, want it resolved all the same", c.State)
			}
		}},
		{"counting a divergence", func(t *testing.T, m *Manager, ch *fakeChain, ps []*fakeProvider, logs *lockedBuffer, breakIt func()) {
			// Equal leaf counts, a different last leaf on provider 2.
			ps[0].write([]byte("x"))
			ps[1].write([]byte("x"))
			ps[2].write([]byte("only on 2"))
			breakIt()
			r := m.SubmitCheckpoint(context.Background(), bucket)
			if r.Conflict == nil || len(r.Conflict.Conflicts) != 1 || !r.Conflict.Conflicts[0].Proven {
				t.Fatalf("want one proven divergence: %+v", r.Conflict)
			}
			for _, want := range []string{"recording a divergence", "persisting checkpoint state"} {
				if !strings.Contains(logs.String(), want) {
					t.Fatalf("%q not logged: %s", want, logs)
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := cluster(3, 3)
			ch := newFakeChain(ps...)
			dir := filepath.Join(t.TempDir(), "state")
			logs := &lockedBuffer{}
			cfg := testConfig()
			cfg.WaitForAll = true
			cfg.MaxRetries = 0
			cfg.AutoChallenge.Enabled = true
			m := newManager(t, ch, cfg, WithStateFile(filepath.Join(dir, "alice.json")),
				WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
			if err := m.MarkDirty(bucket); err != nil { // the file exists and works first
				t.Fatal(err)
			}
			tt.run(t, m, ch, ps, logs, func() { breakStateDir(t, dir) })
			if err := m.MarkDirty(bucket + 1); err == nil {
				t.Fatalf("the state directory %s is still writable", dir)
			}
		})
	}
}
