package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

// TestClientStackSharesHealthAcrossRuns checks the CLI's wiring of the
// provider pool: what one run learns about a provider's health is there for
// the next run of the same account (the file beside the state file, saved
// when the stack closes), and not for another account.
func TestClientStackSharesHealthAcrossRuns(t *testing.T) {
	n := chaintest.Start(t)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func(signer string) *clientStack {
		t.Helper()
		s, err := newClientStack(ctx, clientOptions{Chain: n.RPCURL(), Signer: signer, Home: home})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p := core.AccountID{7}
	first := open("alice")
	first.Pool.Record(p, time.Millisecond, errors.New("connection refused"))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		signer string
		want   bool
	}{
		{"alice", true}, // the next run of the same account
		{"bob", false},  // another account keeps its own
	} {
		s := open(tc.signer)
		h, ok := s.Pool.Health(p)
		if ok != tc.want || (ok && (h.LastError != "connection refused" || h.TotalRequests != 1)) {
			t.Errorf("%s: health %+v %v, want recorded %v", tc.signer, h, ok, tc.want)
		}
		s.Close()
	}
}
