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
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/internal/poll"
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
// operation, and a stop lets a PUT in flight finish before both servers end.
func TestServeS3(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := devnettest.Start(t, 3)
	setup, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	if _, err := setup.CreateDrive(ctx, drive.CreateDriveOptions{Name: "bkt", Strategy: wire.CommitStrategy{Kind: wire.StrategyImmediate}}); err != nil {
		t.Fatal(err)
	}
	g := &Globals{Chain: n.ChainURL(), Signer: "alice", Home: t.TempDir(), JSON: true, Stderr: io.Discard}
	o := validServe()
	o.S3 = S3Options{Listen: "127.0.0.1:0", AccessKey: "akey", SecretKey: "sk", TempDir: t.TempDir(), MaxTemp: 1 << 30}
	o.ShutdownTimeout = time.Minute // the PUT in flight at the stop, and its checkpoint, take their time
	ready, stop, done := startServe(t, ctx, g, o)
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
	expectMetrics(t, ready.Metrics, `cairn_gateway_s3_operations_total{code="200",op="PutObject"} 1`,
		`cairn_gateway_s3_operations_total{code="403",op="ListBuckets"} 1`, `cairn_gateway_requests_total{code="200",method="GET",protocol="s3"} 1`)
	// A PUT in flight when the stop comes is finished, not cut.
	pw, putDone := signedPutInFlight(t, ready.S3+"/bkt/late.txt", "first half, second half")
	if _, err := pw.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the S3 PUT in flight", func() error {
		res, err := http.Get(ready.Metrics)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if b, _ := io.ReadAll(res.Body); !bytes.Contains(b, []byte(`cairn_gateway_requests_in_flight{protocol="s3"} 1`)) {
			return errors.New("not yet")
		}
		return nil
	})
	stopMidUpload(t, stop, pw, putDone, done, http.StatusOK)
	// The immediate drive checkpointed both PUTs: a fresh client reads them.
	fresh, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	for p, want := range map[string]string{"/d/x.txt": "through s3", "/late.txt": "first half, second half"} {
		var buf bytes.Buffer
		if _, err := fresh.DownloadFile(ctx, "bkt", p, &buf); err != nil || buf.String() != want {
			t.Errorf("%s read back: %q %v", p, buf.String(), err)
		}
	}
}

// startServe runs runServe until the returned stop is called, and returns
// its ready line and where its result arrives.
func startServe(t *testing.T, ctx context.Context, g *Globals, o ServeOptions) (serveReady, context.CancelFunc, <-chan error) {
	t.Helper()
	out := &lines{c: make(chan string, 16)}
	g.Stdout = out
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
	return ready, stop, done
}

// expectMetrics fails t unless the metrics at url hold each line of want.
func expectMetrics(t *testing.T, url string, want ...string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, w := range want {
		if !bytes.Contains(metrics, []byte(w)) {
			t.Errorf("metrics lack %s:\n%s", w, metrics)
		}
	}
}

// signedPutInFlight starts a PUT of len(body) bytes to url, signed (SigV4,
// unsigned payload) with the test's keys, whose body the caller writes to
// the returned pipe; the status arrives on the channel.
func signedPutInFlight(t *testing.T, url, body string) (*io.PipeWriter, <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("PUT", url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: "akey", SecretAccessKey: "sk"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		// A connection of its own: the stop closes idle kept-alive ones.
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := hc.Do(req)
		if err != nil {
			t.Errorf("PUT %s: %v", url, err)
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	return pw, done
}

// stopMidUpload stops serve while an upload is half sent on pw, sends the
// rest, and checks that the upload ended with want and serve without an
// error: a stop lets uploads in flight finish.
func stopMidUpload(t *testing.T, stop context.CancelFunc, pw *io.PipeWriter, putDone <-chan int, done <-chan error, want int) {
	t.Helper()
	stop()
	if _, err := pw.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-putDone; code != want {
		t.Fatalf("upload in flight at the stop: %d, want %d", code, want)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
