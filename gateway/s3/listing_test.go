package s3_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/drive"
)

// s3List is what S3 lists for keys (any order), a prefix and a
// delimiter: the model the gateway's walk of the drive's tree must match.
func s3List(keys []string, prefix, delim string) (contents, prefixes []string) {
	sorted := slices.Clone(keys)
	sort.Strings(sorted)
	for _, k := range sorted {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp := k[:len(prefix)+i+len(delim)]
			if len(prefixes) == 0 || prefixes[len(prefixes)-1] != cp {
				prefixes = append(prefixes, cp)
			}
			continue
		}
		contents = append(contents, k)
	}
	return contents, prefixes
}

// TestS3ListingMatchesS3 lists a tree of keys chosen to tell a directory
// walk from S3's byte order ("a.txt" < "a/b" < "a0", "a/b" < "a/b.c" <
// "a/bc/d") for many prefixes, delimiters and page sizes: every listing,
// put together page by page, is S3's, and no page is over its size.
func TestS3ListingMatchesS3(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	if _, err := g.c.CreateDrive(ctx, drive.CreateDriveOptions{Name: "list", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"a.txt", "a/b", "a/b.c", "a/bc/d", "a-b", "a0", "ab/c", "b/a/b/c", "b/a.x", "c", "ü/x", "z/y/x/w", "a/b-/e"}
	for _, k := range keys {
		if _, err := g.cl.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("list"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
	}
	for _, prefix := range []string{"", "a", "a/", "a/b", "b/a", "zz", "ü"} {
		for _, delim := range []string{"", "/", "b"} {
			for _, max := range []int32{1, 2, 1000} {
				name := fmt.Sprintf("prefix %q delimiter %q max-keys %d", prefix, delim, max)
				contents, prefixes := listAll(t, g.cl, prefix, delim, max)
				wantC, wantP := s3List(keys, prefix, delim)
				if !slices.Equal(contents, wantC) || !slices.Equal(prefixes, wantP) {
					t.Errorf("%s: keys %q prefixes %q, want %q %q", name, contents, prefixes, wantC, wantP)
				}
			}
		}
	}
}

// listAll pages through ListObjectsV2 and puts the pages together.
func listAll(t *testing.T, cl *awss3.Client, prefix, delim string, max int32) (contents, prefixes []string) {
	t.Helper()
	in := &awss3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(max)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	p := awss3.NewListObjectsV2Paginator(cl, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(page.Contents) + len(page.CommonPrefixes); n > int(max) {
			t.Errorf("a page of %d entries, over max-keys %d", n, max)
		}
		keys, cps := listed(page)
		contents = append(contents, keys...)
		prefixes = append(prefixes, cps...)
	}
	return contents, prefixes
}
