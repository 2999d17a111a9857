package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
)

func TestServeS3OptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*S3Options)
		ok   bool
	}{
		{"no S3", func(o *S3Options) { o.Listen = "" }, true},
		{"keys set but no S3", func(o *S3Options) { o.Listen, o.AccessKey = "", "k" }, true},
		{"loopback without keys", func(o *S3Options) {}, true},
		{"every interface without keys", func(o *S3Options) { o.Listen = ":9000" }, false},
		{"a public address without keys", func(o *S3Options) { o.Listen = "192.0.2.1:9000" }, false},
		{"a public address with keys", func(o *S3Options) { o.Listen, o.AccessKey, o.SecretKey = "0.0.0.0:9000", "key", "s" }, true},
		{"access key without secret", func(o *S3Options) { o.AccessKey = "k" }, false},
		{"secret without access key", func(o *S3Options) { o.SecretKey = "s" }, false},
		{"no port", func(o *S3Options) { o.Listen = "127.0.0.1" }, false},
		{"no room for parts", func(o *S3Options) { o.MaxTemp = 0 }, false},
		{"an access key too short", func(o *S3Options) { o.AccessKey, o.SecretKey = "ak", "s" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validServe()
			o.S3 = S3Options{Listen: "127.0.0.1:0", MaxTemp: 1 << 20}
			tc.edit(&o.S3)
			err := o.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil && ExitCode(err) != ExitUsage {
				t.Fatalf("refusal exits %d, want usage", ExitCode(err))
			}
		})
	}
	var o S3Options
	o.fromEnv(func(k string) string {
		return map[string]string{"CAIRN_S3_ACCESS_KEY": "ak", "CAIRN_S3_SECRET_KEY": "sk"}[k]
	})
	if o.AccessKey != "ak" || o.SecretKey != "sk" {
		t.Errorf("keys from the environment: %+v", o)
	}
}

// TestServeS3 runs `cairn serve --s3` against a real network: the ready
// line names the S3 endpoint, an SDK signed with the keys stores and reads
// an object, one signed otherwise is refused, /metrics counts each
// operation, and a stop ends both servers.
func TestServeS3(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := devnettest.Start(t, 3)
	setup, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	if _, err := setup.CreateDrive(ctx, drive.CreateDriveOptions{Name: "bkt", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}}); err != nil {
		t.Fatal(err)
	}
	out := &lines{c: make(chan string, 16)}
	g := &Globals{Chain: n.ChainURL(), Signer: "alice", Home: t.TempDir(), JSON: true, Stdout: out, Stderr: io.Discard}
	o := validServe()
	o.S3 = S3Options{Listen: "127.0.0.1:0", AccessKey: "akey", SecretKey: "sk", TempDir: t.TempDir(), MaxTemp: 1 << 30}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runServe(sctx, g, o)
		for _, c := range g.closers {
			c()
		}
	}()
	var ready serveReady
	select {
	case line := <-out.c:
		if err := json.Unmarshal([]byte(line), &ready); err != nil {
			t.Fatalf("ready line %q: %v", line, err)
		}
	case err := <-done:
		t.Fatalf("serve ended before it was ready: %v", err)
	}
	if !strings.HasPrefix(ready.S3, "http://127.0.0.1:") || !ready.S3Auth {
		t.Fatalf("ready: %+v", ready)
	}
	client := func(secret string) *awss3.Client {
		return awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ready.S3), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("akey", secret, "")})
	}
	cl := client("sk")
	if _, err := cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("d/x.txt"), Body: strings.NewReader("through s3")}); err != nil {
		t.Fatal(err)
	}
	res, err := cl.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("d/x.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(got) != "through s3" {
		t.Fatalf("GetObject = %q", got)
	}
	var ae smithy.APIError
	if _, err := client("wrong").ListBuckets(ctx, &awss3.ListBucketsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("a wrong secret: %v", err)
	}
	mres, err := http.Get(ready.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	for _, want := range []string{`cairn_gateway_s3_operations_total{code="200",op="PutObject"} 1`, `cairn_gateway_s3_operations_total{code="403",op="ListBuckets"} 1`,
		`cairn_gateway_requests_total{code="200",method="GET",protocol="s3"} 1`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	// The immediate drive checkpointed the PUT: a fresh client reads it.
	fresh, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	var buf bytes.Buffer
	if _, err := fresh.DownloadFile(ctx, "bkt", "/d/x.txt", &buf); err != nil || buf.String() != "through s3" {
		t.Errorf("read back: %q %v", buf.String(), err)
	}
}
