package providerclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providerclient"
)

// canned is a RoundTripper that answers every request with one status
// and body, as a malicious peer might.
type canned struct {
	status int
	body   []byte
}

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status, Status: strconv.Itoa(c.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r,
	}, nil
}

// FuzzPeerAnswers feeds arbitrary answers to every decoder a syncing
// provider runs on a peer's answers (commitment, leaf list, proofs,
// health, usage, error bodies). None may panic; every failure has a kind; a
// decoded answer is the one asked for.
func FuzzPeerAnswers(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"chain_id":"c","bucket_id":1,"mmr_root":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","start_seq":0,"leaf_count":1,"provider":"d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737","signature":"00"}`},
		{200, `{"bucket_id":1,"start_seq":0,"leaf_count":2,"from":0,"leaves":[{"seq":0,"content_hash":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","size":4611686018427387904,"writer":"d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737","writer_signature":"00"},{"seq":1}]}`},
		{200, `{"bucket_id":1,"start_seq":0,"leaf":{"seq":0},"leaf_index":0,"leaf_count":1,"root":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","proof":{"leaf_index":0,"leaf_count":1,"siblings":[],"peaks":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]}}`},
		{200, `{"bucket_id":1,"old_count":0,"new_count":18446744073709551615,"proof":{"old_count":0,"new_count":18446744073709551615}}`},
		{409, `{"kind":"conflict","op":"provider.write","message":"behind","leaf_count":3}`},
		{200, `{"leaves":[` + strings.Repeat(`{"seq":0},`, 50) + `]}`},
		{200, `{"bucket_id":1,"role":"primary","start_seq":0,"leaf_count":3,"bytes":18446744073709551615,"sync_lag":0}`},
		{200, `{"status":"ok","account":"d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737","buckets":[{"bucket_id":1}],"bytes":-1}`},
		{500, `<html>`},
		{200, `{"bucket_id": 1, "leaves": [{"seq": "zero"`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	signer, _ := core.DevKey("dave")
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		c, err := providerclient.New("http://peer", providerclient.Options{
			HTTPClient: &http.Client{Transport: canned{status, body}},
			ChainID:    "c", Signer: signer, Timeout: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		// Every failure is a *core.Error (kind other only when the
		// peer's status or body said so).
		check := func(what string, err error) {
			var ce *core.Error
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("%s: error that is no *core.Error: %v", what, err)
			}
		}
		if sc, err := c.Commitment(ctx, 1); err == nil && sc.Bucket != 1 {
			t.Fatalf("commitment to bucket %s accepted for bucket 1", sc.Bucket)
		} else {
			check("commitment", err)
		}
		if l, err := c.LeavesFrom(ctx, 1, 5, 10); err == nil {
			if l.Bucket != 1 || l.From != 5 || len(l.Leaves) > 10 {
				t.Fatalf("leaves %+v accepted for 10 from 5 of bucket 1", l)
			}
			for i, lf := range l.Leaves {
				if lf.Seq != 5+uint64(i) {
					t.Fatalf("leaf %d has seq %d", i, lf.Seq)
				}
			}
		} else {
			check("leaves", err)
		}
		if p, err := c.ProofAt(ctx, 1, 0, 1); err == nil {
			_ = p.Verify(p.Root)
		} else {
			check("proof", err)
		}
		if r, err := c.Consistency(ctx, 1, 0, 3); err == nil {
			_ = r.Verify(r.OldRoot, r.NewRoot)
		} else {
			check("consistency", err)
		}
		_, err = c.Status(ctx)
		check("health", err)
		if u, err := c.Usage(ctx, 1); err == nil && u.Bucket != 1 {
			t.Fatalf("usage of bucket %s accepted for bucket 1", u.Bucket)
		} else {
			check("usage", err)
		}
		if rc, err := c.Blob(ctx, 1, core.Sum256(nil)); err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
			check("blob read", err)
		} else {
			check("blob", err)
		}
	})
}
