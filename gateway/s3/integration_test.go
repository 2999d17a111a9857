package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/gateway/s3"
)

const (
	accessKey = "cairn-test"
	secretKey = "a secret of the test"
)

var randomBytes = devnettest.RandomBytes

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// newS3Client is an aws-sdk-go-v2 client of the gateway at url, path-style.
func newS3Client(url, ak, sk string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		// The SDK's default retries would hide a wrong answer behind a
		// second try.
		RetryMaxAttempts: 1,
	})
}

// errorCode is the S3 error code of an SDK error ("" if none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// testGateway is a real network's drives (a validator and three
// providers) served through the S3 gateway, with credentials.
type testGateway struct {
	net *devnet.Network
	c   *drive.Client
	cl  *awss3.Client // signed with the gateway's credentials
	url string
	reg *prometheus.Registry
}

func gateway(t *testing.T) testGateway {
	t.Helper()
	return gatewayWith(t, func(*s3.Config) {}, true)
}

// gatewayWith is gateway with cfg changed by tune, and without
// credentials unless auth is set.
func gatewayWith(t *testing.T, tune func(*s3.Config), auth bool) testGateway {
	t.Helper()
	n := devnettest.Start(t, 3)
	c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	cfg := s3.DefaultConfig()
	cfg.TempDir = t.TempDir()
	tune(&cfg)
	b, err := s3.NewBackend(c, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	reg := prometheus.NewRegistry()
	m, err := s3.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var creds *s3.Credentials
	if auth {
		creds = &s3.Credentials{AccessKey: accessKey, SecretKey: secretKey}
	}
	srv := httptest.NewServer(s3.NewHandler(b, creds, m))
	t.Cleanup(srv.Close)
	return testGateway{net: n, c: c, cl: newS3Client(srv.URL, accessKey, secretKey), url: srv.URL, reg: reg}
}

// TestS3Operations drives every supported operation through
// aws-sdk-go-v2 against a manual drive, then commits: the checkpoint
// carries what arrived through S3 and a fresh drive client reads it.
func TestS3Operations(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "photos", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	lb, err := g.cl.ListBuckets(ctx, &awss3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "photos" {
		t.Fatalf("ListBuckets = %+v, %v", lb, err)
	}
	big := randomBytes(1, 300_000) // five 64 KiB chunks
	putAndRead(t, g.cl, big)
	listings(t, g.cl)
	copyAndDelete(t, g.cl)
	s3Errors(t, g)
	if n := opCount(t, g.reg, "PutObject", "200"); n < 4 {
		t.Errorf("cairn_gateway_s3_operations_total{op=PutObject,code=200} = %v, want >= 4", n)
	}

	// Nothing is on chain until the commit; then a fresh client reads
	// what came through S3 from the checkpointed root.
	cr, err := g.c.CommitChanges(ctx, "photos")
	if err != nil || cr.Err() != nil {
		t.Fatalf("commit: %v %v", err, cr)
	}
	reader, _ := devnettest.DriveClient(t, g.net, devnettest.ClientOptions{})
	for p, want := range map[string][]byte{"/a/big.bin": big, "/copy.txt": []byte("hello"), "/a/b/one.txt": []byte("hello")} {
		var buf bytes.Buffer
		if _, err := reader.DownloadFile(ctx, "photos", p, &buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s read back after the commit: %d bytes, %v", p, buf.Len(), err)
		}
	}
	if _, err := reader.Stat(ctx, "photos", "/a.txt"); core.KindOf(err) != core.NotFound {
		t.Errorf("deleted a.txt: %v", err)
	}
}

// putAndRead puts four objects with metadata into the bucket photos and
// reads them back: MD5 ETags, HEAD, whole and ranged GETs.
func putAndRead(t *testing.T, cl *awss3.Client, big []byte) {
	t.Helper()
	ctx := context.Background()
	bk := aws.String("photos")
	objects := map[string][]byte{"a/b/one.txt": []byte("hello"), "a/big.bin": big, "a.txt": []byte("sorts before a/"), "z/empty": {}}
	for k, v := range objects {
		out, err := cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: bk, Key: aws.String(k), Body: bytes.NewReader(v),
			Metadata: map[string]string{"colour": "green"}})
		if err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
		if got := strings.Trim(aws.ToString(out.ETag), `"`); got != md5hex(v) {
			t.Errorf("PutObject %s: ETag %s, want the MD5 %s", k, got, md5hex(v))
		}
	}
	head, err := cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: aws.String("a/big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(aws.ToString(head.ETag), `"`) != md5hex(big) || aws.ToInt64(head.ContentLength) != int64(len(big)) || head.Metadata["colour"] != "green" {
		t.Errorf("HeadObject = ETag %s, length %d, metadata %v", aws.ToString(head.ETag), aws.ToInt64(head.ContentLength), head.Metadata)
	}
	if got := get(t, cl, "photos", "a/big.bin", ""); !bytes.Equal(got, big) {
		t.Fatalf("GetObject returned %d bytes, not the %d put", len(got), len(big))
	}
	if got := get(t, cl, "photos", "a/big.bin", "bytes=200000-200009"); !bytes.Equal(got, big[200000:200010]) {
		t.Fatalf("ranged GetObject = %x, want %x", got, big[200000:200010])
	}
	if got := get(t, cl, "photos", "a/big.bin", "bytes=-5"); !bytes.Equal(got, big[len(big)-5:]) {
		t.Fatalf("suffix-ranged GetObject = %x, want %x", got, big[len(big)-5:])
	}
}

// listings checks S3's key order, prefixes, delimiters and continuation.
func listings(t *testing.T, cl *awss3.Client) {
	t.Helper()
	ctx := context.Background()
	bk := aws.String("photos")
	l, err := cl.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: bk, Prefix: aws.String("a/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if keys, prefixes := listed(l); !slices.Equal(keys, []string{"a/big.bin"}) || !slices.Equal(prefixes, []string{"a/b/"}) {
		t.Errorf("ListObjectsV2 a/ with /: keys %v, prefixes %v", keys, prefixes)
	}
	var all []string
	p := awss3.NewListObjectsV2Paginator(cl, &awss3.ListObjectsV2Input{Bucket: bk, MaxKeys: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := listed(page)
		all = append(all, keys...)
		pages++
	}
	if want := []string{"a.txt", "a/b/one.txt", "a/big.bin", "z/empty"}; !slices.Equal(all, want) || pages != 4 {
		t.Errorf("paged ListObjectsV2 = %v in %d pages, want %v in 4", all, pages, want)
	}
}

// copyAndDelete copies an object, then deletes one by one and several at
// once, missing keys included.
func copyAndDelete(t *testing.T, cl *awss3.Client) {
	t.Helper()
	ctx := context.Background()
	bk := aws.String("photos")
	cp, err := cl.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: bk, Key: aws.String("copy.txt"), CopySource: aws.String("photos/a/b/one.txt")})
	if err != nil || strings.Trim(aws.ToString(cp.CopyObjectResult.ETag), `"`) != md5hex([]byte("hello")) {
		t.Fatalf("CopyObject = %+v, %v", cp, err)
	}
	if got := get(t, cl, "photos", "copy.txt", ""); string(got) != "hello" {
		t.Fatalf("the copy reads %q", got)
	}
	if _, err := cl.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bk, Key: aws.String("a.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: aws.String("a.txt")}); errorCode(err) != "NotFound" {
		t.Errorf("HeadObject of a deleted key: %v (code %q), want NotFound", err, errorCode(err))
	}
	if _, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: bk, Key: aws.String("a.txt")}); errorCode(err) != "NoSuchKey" {
		t.Errorf("GetObject of a deleted key: %v, want NoSuchKey", err)
	}
	if _, err := cl.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bk, Key: aws.String("a.txt")}); err != nil {
		t.Errorf("deleting a missing key: %v, want success as on S3", err)
	}
	dm, err := cl.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: bk, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("z/empty")}, {Key: aws.String("never/was")}}}})
	if err != nil || len(dm.Deleted) != 2 || len(dm.Errors) != 0 {
		t.Fatalf("DeleteObjects = %+v, %v", dm, err)
	}
}

