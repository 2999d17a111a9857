package chaintest_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

func TestStartSubmitQuery(t *testing.T) {
	n := chaintest.Start(t)
	c := chaintest.Client(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, _ := core.DevKey("alice")
	bob, _ := core.DevKey("bob")
	start := time.Now()
	res, err := c.Submit(ctx, alice, wire.Transfer{To: bob.Account(), Amount: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("committed at %d in %v, events %+v", res.Height, time.Since(start), res.Events)
	acc, err := c.Account(ctx, bob.Account())
	if err != nil {
		t.Fatal(err)
	}
	if acc.Balance != 1_000_000_000_007 {
		t.Fatalf("bob %+v", acc)
	}
}
