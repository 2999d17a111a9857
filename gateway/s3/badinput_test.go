package s3_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/s3"
	"github.com/cairn-storage/cairn/internal/poll"
)

// rawRequest sends head (a request line and headers, without the blank
// line) and body as they are, on a connection of its own, and returns the
// status and body of the answer. Sizes may be claimed that the body never
// brings: the answer must come without the gateway waiting for them.
func rawRequest(t *testing.T, url, head, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "%s\r\nHost: x\r\n\r\n%s", head, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", head, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestS3BadInput sends what a malicious or broken client could: claimed
// sizes far beyond the body, paths that climb, a body cut short. Each
// gets S3's own error, nothing is stored, and the gateway goes on.
func TestS3BadInput(t *testing.T) {
	g := gatewayWith(t, func(c *s3.Config) { c.MaxTempBytes = 1 << 20; c.MaxPartSize = 4 << 20 }, false)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "in", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	status, body := rawRequest(t, g.url, "POST /in/up.bin?uploads HTTP/1.1\r\nContent-Length: 0", "")
	id := between(body, "<UploadId>", "</UploadId>")
	if status != 200 || id == "" {
		t.Fatalf("CreateMultipartUpload: %d %s", status, body)
	}
	for _, c := range []struct {
		name, head, body string
		status           int
		code             string
	}{
		{"a part claiming 1 TiB", "PUT /in/up.bin?partNumber=1&uploadId=" + id + " HTTP/1.1\r\nContent-Length: 1099511627776", "x", 400, "EntityTooLarge"},
		{"a part past the temporary area", "PUT /in/up.bin?partNumber=1&uploadId=" + id + " HTTP/1.1\r\nContent-Length: 2097152", "x", 400, "EntityTooLarge"},
		{"a part number past 10000", "PUT /in/up.bin?partNumber=10001&uploadId=" + id + " HTTP/1.1\r\nContent-Length: 1", "x", 400, "InvalidPart"},
		{"an upload id never given", "PUT /in/up.bin?partNumber=1&uploadId=nosuch HTTP/1.1\r\nContent-Length: 1", "x", 404, "NoSuchUpload"},
		{"an object past the drive's quota", "PUT /in/huge.bin HTTP/1.1\r\nContent-Length: 1099511627776", "x", 400, "EntityTooLarge"},
		{"a key that climbs", "PUT /in/a/../../x HTTP/1.1\r\nContent-Length: 1", "x", 400, "InvalidArgument"},
		{"an encoded climb", "GET /in/a/%2e%2e/x HTTP/1.1", "", 400, "InvalidArgument"},
		{"a bucket with a control character", "GET /in%01/x HTTP/1.1", "", 404, "NoSuchBucket"},
		{"a negative length", "PUT /in/neg HTTP/1.1\r\nContent-Length: -5", "", 400, ""},
		{"max-keys not a number", "GET /in?list-type=2&max-keys=lots HTTP/1.1", "", 400, ""},
		{"a continuation token not base64", "GET /in?list-type=2&continuation-token=!!! HTTP/1.1", "", 400, ""},
	} {
		status, body := rawRequest(t, g.url, c.head, c.body)
		if status != c.status || (c.code != "" && !strings.Contains(body, "<Code>"+c.code+"</Code>")) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}

	// A PUT whose client goes away midway stores nothing.
	refused := opCount(t, g.reg, "PutObject", "400")
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /in/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("x", 50000))
	conn.Close()
	poll.True(t, 30*time.Second, "the cut PUT is answered", func() bool {
		return opCount(t, g.reg, "PutObject", "400") > refused
	})
	if _, err := g.c.Stat(ctx, "in", "/cut.bin"); core.KindOf(err) != core.NotFound {
		t.Errorf("a PUT cut midway: Stat says %v, want not found", err)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
