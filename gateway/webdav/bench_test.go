package webdav_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// BenchmarkPropfindDepth1 lists a directory of 100 files.
func BenchmarkPropfindDepth1(b *testing.B) {
	n := startNet(b)
	c := newClient(b, n)
	ctx := context.Background()
	if _, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "bench", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := c.UploadFile(ctx, "bench", fmt.Sprintf("/d/f%03d.txt", i), strings.NewReader("x"), drive.UploadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(webdav.NewHandler(c, nil))
	b.Cleanup(srv.Close)
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("PROPFIND", srv.URL+"/dav/bench/d/", nil)
		req.Header.Set("Depth", "1")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusMultiStatus {
			b.Fatalf("PROPFIND: %v %v", res, err)
		}
		res.Body.Close()
	}
}
