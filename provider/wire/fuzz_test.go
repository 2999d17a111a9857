package wire_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider/wire"
)

// Every decoder facing the network: none may panic, and every refusal has a
// kind. Seed corpora live in testdata/fuzz.

func FuzzParseWrite(f *testing.F) {
	f.Add("1", "0", "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "1", "0102030405060708090a0b0c0d0e0f10", "1700000000", "00", "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737", "00")
	f.Fuzz(func(t *testing.T, bucket, seq, writer, hash, size, nonce, expiry, sig, leafWriter, leafSig string) {
		h := http.Header{}
		h.Set(wire.HeaderLeafWriter, leafWriter)
		h.Set(wire.HeaderLeafSignature, leafSig)
		h.Set(wire.HeaderWriter, writer)
		h.Set(wire.HeaderContentHash, hash)
		h.Set(wire.HeaderSize, size)
		h.Set(wire.HeaderNonce, nonce)
		h.Set(wire.HeaderExpiry, expiry)
		h.Set(wire.HeaderSignature, sig)
		w, err := wire.ParseWrite(bucket, seq, h)
		if err != nil {
			if k := core.KindOf(err); k != core.Invalid && k != core.Unauthorized {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		w.ChainID = "fuzz"
		_ = w.Verify(w.Writer, w.Signature)
		_ = w.SignedLeaf().Verify("fuzz", w.Bucket)
	})
}

func FuzzParseRead(f *testing.F) {
	f.Add("1", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737", "0102030405060708090a0b0c0d0e0f10", "1700000000", "00", "bucket_id=1&from=0")
	f.Fuzz(func(t *testing.T, bucket, hash, reader, nonce, expiry, sig, rawQuery string) {
		h := http.Header{}
		h.Set(wire.HeaderReader, reader)
		h.Set(wire.HeaderNonce, nonce)
		h.Set(wire.HeaderExpiry, expiry)
		h.Set(wire.HeaderSignature, sig)
		check := func(r wire.SignedRead, err error) {
			if err != nil {
				if k := core.KindOf(err); k != core.Invalid && k != core.Unauthorized {
					t.Fatalf("kind %v: %v", k, err)
				}
				return
			}
			r.ChainID = "fuzz"
			_ = r.Verify(r.Reader, r.Signature)
		}
		check(wire.ParseRead(bucket, hash, h))
		// A private metadata read: the resource is the route and its query.
		if v, err := url.ParseQuery(rawQuery); err == nil {
			if q, err := wire.ParseLeavesQuery(v); err == nil {
				check(wire.ParseReadHeaders(q.Bucket, wire.ReadResource(wire.PathLeaves, v), h))
			}
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"bucket_id=1", "bucket_id=1&leaf=0&leaf_count=1", "bucket_id=2&old=1&new=3", "bucket_id=3&from=10&limit=5", "bucket_id=%zz", "bucket_id=1&bucket_id=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return // the server refuses an unparsable query before these
		}
		check := func(err error) {
			if err != nil && core.KindOf(err) != core.Invalid {
				t.Fatalf("kind %v: %v", core.KindOf(err), err)
			}
		}
		_, err = wire.ParseBucketQuery(v)
		check(err)
		if q, err := wire.ParseProofQuery(v); err == nil {
			if q2, err := wire.ParseProofQuery(q.Values()); err != nil || q2 != q {
				t.Fatalf("proof query does not round trip: %+v %+v %v", q, q2, err)
			}
		} else {
			check(err)
		}
		_, err = wire.ParseConsistencyQuery(v)
		check(err)
		if q, err := wire.ParseLeavesQuery(v); err == nil {
			if q.Limit < 1 || q.Limit > wire.MaxLeavesLimit {
				t.Fatalf("limit %d", q.Limit)
			}
		} else {
			check(err)
		}
	})
}

// The client's decoders of the provider's answers face the network too.
func FuzzResponseBodies(f *testing.F) {
	f.Add(200, []byte(`{"bucket_id":1,"leaf":{"seq":0,"content_hash":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","size":1},"leaf_index":0,"leaf_count":1,"root":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","proof":{"leaf_index":0,"leaf_count":1,"siblings":[],"peaks":[]}}`))
	f.Add(409, []byte(`{"kind":"conflict","op":"provider.write","message":"behind","leaf_count":3}`))
	f.Add(200, []byte(`{"bucket_id":1,"start_seq":0,"leaf_count":2,"from":0,"leaves":[{"seq":0},{"seq":1}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		_ = wire.DecodeError("fuzz", status, body)
		var p wire.Proof
		if json.Unmarshal(body, &p) == nil {
			_ = p.Verify(p.Root)
		}
		var c wire.Consistency
		if json.Unmarshal(body, &c) == nil {
			_ = c.Verify(c.OldRoot, c.NewRoot)
		}
		var l wire.Leaves
		if json.Unmarshal(body, &l) == nil {
			_ = l.Check()
		}
		var sc core.SignedCommitment
		if json.Unmarshal(body, &sc) == nil {
			_ = sc.Verify()
		}
		var h wire.Health
		_ = json.Unmarshal(body, &h)
	})
}
