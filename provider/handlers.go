package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/internal/httpconn"
	"github.com/cairn-storage/cairn/provider/store"
	"github.com/cairn-storage/cairn/provider/wire"
)

// handler serves one route; a returned error becomes the JSON error answer.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) routes() {
	mux := http.NewServeMux()
	// Every route has a deadline: RequestTimeout for those that answer
	// at once, BodyTimeout for those that stream a blob in or out.
	handle := func(pattern, route string, methods []string, deadline time.Duration, h handler) {
		mux.Handle(pattern, s.instrument(route, methods, deadline, h))
	}
	get := []string{http.MethodGet, http.MethodHead}
	quick, stream := s.cfg.RequestTimeout, s.cfg.BodyTimeout
	handle(wire.PathHealth, "health", get, quick, s.handleHealth)
	handle(wire.PathCommitment, "commitment", get, quick, s.handleCommitment)
	handle(wire.PathProof, "proof", get, quick, s.handleProof)
	handle(wire.PathConsistency, "consistency", get, quick, s.handleConsistency)
	handle(wire.PathLeaves, "leaves", get, quick, s.handleLeaves)
	handle(wire.PathUsage, "usage", get, quick, s.handleUsage)
	handle("/buckets/{id}/writes/{seq}", "write", []string{http.MethodPut}, stream, s.handleWrite)
	handle("/buckets/{id}/blobs/{hash}", "blob", get, stream, s.handleBlob)
	metrics := promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
	handle(wire.PathMetrics, "metrics", get, quick, func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	})
	handle("/", "other", nil, quick, func(w http.ResponseWriter, r *http.Request) error {
		return core.Errorf("provider", core.NotFound, "no route %s", r.URL.Path)
	})
	s.mux = mux
}

// ServeHTTP serves the provider API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// instrument checks the method, bounds the request by deadline (its
// context, and the connection's read and write deadlines), turns errors
// and panics into JSON answers, and records the request in the metrics.
func (s *Server) instrument(route string, methods []string, deadline time.Duration, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), deadline)
		defer cancel()
		r = r.WithContext(ctx)
		sw := httpconn.NewStatusWriter(w)
		rc := http.NewResponseController(sw)
		// Errors mean a writer without deadlines (a test recorder).
		_ = rc.SetReadDeadline(start.Add(deadline))
		_ = rc.SetWriteDeadline(start.Add(deadline))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "route", route, "panic", p, "stack", string(debug.Stack()))
				if !sw.Started() {
					wire.WriteError(sw, core.Errorf("provider."+route, core.Internal, "internal error"))
				}
			}
			s.m.requests.WithLabelValues(route, strconv.Itoa(sw.Status())).Inc()
			s.m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		if methods != nil && !allowed(r.Method, methods) {
			sw.Header().Set("Allow", strings.Join(methods, ", "))
			wire.WriteError(sw, wire.WithStatus(core.Errorf("provider."+route, core.Invalid, "method %s not allowed", r.Method), http.StatusMethodNotAllowed))
			return
		}
		if err := h(sw, r); err != nil {
			if sw.Started() {
				s.log.Debug("error after the answer began", "route", route, "err", err)
				return
			}
			if core.KindOf(err) == core.Internal || core.KindOf(err) == core.Other {
				s.log.Error("request failed", "route", route, "err", err)
			}
			wire.WriteError(sw, err)
		}
	})
}

