package s3

import (
	"errors"

	"github.com/rclone/gofakes3"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

// s3Error turns a drive client's error into S3's: the one table from
// core.Kind to S3 codes. An error that already is an S3 error passes
// unchanged; resource names the key or bucket for NotFound.
func s3Error(err error, resource string) error {
	if err == nil {
		return nil
	}
	var s3e gofakes3.Error
	if errors.As(err, &s3e) {
		return s3e // gofakes3 looks at the type, not through wrapping
	}
	var quota *drive.QuotaError
	if errors.As(err, &quota) {
		return gofakes3.ErrorMessage(gofakes3.ErrEntityTooLarge, printable(err.Error()))
	}
	code := codeOf(core.KindOf(err))
	if code == gofakes3.ErrNoSuchKey {
		return gofakes3.ResourceError(code, resource)
	}
	return gofakes3.ErrorMessage(code, printable(err.Error()))
}

// codeOf is the S3 code of a kind. Unavailable and NoQuorum are
// SlowDown (503), which S3 clients retry. Unauthorized (the signer may not
// write the drive) is InvalidRequest (400): gofakes3 would answer its own
// AccessDenied code with 500, which clients retry.
func codeOf(k core.Kind) gofakes3.ErrorCode {
	switch k {
	case core.NotFound:
		return gofakes3.ErrNoSuchKey
	case core.Invalid:
		return gofakes3.ErrInvalidArgument
	case core.Exists, core.Conflict, core.Unauthorized:
		return gofakes3.ErrInvalidRequest
	case core.Unavailable, core.NoQuorum:
		return gofakes3.ErrSlowDown
	}
	return gofakes3.ErrInternal
}
