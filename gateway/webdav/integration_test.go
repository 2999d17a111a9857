package webdav_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/webdav"
)

// These tests serve drives of a real network (an embedded validator and
// three providers over Pebble, on loopback ports) through the gateway.

func startNet(t testing.TB) *devnet.Network {
	t.Helper()
	return devnettest.Start(t, 3)
}

// newClient wires a pool, a manager and a drive client as the CLI does.
func newClient(t testing.TB, n *devnet.Network) *drive.Client {
	t.Helper()
	c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	return c
}

var randomBytes = devnettest.RandomBytes

type davClient struct {
	t    *testing.T
	base string
}

func (d davClient) do(method, p string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+p, body)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, p, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		d.t.Fatalf("%s %s: reading the answer: %v", method, p, err)
	}
	return res, b
}

func (d davClient) expect(method, p string, body io.Reader, want int, hdr ...string) []byte {
	d.t.Helper()
	res, b := d.do(method, p, body, hdr...)
	if res.StatusCode != want {
		d.t.Fatalf("%s %s: status %d, want %d: %s", method, p, res.StatusCode, want, b)
	}
	return b
}

// TestWebDAVOperations drives every WebDAV verb through net/http against a
// manual drive, then commits: the checkpoint carries what arrived through
// WebDAV and the drive client reads it back.
func TestWebDAVOperations(t *testing.T) {
	n := startNet(t)
	c := newClient(t, n)
	ctx := context.Background()
	d, err := c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "docs", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
	if err != nil {
		t.Fatal(err)
	}
	h := webdav.NewHandler(c, nil)
	cutDone := make(chan struct{}, 1) // the cut PUT below has been handled
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.URL.Path == "/dav/docs/cut.bin" && r.Method == "PUT" {
			cutDone <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	dav := davClient{t: t, base: srv.URL}
	big := randomBytes(1, 300_000) // five 64 KiB chunks

	dav.expect("MKCOL", "/dav/docs/a/", nil, http.StatusCreated)
	dav.expect("MKCOL", "/dav/docs/a/", nil, http.StatusMethodNotAllowed)
	dav.expect("MKCOL", "/dav/docs/no/such/", nil, http.StatusConflict)
	dav.expect("PUT", "/dav/docs/a/big.bin", bytes.NewReader(big), http.StatusCreated)
	dav.expect("PUT", "/dav/docs/missing/x.txt", strings.NewReader("x"), http.StatusConflict)
	dav.expect("PUT", "/dav/docs/empty.txt", strings.NewReader(""), http.StatusCreated)
	// The drive reached by its id is the same drive.
	dav.expect("PUT", "/dav/"+d.ID.String()+"/note.txt", strings.NewReader("hello"), http.StatusCreated)

	if got := dav.expect("GET", "/dav/docs/a/big.bin", nil, http.StatusOK); !bytes.Equal(got, big) {
		t.Fatalf("GET returned %d bytes, not the %d put", len(got), len(big))
	}
	// A range past the first chunks restarts the download at the offset.
	if got := dav.expect("GET", "/dav/docs/a/big.bin", nil, http.StatusPartialContent, "Range", "bytes=200000-200009"); !bytes.Equal(got, big[200000:200010]) {
		t.Fatalf("range GET = %x, want %x", got, big[200000:200010])
	}
	if got := dav.expect("GET", "/dav/docs/empty.txt", nil, http.StatusOK); len(got) != 0 {
		t.Fatalf("empty file read %q", got)
	}

	list := string(dav.expect("PROPFIND", "/dav/docs/", nil, http.StatusMultiStatus, "Depth", "1"))
	for _, want := range []string{"/dav/docs/a/", "/dav/docs/note.txt", "<D:getcontentlength>5</D:getcontentlength>", "<D:getlastmodified>"} {
		if !strings.Contains(list, want) {
			t.Errorf("PROPFIND listing lacks %q:\n%s", want, list)
		}
	}

	// /dav/ lists the drives, read-only.
	drives := string(dav.expect("PROPFIND", "/dav/", nil, http.StatusMultiStatus, "Depth", "1"))
	if !strings.Contains(drives, "<D:href>/dav/docs/</D:href>") {
		t.Errorf("PROPFIND /dav/ does not list the drive:\n%s", drives)
	}
	dav.expect("DELETE", "/dav/", nil, http.StatusMethodNotAllowed)
	dav.expect("MKCOL", "/dav/", nil, http.StatusMethodNotAllowed)

	dav.expect("MOVE", "/dav/docs/note.txt", nil, http.StatusCreated, "Destination", srv.URL+"/dav/docs/a/moved.txt")
	dav.expect("GET", "/dav/docs/note.txt", nil, http.StatusNotFound)
	dav.expect("COPY", "/dav/docs/a/moved.txt", nil, http.StatusCreated, "Destination", srv.URL+"/dav/docs/copy.txt")
	dav.expect("DELETE", "/dav/docs/empty.txt", nil, http.StatusNoContent)
	dav.expect("DELETE", "/dav/docs/empty.txt", nil, http.StatusNotFound)

	// Bad names are refused plainly, whatever the verb.
	for _, p := range []string{"/dav/docs/a/../x", "/dav/docs/%2e%2e/x", "/dav/docs/%ff"} {
		req, _ := http.NewRequest("PUT", srv.URL+p, strings.NewReader("x"))
		req.URL.Opaque = p // keep the path as sent, unresolved
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: status %d, want 400", p, res.StatusCode)
		}
	}
	dav.expect("MOVE", "/dav/docs/copy.txt", nil, http.StatusBadRequest, "Destination", srv.URL+"/dav/docs/a/../../etc")
	dav.expect("GET", "/dav/nodrive/x", nil, http.StatusNotFound)

	// A PUT whose client goes away midway stores nothing, not the bytes
	// that came before.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /dav/docs/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(big))
	if _, err := conn.Write(big[:len(big)/2]); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	<-cutDone
	dav.expect("GET", "/dav/docs/cut.bin", nil, http.StatusNotFound)

	// Nothing is on chain until the commit; then the drive client reads
	// what came through WebDAV from the checkpointed root.
	if d2, _ := n.Chain().Drive(ctx, d.ID); d2.RootCID != "" {
		t.Fatalf("a manual drive's root moved without a commit: %s", d2.RootCID)
	}
	cr, err := c.CommitChanges(ctx, "docs")
	if err != nil || cr.Err() != nil {
		t.Fatalf("commit: %v %v", err, cr.Err())
	}
	d2, err := n.Chain().Drive(ctx, d.ID)
	if err != nil || d2.RootCID == "" || d2.RootCID != cr.DriveRoot {
		t.Fatalf("root on chain %q after a commit of %q: %v", d2.RootCID, cr.DriveRoot, err)
	}
	reader := newClient(t, n) // a fresh client knows only the chain's root
	for p, want := range map[string][]byte{"/a/big.bin": big, "/a/moved.txt": []byte("hello"), "/copy.txt": []byte("hello")} {
		var buf bytes.Buffer
		if _, err := reader.DownloadFile(ctx, "docs", p, &buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s read back: %d bytes, %v", p, buf.Len(), err)
		}
	}
	if _, err := reader.Stat(ctx, "docs", "/empty.txt"); core.KindOf(err) != core.NotFound {
		t.Errorf("deleted file: %v", err)
	}
}
