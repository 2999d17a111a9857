package s3_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
)

// TestS3FoldersAndBuckets covers what S3 has and a drive has otherwise:
// folder markers are directories, a bucket made through S3 is a drive,
// a file written without S3 has an ETag no client takes for an MD5.
func TestS3FoldersAndBuckets(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "folders", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	bk := aws.String("folders")

	if _, err := g.cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: bk, Key: aws.String("empty/dir/"), Body: strings.NewReader("")}); err != nil {
		t.Fatal(err)
	}
	if e, err := g.c.Stat(ctx, "folders", "/empty/dir"); err != nil || e.Kind != drive.KindDir {
		t.Fatalf("a folder marker made %+v, %v; want a directory", e, err)
	}
	if h, err := g.cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: aws.String("empty/dir/")}); err != nil || aws.ToInt64(h.ContentLength) != 0 {
		t.Errorf("HeadObject of the folder marker: %+v, %v", h, err)
	}
	if _, err := g.cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: aws.String("empty/dir")}); errorCode(err) != "NotFound" {
		t.Errorf("a directory is an object only through its marker key: %v", err)
	}
	if _, err := g.cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: bk, Key: aws.String("x/"), Body: strings.NewReader("bytes")}); errorCode(err) != "InvalidArgument" {
		t.Errorf("a folder marker with a body: %v, want InvalidArgument", err)
	}
	if _, err := g.cl.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bk, Key: aws.String("empty/dir/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.c.Stat(ctx, "folders", "/empty/dir"); err == nil {
		t.Error("deleting the folder marker left the directory")
	}

	// A file the drive client wrote has no recorded MD5: its ETag is
	// 64 hex digits, not an MD5's 32.
	if _, err := g.c.UploadFile(ctx, "folders", "/direct.txt", strings.NewReader("not through s3"), drive.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := g.cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: aws.String("direct.txt")})
	if etag := strings.Trim(aws.ToString(h.ETag), `"`); err != nil || len(etag) != 64 {
		t.Errorf("ETag of a file written without S3: %q, %v; want 64 hex digits", etag, err)
	}

	// Buckets: CreateBucket makes a drive; an existing one is refused as
	// S3 does; DeleteBucket is left to the CLI.
	if _, err := g.cl.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("made-by-s3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.c.ResolveDrive(ctx, "made-by-s3"); err != nil {
		t.Errorf("CreateBucket made no drive: %v", err)
	}
	if _, err := g.cl.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: bk}); errorCode(err) != "BucketAlreadyExists" {
		t.Errorf("CreateBucket of an existing drive: %v", err)
	}
	if _, err := g.cl.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: bk}); errorCode(err) != "NotImplemented" {
		t.Errorf("DeleteBucket: %v, want NotImplemented", err)
	}
	if _, err := g.cl.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("nodrive")}); errorCode(err) != "NotFound" {
		t.Errorf("HeadBucket of a missing drive: %v", err)
	}
}
