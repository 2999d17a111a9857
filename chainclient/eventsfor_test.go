package chainclient_test

import (
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
)

// SubscribeEventsFor delivers the events addressed to one account and
// none of another's, found by the node's index.
func TestSubscribeEventsFor(t *testing.T) {
	n := chaintest.Start(t)
	c := chaintest.Client(t, n)
	ctx := timeout(t, 60*time.Second)
	if _, err := c.SubscribeEventsFor(ctx, wire.EventAgreementCreated, "provider", "x' OR 1=1"); core.KindOf(err) != core.Invalid {
		t.Fatalf("a quote in the filter: %v", err)
	}
	mine, other := dev("dave"), dev("eve")
	evs, err := c.SubscribeEventsFor(ctx, wire.EventAgreementCreated, "provider", mine.Account().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []core.PrivateKey{mine, other} {
		if _, err := c.Submit(ctx, k, wire.RegisterProvider{Endpoint: "http://p", Stake: 1_000_000, Capacity: 1 << 30, Terms: wire.ProviderTerms{Accepting: true}}); err != nil {
			t.Fatal(err)
		}
	}
	alice := dev("alice")
	// Agreements for the other provider before and after the one for ours.
	for _, p := range []core.PrivateKey{other, mine, other} {
		res, err := c.Submit(ctx, alice, wire.CreateBucket{Quorum: 1})
		if err != nil {
			t.Fatal(err)
		}
		var bucket core.BucketID
		for _, ev := range res.Events {
			if ev.Type == wire.EventBucketCreated {
				bucket, _ = core.ParseBucketID(ev.Attributes["bucket"])
			}
		}
		if _, err := c.Submit(ctx, alice, wire.CreateAgreement{Bucket: bucket, Provider: p.Account(), Role: wire.Primary, MaxBytes: 1, Duration: 100}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-evs:
		if ev.Attributes["provider"] != mine.Account().String() || ev.Type != wire.EventAgreementCreated || ev.Height == 0 {
			t.Fatalf("event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no event for the provider")
	}
	// The other's agreement was created after ours: had it been delivered
	// it would be queued by now, as ours was.
	h, _ := c.Height(ctx)
	if err := n.WaitForHeight(ctx, h+3); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-evs:
		t.Fatalf("an event not for the provider: %+v", ev)
	default:
	}
	// Close waits for the subscription's goroutine, which closes the
	// channel as it ends.
	c.Close()
	if _, open := <-evs; open {
		t.Fatal("event channel open after Close")
	}
}
