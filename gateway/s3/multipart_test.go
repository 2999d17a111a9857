package s3_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
)

// TestS3Multipart sends an object in parts through the SDK's upload
// manager and reads it back whole, then walks the multipart API by hand:
// ListParts, a Complete with a wrong ETag, Abort.
func TestS3Multipart(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "big", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2, 11<<20+12345) // three parts of 5 MiB, the last short
	up := tm.New(g.cl, func(o *tm.Options) { o.PartSizeBytes, o.MultipartUploadThreshold = 5<<20, 5<<20; o.Concurrency = 2 })
	res, err := up.UploadObject(ctx, &tm.UploadObjectInput{Bucket: aws.String("big"), Key: aws.String("dir/blob.bin"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(res.ETag), `-3"`) {
		t.Errorf("multipart ETag %s, want S3's form ending in -3", aws.ToString(res.ETag))
	}
	if got := get(t, g.cl, "big", "dir/blob.bin", ""); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d sent in parts", len(got), len(data))
	}
	// Later HEADs give the whole object's MD5, which the gateway computed
	// as the parts streamed into the drive.
	head, err := g.cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("big"), Key: aws.String("dir/blob.bin")})
	if err != nil || strings.Trim(aws.ToString(head.ETag), `"`) != md5hex(data) {
		t.Errorf("HeadObject after multipart: ETag %s, want %s (%v)", aws.ToString(head.ETag), md5hex(data), err)
	}

	// By hand: two parts, listed, a Complete naming a part with the wrong
	// ETag is refused, Abort forgets the upload.
	bk, key := aws.String("big"), aws.String("hand.bin")
	cr, err := g.cl.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bk, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, body := range [][]byte{data[:5<<20], data[5<<20 : 6<<20]} {
		pr, err := g.cl.UploadPart(ctx, &awss3.UploadPartInput{Bucket: bk, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: pr.ETag})
	}
	lp, err := g.cl.ListParts(ctx, &awss3.ListPartsInput{Bucket: bk, Key: key, UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 1<<20 {
		t.Fatalf("ListParts = %+v, %v", lp, err)
	}
	lu, err := g.cl.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bk})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(cr.UploadId) {
		t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
	}
	bad := []types.CompletedPart{parts[0], {PartNumber: aws.Int32(2), ETag: aws.String(`"00000000000000000000000000000000"`)}}
	if _, err := g.cl.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: bk, Key: key, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}}); errorCode(err) != "InvalidPart" {
		t.Errorf("Complete with a wrong ETag: %v, want InvalidPart", err)
	}
	if _, err := g.cl.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: bk, Key: key, UploadId: cr.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.cl.ListParts(ctx, &awss3.ListPartsInput{Bucket: bk, Key: key, UploadId: cr.UploadId}); errorCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts after Abort: %v, want NoSuchUpload", err)
	}
	if _, err := g.cl.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bk, Key: key}); errorCode(err) != "NotFound" {
		t.Errorf("an aborted upload left an object: %v", err)
	}
	partCopy(t, g.cl, data)
}

// partCopy makes an object of two parts copied from ranges of
// big/dir/blob.bin (UploadPartCopy) and reads it back.
func partCopy(t *testing.T, cl *awss3.Client, data []byte) {
	t.Helper()
	ctx := context.Background()
	bk, key := aws.String("big"), aws.String("copied.bin")
	cr, err := cl.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bk, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-5242879", "bytes=5242880-6000000"} {
		pc, err := cl.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: bk, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: aws.String("big/dir/blob.bin"), CopySourceRange: aws.String(rng)})
		if err != nil {
			t.Fatalf("UploadPartCopy %s: %v", rng, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: pc.CopyPartResult.ETag})
	}
	if _, err := cl.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: bk, Key: key, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, cl, "big", "copied.bin", ""); !bytes.Equal(got, data[:6000001]) {
		t.Fatalf("an object of copied parts read back %d bytes, want the first 6000001 of the source", len(got))
	}
}
