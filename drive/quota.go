package drive

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// QuotaError says a change would take the bucket past the max bytes of
// its agreements: fewer than the quorum of its primaries have room for
// it. It is of kind Invalid (errors.Is(err, core.Invalid)); find it with
// errors.As. The CLI gives it an exit status of its own.
type QuotaError struct {
	Bucket core.BucketID
	Need   uint64 // bytes the change would write (at least)
	Room   uint64 // bytes a quorum of the primaries can still take
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("bucket %s is over quota: the change needs %d bytes and a quorum of its providers has room for %d (the agreements' max bytes minus what the log holds)", e.Bucket, e.Need, e.Room)
}

// Unwrap gives the error's kind, so errors.Is(err, core.Invalid) holds.
func (e *QuotaError) Unwrap() error { return core.Invalid }

func quotaError(bucket core.BucketID, need, room uint64) error {
	return core.E("drive.write", core.Invalid, &QuotaError{Bucket: bucket, Need: need, Room: room})
}

// unknownRoom is the room of a bucket whose limits are not known: the
// provider's own quota check is then the only one.
const unknownRoom = math.MaxUint64

// maxBytes reads the max bytes of the bucket's active primary agreements.
func (c *Client) maxBytes(ctx context.Context, bucket core.BucketID) (map[core.AccountID]uint64, error) {
	as, err := c.chain.BucketAgreements(ctx, bucket)
	if err != nil {
		return nil, core.E("drive.write", core.KindOf(err), err)
	}
	out := map[core.AccountID]uint64{}
	for _, a := range as {
		if a.Active && a.Role == wire.Primary {
			out[a.Provider] = a.MaxBytes
		}
	}
	return out, nil
}

// roomOf is what a provider can still take under limit.
func roomOf(limit uint64, used uint64) uint64 {
	if used >= limit {
		return 0
	}
	return limit - used
}

// quorumRoom is the most bytes `required` providers can all still take:
// the required-th largest room. With fewer answers than that the write
// cannot reach its quorum anyway, and the session says so, not the quota.
func quorumRoom(rooms []uint64, required int) uint64 {
	if required < 1 || len(rooms) < required {
		return unknownRoom
	}
	rooms = slices.Clone(rooms)
	slices.SortFunc(rooms, func(a, b uint64) int { return -cmpU64(a, b) })
	return rooms[required-1]
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// reserve checks that n more bytes fit the bucket's room; nothing is sent
// when they do not.
func (s *session) reserve(n uint64) error {
	if s.room != unknownRoom && (n > s.room || s.sent > s.room-n) {
		return quotaError(s.bucket, s.sent+n, s.room)
	}
	return nil
}

// manifestBytes is a generous estimate of the encoded manifest of a file
// of size bytes in chunks of chunk bytes: each chunk reference is a CIDv1
// (about 60 characters) and a size in JSON.
func manifestBytes(size uint64, chunk int) uint64 {
	return 256 + (size/uint64(chunk)+1)*128
}

// sizeOf is the bytes left in r when it can tell (or hint, if above
// zero), else -1.
func sizeOf(r io.Reader, hint int64) int64 {
	if hint > 0 {
		return hint
	}
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return fi.Size() - pos
	}
	return -1
}
