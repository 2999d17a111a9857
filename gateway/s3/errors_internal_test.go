package s3

import (
	"errors"
	"testing"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// TestS3Error is the table from the drive client's errors to S3's codes,
// as the gateway answers them (gofakes3 reads the code from the error's
// type, so a wrapped S3 error must come out unwrapped).
func TestS3Error(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want gofakes3.ErrorCode
	}{
		{"not found", core.Errorf("op", core.NotFound, "x"), gofakes3.ErrNoSuchKey},
		{"drive path not found", drive.ErrNotFound, gofakes3.ErrNoSuchKey},
		{"invalid", core.Errorf("op", core.Invalid, "x"), gofakes3.ErrInvalidArgument},
		{"exists", core.Errorf("op", core.Exists, "x"), gofakes3.ErrInvalidRequest},
		{"conflict", drive.ErrNotEmpty, gofakes3.ErrInvalidRequest},
		{"unauthorized", core.Errorf("op", core.Unauthorized, "x"), gofakes3.ErrInvalidRequest},
		{"unavailable", core.Errorf("op", core.Unavailable, "x"), gofakes3.ErrSlowDown},
		{"no quorum", drive.ErrNoQuorum, gofakes3.ErrSlowDown},
		{"corrupt", core.Errorf("op", core.Corrupt, "x"), gofakes3.ErrInternal},
		{"a plain error", errors.New("x"), gofakes3.ErrInternal},
		{"quota", core.E("drive.write", core.Invalid, &drive.QuotaError{}), gofakes3.ErrEntityTooLarge},
		{"an S3 error wrapped by the drive", core.E("drive.UploadFile", core.Invalid, gofakes3.ErrBadDigest), gofakes3.ErrBadDigest},
	} {
		got := s3Error(c.err, "k")
		var s3e gofakes3.Error
		if !errors.As(got, &s3e) || s3e.ErrorCode() != c.want {
			t.Errorf("%s: %v, want %s", c.name, got, c.want)
			continue
		}
		if _, direct := got.(gofakes3.Error); !direct {
			t.Errorf("%s: %T is not an S3 error itself; gofakes3 would answer InternalError", c.name, got)
		}
	}
	if s3Error(nil, "k") != nil {
		t.Error("s3Error(nil) is not nil")
	}
}
