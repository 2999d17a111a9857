package checkpoint

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"

	"github.com/cairn-storage/cairn/core"
)

// The state file (version 2) is an append-only journal, so persisting one
// bucket's change costs one short line and one fsync however many buckets
// the file holds (version 1 rewrote the whole file on every change):
//
//	cairn-checkpoint-state 2\n
//	CRC {"bucket":7,"state":{"dirty":3,"pending_root":{...}}}\n
//	CRC {"bucket":7}\n                      the bucket has nothing left
//	CRC {"global":{"conflicts":{...},"open_challenges":{...}}}\n
//
// CRC is the IEEE CRC-32 of the JSON, 8 lower-case hex digits. Each line
// replaces everything the file said before about its key (one bucket, or
// the global part: conflicts, open challenges, equivocations), so the
// state is the last line of each key. A line without its newline is a
// write a crash (or a concurrent writer) left unfinished and is ignored;
// a complete line that does not check is corruption. When the file grows
// past twice its live lines (plus compactSlack), it is rewritten with the
// live lines only (temp file, fsync, rename).
//
// The first line is the magic, then (from writers that have it) the
// file's epoch: 16 hex digits drawn afresh each time the file is written
// whole. A process that read an earlier file tells by the epoch that it
// was replaced, even when the new file got the old one's inode number
// (file systems reuse them, and a compaction frees one as it makes one).
const journalMagic = "cairn-checkpoint-state 2"

// journalHeader is a first line without an epoch, as the first writers
// of version 2 wrote it; such a file is rewritten with an epoch on open.
const journalHeader = journalMagic + "\n"

// newHead is a first line with a fresh epoch.
func newHead() []byte {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	return []byte(journalMagic + " " + hex.EncodeToString(b[:]) + "\n")
}

// splitHead returns data's first line if it is a version-2 header.
func splitHead(data []byte) ([]byte, bool) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || !bytes.HasPrefix(data, []byte(journalMagic)) {
		return nil, false
	}
	epoch := data[len(journalMagic):nl]
	if len(epoch) != 0 {
		if len(epoch) != 17 || epoch[0] != ' ' {
			return nil, false
		}
		if _, err := hex.DecodeString(string(epoch[1:])); err != nil {
			return nil, false
		}
	}
	return data[:nl+1], true
}

// compactSlack is the dead weight a journal may carry beyond its live
// lines before it is compacted.
const compactSlack = 64 << 10

// globalKey is the journal key of the part of the state that is not per
// bucket.
const globalKey = "global"

// bucketState is one bucket's persisted state.
type bucketState struct {
	Dirty       *uint64      `json:"dirty,omitempty"` // change generation; absent when clean
	PendingRoot *PendingRoot `json:"pending_root,omitempty"`
	LastResult  *Result      `json:"last_result,omitempty"`
}

// globalState is the persisted state that is not per bucket.
type globalState struct {
	Conflicts     map[core.AccountID]int             `json:"conflicts,omitempty"`
	Challenges    map[core.ChallengeID]openChallenge `json:"open_challenges,omitempty"`
	Equivocations []Equivocation                     `json:"equivocations,omitempty"`
}

// journalEntry is one line: a bucket's state (nil: nothing left) or the
// global state.
type journalEntry struct {
	Bucket *core.BucketID `json:"bucket,omitempty"`
	State  *bucketState   `json:"state,omitempty"`
	Global *globalState   `json:"global,omitempty"`
}

// journal is the decoded state with the live line of each key, from
// which a compacted file is written without encoding anything again.
type journal struct {
	head      []byte // the file's first line (header and epoch)
	p         persisted
	live      map[string][]byte // key -> its last line, for keys with state
	liveBytes int
}

func newJournal() *journal {
	return &journal{p: newState(), live: map[string][]byte{}}
}

func bucketKey(b core.BucketID) string { return "b" + strconv.FormatUint(uint64(b), 10) }

// decodeJournal reads a whole version-2 state file. It never panics on
// any input; a file that does not start with the header, or holds a
// complete line that does not check, is an error. The returned length is
// that of the complete lines (a torn last line is not counted).
func decodeJournal(data []byte) (*journal, int, error) {
	head, ok := splitHead(data)
	if !ok {
		return nil, 0, fmt.Errorf("no %q header", journalMagic)
	}
	j := newJournal()
	j.head = bytes.Clone(head)
	n, err := j.apply(data[len(head):])
	if err != nil {
		return nil, 0, err
	}
	return j, len(head) + n, nil
}

// apply applies the complete lines of data and returns how many bytes
// they took.
func (j *journal) apply(data []byte) (int, error) {
	off := 0
	for {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return off, nil
		}
		line := data[off : off+nl+1]
		e, err := decodeLine(line)
		if err != nil {
			return off, fmt.Errorf("line at byte %d: %w", off, err)
		}
		j.set(e, bytes.Clone(line))
		off += nl + 1
	}
}