func allowed(m string, ms []string) bool {
	for _, x := range ms {
		if m == x {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return core.E("provider.writeJSON", core.Internal, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// query parses the query string strictly: a malformed one is refused
// rather than half-read.
func query(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, core.Errorf("provider.query", core.Invalid, "malformed query string: %v", err)
	}
	return v, nil
}

// handleHealth answers the node's own status and counts: public, so no
// bucket is named, and its size does not grow with the buckets held.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	h := wire.Health{Status: "ok", Version: s.cfg.Version, Account: s.acct}
	ctx := r.Context()
	var err error
	if h.ChainID, err = s.cache.ChainID(ctx); err != nil {
		h.Status = "degraded"
	}
	if h.ChainHeight, err = s.cache.Height(ctx); err != nil {
		h.Status = "degraded"
	}
	s.trackMu.Lock()
	for _, l := range s.lag {
		if l > 0 {
			h.Lagging++
		}
	}
	s.trackMu.Unlock()
	if h.Lagging > 0 {
		h.Status = "degraded"
	}
	for _, b := range s.trackedBuckets() {
		st, err := s.st.State(b)
		if err != nil {
			return err
		}
		h.Buckets++
		h.Bytes += st.Bytes
	}
	return writeJSON(w, http.StatusOK, h)
}

// handleUsage answers what this provider holds of one bucket, to a signed
// read by a member or a provider of it (usage is private).
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.usage"
	v, err := query(r)
	if err != nil {
		return err
	}
	q, err := wire.ParseBucketQuery(v)
	if err != nil {
		return err
	}
	if err := s.authorizeRead(r, op, q.Bucket, wire.ReadResource(wire.PathUsage, v)); err != nil {
		return err
	}
	st, err := s.st.State(q.Bucket)
	if err != nil {
		return err
	}
	u := wire.Usage{Bucket: q.Bucket, StartSeq: st.StartSeq, LeafCount: st.LeafCount, Bytes: st.Bytes}
	s.trackMu.Lock()
	u.SyncLag = s.lag[q.Bucket]
	s.trackMu.Unlock()
	if bi, ok := s.cache.cachedBucket(q.Bucket); ok {
		if a := bi.agreement(s.acct); a != nil {
			u.Role = string(a.Role)
		}
	}
	return writeJSON(w, http.StatusOK, u)
}

// agreement returns this provider's active agreement for the bucket, with
// the bucket; kind not_found if the bucket does not exist, unauthorized
// (403) without an active agreement.
func (s *Server) agreement(r *http.Request, op string, b core.BucketID) (bucketInfo, *chainwire.Agreement, error) {
	bi, err := s.cache.Bucket(r.Context(), b)
	if err != nil {
		return bi, nil, core.E(op, core.KindOf(err), err)
	}
	a := bi.agreement(s.acct)
	if a == nil || !a.Active {
		return bi, nil, wire.Forbidden(op, "this provider has no active agreement for bucket %s", b)
	}
	return bi, a, nil
}

func (s *Server) handleCommitment(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.commitment"
	v, err := query(r)
	if err != nil {
		return err
	}
	q, err := wire.ParseBucketQuery(v)
	if err != nil {
		return err
	}
	st, err := s.st.State(q.Bucket)
	if err != nil {
		return err
	}
	if st.LeafCount == 0 {
		// No log here: commit to the empty log only for a bucket we serve.
		if _, _, err := s.agreement(r, op, q.Bucket); err != nil {
			if core.KindOf(err) == core.Unauthorized {
				return core.Errorf(op, core.NotFound, "this provider holds no bucket %s", q.Bucket)
			}
			return err
		}
		s.track(q.Bucket)
	}
	sc, err := s.commitment(r, st)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sc)
}

// commitment signs st, reusing the last signature while the log is unchanged.
func (s *Server) commitment(r *http.Request, st store.State) (core.SignedCommitment, error) {
	s.commitMu.Lock()
	sc, ok := s.commits[st.Bucket]
	s.commitMu.Unlock()
	if ok && sc.LeafCount == st.LeafCount && sc.StartSeq == st.StartSeq && sc.MMRRoot == core.H256(st.Root) {
		return sc, nil
	}
	chainID, err := s.cache.ChainID(r.Context())
	if err != nil {
		return sc, err
	}
	c := core.Commitment{ChainID: chainID, Bucket: st.Bucket, MMRRoot: core.H256(st.Root), StartSeq: st.StartSeq, LeafCount: st.LeafCount}
	sc, err = c.Sign(s.key)
	if err != nil {
		return sc, core.E("provider.commitment", core.Internal, err)
	}
	s.commitMu.Lock()
	if old, ok := s.commits[st.Bucket]; !ok || old.LeafCount <= sc.LeafCount {
		s.commits[st.Bucket] = sc
	}
	s.commitMu.Unlock()
	return sc, nil
}

func (s *Server) handleProof(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.proof"
	v, err := query(r)
	if err != nil {
		return err
	}
	q, err := wire.ParseProofQuery(v)
	if err != nil {
		return err
	}
	if err := s.authorizeRead(r, op, q.Bucket, wire.ReadResource(wire.PathProof, v)); err != nil {
		return err
	}
	st, err := s.st.State(q.Bucket)
	if err != nil {
		return err
	}
	n := q.LeafCount
	if n == 0 {
		n = st.LeafCount
	}
	if q.Leaf >= n {
		return core.Errorf(op, core.NotFound, "bucket %s: no leaf %d in a log of %d leaves", q.Bucket, q.Leaf, n)
	}
	p, err := s.st.Proof(q.Bucket, q.Leaf, n)
	if err != nil {
		return err
	}
	lf, err := s.st.Leaf(q.Bucket, st.StartSeq+q.Leaf)
	if err != nil {
		return err
	}
	root, err := s.st.RootAt(q.Bucket, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.Proof{Bucket: q.Bucket, StartSeq: st.StartSeq, Leaf: lf, LeafIndex: q.Leaf, LeafCount: n, Root: core.H256(root), Proof: *p})
}

