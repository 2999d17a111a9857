package s3

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/rclone/gofakes3"
)

// noBody is the contents of a HEAD, a folder marker or an empty file.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }

// objectReader runs start (a download into a pipe) on the first Read;
// Close stops it and waits for it, so no download outlives its reader.
type objectReader struct {
	ctx   context.Context
	start func(ctx context.Context, w io.Writer) error

	once   sync.Once
	r      *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func (o *objectReader) Read(p []byte) (int, error) {
	o.once.Do(func() {
		ctx, cancel := context.WithCancel(o.ctx)
		pr, pw := io.Pipe()
		o.r, o.cancel, o.done = pr, cancel, make(chan struct{})
		go func() {
			defer close(o.done)
			pw.CloseWithError(o.start(ctx, pw)) // nil: EOF
		}()
	})
	return o.r.Read(p)
}

func (o *objectReader) Close() error {
	o.once.Do(func() {}) // a reader never read starts nothing
	if o.r == nil {
		return nil
	}
	o.cancel()
	o.r.CloseWithError(context.Canceled)
	<-o.done
	return nil
}

// strictReader fails with IncompleteBody when a body ends before the
// size it declared (a client gone mid-request), where the drive would
// otherwise store the bytes that came as a whole, shorter file. It keeps
// the first error its reader gave (a BadDigest from gofakes3's check, a
// failed download for a copy), which the drive client wraps.
type strictReader struct {
	r    io.Reader
	want int64 // -1: unknown, read to EOF
	n    int64
	err  error
}

func (s *strictReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if (err == io.EOF && s.want >= 0 && s.n != s.want) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = gofakes3.ErrIncompleteBody
	}
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}