// s3Errors checks that refusals are S3's own codes.
func s3Errors(t *testing.T, g testGateway) {
	t.Helper()
	ctx := context.Background()
	if _, err := g.cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("nodrive"), Key: aws.String("x")}); errorCode(err) != "NoSuchBucket" {
		t.Errorf("GetObject in a missing bucket: %v, want NoSuchBucket", err)
	}
	for _, k := range []string{"a/../x", "a//b", "./x", "a/\x01"} {
		_, err := g.cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k), Body: strings.NewReader("x")})
		if errorCode(err) != "InvalidArgument" {
			t.Errorf("PutObject %q: %v, want InvalidArgument", k, err)
		}
	}
	if _, err := newS3Client(g.url, accessKey, "not the secret").ListBuckets(ctx, &awss3.ListBucketsInput{}); errorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("a wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	if _, err := newS3Client(g.url, "nobody", secretKey).ListBuckets(ctx, &awss3.ListBucketsInput{}); errorCode(err) != "InvalidAccessKeyId" {
		t.Errorf("an unknown access key: %v, want InvalidAccessKeyId", err)
	}
}

func get(t *testing.T, cl *awss3.Client, bucket, key, rng string) []byte {
	t.Helper()
	in := &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := cl.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s %s: %v", key, rng, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s: reading: %v", key, err)
	}
	return b
}

func listed(l *awss3.ListObjectsV2Output) (keys, prefixes []string) {
	for _, o := range l.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	for _, p := range l.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	return keys, prefixes
}

// opCount reads cairn_gateway_s3_operations_total{op,code}.
func opCount(t *testing.T, reg *prometheus.Registry, op, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "cairn_gateway_s3_operations_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["op"] == op && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