func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.consistency"
	v, err := query(r)
	if err != nil {
		return err
	}
	q, err := wire.ParseConsistencyQuery(v)
	if err != nil {
		return err
	}
	if err := s.authorizeRead(r, op, q.Bucket, wire.ReadResource(wire.PathConsistency, v)); err != nil {
		return err
	}
	st, err := s.st.State(q.Bucket)
	if err != nil {
		return err
	}
	n := q.New
	if n == 0 {
		n = st.LeafCount
	}
	p, err := s.st.ConsistencyProof(q.Bucket, q.Old, n)
	if err != nil {
		return err
	}
	oldRoot, err := s.st.RootAt(q.Bucket, q.Old)
	if err != nil {
		return err
	}
	newRoot, err := s.st.RootAt(q.Bucket, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.Consistency{Bucket: q.Bucket, OldCount: q.Old, NewCount: n, OldRoot: core.H256(oldRoot), NewRoot: core.H256(newRoot), Proof: *p})
}

func (s *Server) handleLeaves(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.leaves"
	v, err := query(r)
	if err != nil {
		return err
	}
	q, err := wire.ParseLeavesQuery(v)
	if err != nil {
		return err
	}
	if err := s.authorizeRead(r, op, q.Bucket, wire.ReadResource(wire.PathLeaves, v)); err != nil {
		return err
	}
	st, err := s.st.State(q.Bucket)
	if err != nil {
		return err
	}
	out := wire.Leaves{Bucket: q.Bucket, StartSeq: st.StartSeq, LeafCount: st.LeafCount, From: q.From, Leaves: []core.SignedLeaf{}}
	if q.From >= st.StartSeq && q.From < st.NextSeq() {
		// Stay inside the state read above, though the log may grow meanwhile.
		limit := min(uint64(q.Limit), st.NextSeq()-q.From)
		leaves, err := s.st.Leaves(q.Bucket, q.From, int(limit))
		if err != nil {
			return err
		}
		out.Leaves = leaves
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.write"
	sw, err := wire.ParseWrite(r.PathValue("id"), r.PathValue("seq"), r.Header)
	if err != nil {
		return err
	}
	if sw.Size > s.cfg.MaxBlobSize {
		return wire.WithStatus(core.Errorf(op, core.Invalid, "blob of %d bytes is over this provider's limit of %d", sw.Size, s.cfg.MaxBlobSize), http.StatusRequestEntityTooLarge)
	}
	switch {
	case r.ContentLength < 0:
		return wire.WithStatus(core.Errorf(op, core.Invalid, "a write needs Content-Length"), http.StatusLengthRequired)
	case r.ContentLength > int64(s.cfg.MaxBlobSize):
		return wire.WithStatus(core.Errorf(op, core.Invalid, "body of %d bytes is over this provider's limit of %d", r.ContentLength, s.cfg.MaxBlobSize), http.StatusRequestEntityTooLarge)
	case r.ContentLength != int64(sw.Size):
		return core.Errorf(op, core.Invalid, "Content-Length %d disagrees with %s %d", r.ContentLength, wire.HeaderSize, sw.Size)
	}
	if err := wire.CheckExpiry(op, sw.Expiry, s.now()); err != nil {
		return err
	}
	if sw.ChainID, err = s.cache.ChainID(r.Context()); err != nil {
		return err
	}
	if err := sw.Verify(sw.Writer, sw.Signature); err != nil {
		return err
	}
	// The leaf's own signature, by a writer of the bucket: it is stored
	// with the leaf and answers a challenge, so nothing is stored without it.
	leaf := sw.SignedLeaf()
	if err := leaf.Verify(sw.ChainID, sw.Bucket); err != nil {
		return core.E(op, core.Unauthorized, err)
	}
	bi, a, err := s.agreement(r, op, sw.Bucket)
	if err != nil {
		return err
	}
	if a.Role != chainwire.Primary {
		return wire.Forbidden(op, "this provider is a %s of bucket %s: writes go to its primaries", a.Role, sw.Bucket)
	}
	if !bi.bucket.Role(sw.Writer).CanWrite() {
		return wire.Forbidden(op, "%s is not a writer of bucket %s", sw.Writer.Short(), sw.Bucket)
	}
	if !bi.bucket.LeafSigner(leaf.Writer) {
		return wire.Forbidden(op, "the leaf is signed by %s, who never wrote to bucket %s", leaf.Writer.Short(), sw.Bucket)
	}
	s.track(sw.Bucket)
	// Read the body before the store takes the bucket's write lock, so a
	// slow sender holds up only itself (until BodyTimeout, set by
	// instrument); it is at most MaxBlobSize bytes.
	buf := s.body(sw.Size)
	defer s.bodies.Put(buf)
	data, err := readFull(op, http.MaxBytesReader(w, r.Body, int64(sw.Size)), (*buf)[:sw.Size])
	if err != nil {
		return err
	}
	res, err := s.st.Append(sw.Bucket, store.Write{
		Leaf:     leaf,
		Bytes:    data, // no copy: the store holds no reference once it returns
		MaxBytes: a.MaxBytes,
		Nonce:    &store.Nonce{Writer: sw.Writer, Value: sw.Nonce, Expiry: sw.Expiry},
	})
	if err != nil {
		return s.writeError(op, sw.Bucket, err)
	}
	status := http.StatusCreated
	if res.Existing {
		status = http.StatusOK
	} else {
		if st, err := s.st.State(sw.Bucket); err == nil {
			s.m.logSize(sw.Bucket, st.LeafCount, st.Bytes)
		}
	}
	return writeJSON(w, status, wire.WriteResult{Leaf: res.Leaf, LeafIndex: res.LeafIndex, LeafCount: res.LeafCount, MMRRoot: core.H256(res.Root)})
}

// writeError maps the store's refusals of a write to their answers.
func (s *Server) writeError(op string, b core.BucketID, err error) error {
	var gap *core.BehindError
	var quota *store.QuotaError
	switch {
	case errors.As(err, &gap):
		s.SyncNow(b) // behind: catch up from the peers
		return core.E(op, core.Conflict, err)
	case errors.As(err, &quota):
		return wire.WithStatus(core.E(op, core.Invalid, err), http.StatusInsufficientStorage)
	}
	return core.E(op, core.KindOf(err), err)
}

func (s *Server) handleBlob(w http.ResponseWriter, r *http.Request) error {
	const op = "provider.blob"
	b, hash, err := wire.ParseBlobPath(r.PathValue("id"), r.PathValue("hash"))
	if err != nil {
		return err
	}
	if err := s.authorizeRead(r, op, b, wire.BlobPath(b, hash)); err != nil {
		return err
	}
	blob, err := s.st.OpenBlob(b, hash)
	if err != nil {
		return err
	}
	defer blob.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+hash.String()+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, blob)
	return nil
}