// decodeLine checks and decodes one line, newline included.
func decodeLine(line []byte) (journalEntry, error) {
	var e journalEntry
	body := line[:len(line)-1]
	if len(body) < 10 || body[8] != ' ' {
		return e, fmt.Errorf("not a journal line")
	}
	want, err := strconv.ParseUint(string(body[:8]), 16, 32)
	if err != nil {
		return e, fmt.Errorf("bad checksum field")
	}
	js := body[9:]
	if crc32.ChecksumIEEE(js) != uint32(want) {
		return e, fmt.Errorf("checksum mismatch")
	}
	if err := json.Unmarshal(js, &e); err != nil {
		return e, err
	}
	if (e.Bucket == nil) == (e.Global == nil) || (e.Global != nil && e.State != nil) {
		return e, fmt.Errorf("a line names one bucket or the global state")
	}
	return e, nil
}

// encodeLine is decodeLine's inverse.
func encodeLine(e journalEntry) ([]byte, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, len(js)+10)
	line = fmt.Appendf(line, "%08x ", crc32.ChecksumIEEE(js))
	line = append(line, js...)
	return append(line, '\n'), nil
}

// set applies entry e, whose encoding is line, to the state.
func (j *journal) set(e journalEntry, line []byte) {
	key := globalKey
	if e.Bucket != nil {
		key = bucketKey(*e.Bucket)
		j.p.setBucket(*e.Bucket, e.State)
		if e.State == nil {
			line = nil
		}
	} else {
		j.p.setGlobal(*e.Global)
	}
	j.liveBytes -= len(j.live[key])
	if line == nil {
		delete(j.live, key)
		return
	}
	j.live[key] = line
	j.liveBytes += len(line)
}

// entryFor is the line the state holds for key: one bucket (bucket set)
// or the global part.
func (p *persisted) entryFor(bucket *core.BucketID) journalEntry {
	if bucket == nil {
		g := p.global()
		return journalEntry{Global: &g}
	}
	b := *bucket
	st := &bucketState{LastResult: p.LastResult[b]}
	if gen, ok := p.Dirty[b]; ok {
		st.Dirty = &gen
	}
	if pr, ok := p.PendingRoot[b]; ok {
		st.PendingRoot = &pr
	}
	if st.Dirty == nil && st.PendingRoot == nil && st.LastResult == nil {
		st = nil
	}
	return journalEntry{Bucket: &b, State: st}
}

func (p *persisted) global() globalState {
	return globalState{Conflicts: p.Conflicts, Challenges: p.Challenges, Equivocations: p.Equivocations}
}

func (p *persisted) setBucket(b core.BucketID, st *bucketState) {
	delete(p.Dirty, b)
	delete(p.PendingRoot, b)
	delete(p.LastResult, b)
	if st == nil {
		return
	}
	if st.Dirty != nil {
		p.Dirty[b] = *st.Dirty
	}
	if st.PendingRoot != nil {
		p.PendingRoot[b] = *st.PendingRoot
	}
	if st.LastResult != nil {
		p.LastResult[b] = st.LastResult
	}
}

func (p *persisted) setGlobal(g globalState) {
	p.Conflicts, p.Challenges, p.Equivocations = g.Conflicts, g.Challenges, g.Equivocations
	if p.Conflicts == nil {
		p.Conflicts = map[core.AccountID]int{}
	}
	if p.Challenges == nil {
		p.Challenges = map[core.ChallengeID]openChallenge{}
	}
}

// fromPersisted builds the journal of a whole state (migrating a version
// 1 file): one line per bucket with state, and the global line.
func fromPersisted(p persisted) (*journal, error) {
	j := newJournal()
	buckets := map[core.BucketID]bool{}
	for b := range p.Dirty {
		buckets[b] = true
	}
	for b := range p.PendingRoot {
		buckets[b] = true
	}
	for b := range p.LastResult {
		buckets[b] = true
	}
	for b := range buckets {
		if err := j.record(&p, &b); err != nil {
			return nil, err
		}
	}
	if err := j.record(&p, nil); err != nil {
		return nil, err
	}
	return j, nil
}

// recordLine encodes p's line for one key (see entryFor) and applies it
// to j, returning the line to append, or nil when j already says exactly
// this (a write that would change nothing is skipped).
func (j *journal) recordLine(p *persisted, bucket *core.BucketID) ([]byte, error) {
	e := p.entryFor(bucket)
	line, err := encodeLine(e)
	if err != nil {
		return nil, err
	}
	key := globalKey
	if bucket != nil {
		key = bucketKey(*bucket)
	}
	old, had := j.live[key]
	if (had && bytes.Equal(old, line)) || (!had && e.Bucket != nil && e.State == nil) {
		return nil, nil
	}
	j.set(e, line)
	return line, nil
}

func (j *journal) record(p *persisted, bucket *core.BucketID) error {
	_, err := j.recordLine(p, bucket)
	return err
}

// snapshot is the compacted file: the first line head and the live
// lines, in key order.
func (j *journal) snapshot(head []byte) []byte {
	keys := make([]string, 0, len(j.live))
	for k := range j.live {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]byte, 0, len(head)+j.liveBytes)
	out = append(out, head...)
	for _, k := range keys {
		out = append(out, j.live[k]...)
	}
	return out
}

// needsCompaction reports whether a file of size bytes carries too much
// dead weight.
func (j *journal) needsCompaction(size int64) bool {
	return size > 2*int64(len(journalHeader)+j.liveBytes)+compactSlack
}
