package s3_test

import (
	"net/http/httptest"
	"testing"

	"github.com/cairn-storage/cairn/gateway/s3"
)

func TestOperation(t *testing.T) {
	for _, c := range []struct {
		method, target, copySource, want string
	}{
		{"GET", "/", "", "ListBuckets"},
		{"GET", "/b?list-type=2&prefix=a%2F&delimiter=%2F", "", "ListObjectsV2"},
		{"GET", "/b", "", "ListObjects"},
		{"GET", "/b?location", "", "GetBucketLocation"},
		{"GET", "/b?uploads", "", "ListMultipartUploads"},
		{"GET", "/b?versioning", "", "other"},
		{"HEAD", "/b", "", "HeadBucket"},
		{"PUT", "/b", "", "CreateBucket"},
		{"DELETE", "/b", "", "DeleteBucket"},
		{"POST", "/b?delete", "", "DeleteObjects"},
		{"GET", "/b/k/x.txt", "", "GetObject"},
		{"HEAD", "/b/k", "", "HeadObject"},
		{"PUT", "/b/k", "", "PutObject"},
		{"PUT", "/b/k", "/b/other", "CopyObject"},
		{"DELETE", "/b/k", "", "DeleteObject"},
		{"POST", "/b/k?uploads", "", "CreateMultipartUpload"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "/b/src", "UploadPartCopy"},
		{"GET", "/b/k?uploadId=u", "", "ListParts"},
		{"POST", "/b/k?uploadId=u", "", "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", "", "AbortMultipartUpload"},
		{"GET", "/b/k?tagging", "", "other"},
		{"PATCH", "/b/k", "", "other"},
		{"POST", "/", "", "other"},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.copySource != "" {
			r.Header.Set("X-Amz-Copy-Source", c.copySource)
		}
		if got := s3.Operation(r); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.target, got, c.want)
		}
	}
}
