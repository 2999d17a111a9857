package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
)

// TestS3ParallelPuts sends eight PutObjects to one drive at once, as
// rclone and the SDKs' transfer managers do: every one succeeds and every
// object reads back (the drive client serialises the writes of one
// drive within the process; their bodies wait in their connections).
func TestS3ParallelPuts(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "par", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	bodies := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		bodies[i] = randomBytes(uint64(100+i), 100_000+i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = g.cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("par"), Key: aws.String(fmt.Sprintf("d/%d.bin", i)), Body: bytes.NewReader(bodies[i])})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("PutObject %d: %v", i, errs[i])
			continue
		}
		if got := get(t, g.cl, "par", fmt.Sprintf("d/%d.bin", i), ""); !bytes.Equal(got, bodies[i]) {
			t.Errorf("object %d read back %d bytes, want %d", i, len(got), len(bodies[i]))
		}
	}
}
