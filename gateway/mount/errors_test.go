package mount

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/drive"
)

func TestErrno(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   syscall.Errno
		logged bool
	}{
		{"nil", nil, 0, false},
		{"not found", fmt.Errorf("stat: %w", drive.ErrNotFound), syscall.ENOENT, false},
		{"kind not found", core.Errorf("x", core.NotFound, "gone"), syscall.ENOENT, false},
		{"unauthorized", core.Errorf("x", core.Unauthorized, "not a member"), syscall.EACCES, false},
		{"exists", drive.ErrExists, syscall.EEXIST, false},
		{"not a directory (kind invalid)", drive.ErrNotDir, syscall.ENOTDIR, false},
		{"a directory (kind invalid)", drive.ErrIsDir, syscall.EISDIR, false},
		{"not empty (kind conflict)", drive.ErrNotEmpty, syscall.ENOTEMPTY, false},
		{"bad name", drive.ErrInvalidPath, syscall.EINVAL, false},
		{"over quota", core.E("w", core.Invalid, &drive.QuotaError{Need: 2, Room: 1}), syscall.ENOSPC, false},
		{"interrupted", core.E("w", core.Unavailable, context.Canceled), syscall.EINTR, false},
		{"no quorum", core.Errorf("w", core.NoQuorum, "1 of 3"), syscall.EIO, true},
		{"conflict", core.Errorf("w", core.Conflict, "another writer"), syscall.EIO, true},
		{"unclassified", fmt.Errorf("boom"), syscall.EIO, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			if got := errno(log, "read", "/a", tc.err); got != tc.want {
				t.Errorf("errno(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if logged := strings.Contains(buf.String(), "path=/a"); logged != tc.logged {
				t.Errorf("logged %v (%q), want %v", logged, buf.String(), tc.logged)
			}
		})
	}
}
