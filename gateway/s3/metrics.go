package s3

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/internal/httpconn"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts S3 requests by operation and status.
type Metrics struct {
	ops *prometheus.CounterVec
}

// NewMetrics registers cairn_gateway_s3_operations_total{op,code} with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{ops: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_gateway_s3_operations_total", Help: "S3 gateway requests by operation (ListObjectsV2, PutObject, ...) and status code.",
	}, []string{"op", "code"})}
	if err := reg.Register(m.ops); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := httpconn.NewStatusWriter(w)
		next.ServeHTTP(sw, r)
		m.ops.WithLabelValues(Operation(r), strconv.Itoa(sw.Status())).Inc()
	})
}

// Operation names a request's S3 operation as the S3 API reference does,
// from its method, path and query ("other" for what is not listed), so
// the label's values stay few whatever clients send.
func Operation(r *http.Request) string {
	p := strings.TrimLeft(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(p, "/")
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		return bucketOperation(r.Method, q.Get("list-type") == "2", has)
	default:
		return objectOperation(r, has)
	}
	return "other"
}

func bucketOperation(method string, v2 bool, has func(string) bool) string {
	switch {
	case method == http.MethodPost && has("delete"):
		return "DeleteObjects"
	case method == http.MethodGet && has("uploads"):
		return "ListMultipartUploads"
	case method == http.MethodGet && has("location"):
		return "GetBucketLocation"
	case method == http.MethodGet && v2:
		return "ListObjectsV2"
	case method == http.MethodGet && len(onlyListParams(has)) == 0:
		return "ListObjects"
	case method == http.MethodHead:
		return "HeadBucket"
	case method == http.MethodPut && !has("versioning") && !has("tagging"):
		return "CreateBucket"
	case method == http.MethodDelete:
		return "DeleteBucket"
	}
	return "other"
}

// onlyListParams lists the sub-resources other than a listing's own.
func onlyListParams(has func(string) bool) []string {
	var subs []string
	for _, s := range []string{"versioning", "versions", "tagging", "acl", "policy", "cors", "lifecycle"} {
		if has(s) {
			subs = append(subs, s)
		}
	}
	return subs
}

func objectOperation(r *http.Request, has func(string) bool) string {
	upload := has("uploadId")
	switch r.Method {
	case http.MethodGet:
		if upload {
			return "ListParts"
		}
		if !has("tagging") && !has("acl") {
			return "GetObject"
		}
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case upload && r.Header.Get("X-Amz-Copy-Source") != "":
			return "UploadPartCopy"
		case upload:
			return "UploadPart"
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject"
		case !has("tagging") && !has("acl"):
			return "PutObject"
		}
	case http.MethodPost:
		if has("uploads") {
			return "CreateMultipartUpload"
		}
		if upload {
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		if upload {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return "other"
}
