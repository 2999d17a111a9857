package chainclient_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/core"
)

// A client submits a call and reads its outcome; a refusal carries the
// chain's result code.
func ExampleClient_Submit() {
	ctx := context.Background()
	c, err := chainclient.New("http://127.0.0.1:26657")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	alice, _ := core.DevKey("alice")
	res, err := c.Submit(ctx, alice, wire.CreateBucket{Quorum: 2, MinProviders: 3})
	var te *wire.TxError
	switch {
	case errors.As(err, &te):
		fmt.Println("refused:", wire.CodeName(te.Code), te.Log)
	case core.KindOf(err) == core.Unavailable:
		fmt.Println("chain unreachable; try again")
	case err == nil:
		for _, ev := range res.Events {
			if ev.Type == wire.EventBucketCreated {
				fmt.Println("bucket", ev.Attributes["bucket"], "at height", res.Height)
			}
		}
	}
}

// Follow new blocks; the stream survives node restarts.
func ExampleClient_SubscribeBlocks() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := chainclient.New("http://127.0.0.1:26657")
	defer c.Close()
	heights, _ := c.SubscribeBlocks(ctx)
	for h := range heights {
		fmt.Println("block", h)
		if h > 10 {
			cancel()
		}
	}
}