// authorizeRead checks a signed read of resource in bucket b: the
// signature by a member of the bucket (any role) or a provider with an
// active agreement on it, over this chain, bucket and resource, not
// expired and with a nonce never used before (nonces are kept by the
// store, so a restart does not make a captured read replayable). A
// missing or bad signature gives kind unauthorized.
func (s *Server) authorizeRead(r *http.Request, op string, b core.BucketID, resource string) error {
	sr, err := wire.ParseReadHeaders(b, resource, r.Header)
	if err != nil {
		return err
	}
	if err := wire.CheckExpiry(op, sr.Expiry, s.now()); err != nil {
		return err
	}
	if sr.ChainID, err = s.cache.ChainID(r.Context()); err != nil {
		return err
	}
	if err := sr.Verify(sr.Reader, sr.Signature); err != nil {
		return err
	}
	bi, err := s.cache.Bucket(r.Context(), b)
	if err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	if !mayRead(bi, sr.Reader) {
		return wire.Forbidden(op, "%s is neither a member nor a provider of bucket %s", sr.Reader.Short(), b)
	}
	if err := s.st.UseNonce(b, store.Nonce{Writer: sr.Reader, Value: sr.Nonce, Expiry: sr.Expiry}); err != nil {
		return core.E(op, core.KindOf(err), err)
	}
	return nil
}

// mayRead: any member of the bucket, and any provider with an active
// agreement for it (replicas sync blobs from their peers).
func mayRead(bi bucketInfo, a core.AccountID) bool {
	if bi.bucket.Role(a) != "" {
		return true
	}
	ag := bi.agreement(a)
	return ag != nil && ag.Active
}

// body returns a buffer of at least size bytes (size is at most
// MaxBlobSize, checked by the caller) for a write's body, from s.bodies;
// the caller puts it back.
func (s *Server) body(size uint64) *[]byte {
	if b, ok := s.bodies.Get().(*[]byte); ok && uint64(cap(*b)) >= size {
		return b
	}
	b := make([]byte, max(size, s.cfg.MaxBlobSize))
	return &b
}

// readFull fills data from r.
func readFull(op string, r io.Reader, data []byte) ([]byte, error) {
	size := len(data)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, core.Errorf(op, core.Invalid, "body ended after fewer than %d bytes", size)
		}
		return nil, core.E(op, core.Unavailable, fmt.Errorf("reading the body: %w", err))
	}
	return data, nil
}
