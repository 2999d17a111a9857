package mmr

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Binary encodings, version 1: see "Encodings" in the package doc.
const (
	encodingVersion = 1
	kindInclusion   = 'I'
	kindConsistency = 'C'
)

// MarshalBinary implements encoding.BinaryMarshaler (see package doc).
func (p *InclusionProof) MarshalBinary() ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("mmr: encode nil inclusion proof: %w", ErrInvalidProof)
	}
	if err := checkLens("inclusion", p.Siblings, p.Peaks); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 20+32*(len(p.Siblings)+len(p.Peaks)))
	out = append(out, encodingVersion, kindInclusion)
	out = binary.BigEndian.AppendUint64(out, p.LeafIndex)
	out = binary.BigEndian.AppendUint64(out, p.LeafCount)
	out = append(out, byte(len(p.Siblings)), byte(len(p.Peaks)))
	out = appendHashes(out, p.Siblings)
	out = appendHashes(out, p.Peaks)
	return out, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It refuses, with an
// error wrapping ErrInvalidProof, anything MarshalBinary would not produce;
// on error p is unchanged.
func (p *InclusionProof) UnmarshalBinary(data []byte) error {
	d := decoder{data: data, what: "inclusion"}
	d.header(kindInclusion)
	q := InclusionProof{LeafIndex: d.uint64(), LeafCount: d.uint64()}
	nSib, nPeaks := d.count(), d.count()
	q.Siblings = d.hashes(nSib)
	q.Peaks = d.hashes(nPeaks)
	if err := d.finish(); err != nil {
		return err
	}
	*p = q
	return nil
}

// MarshalBinary implements encoding.BinaryMarshaler (see package doc).
func (p *ConsistencyProof) MarshalBinary() ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("mmr: encode nil consistency proof: %w", ErrInvalidProof)
	}
	if err := checkLens("consistency", p.OldPeaks, p.Path, p.RightPeaks); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 21+32*(len(p.OldPeaks)+len(p.Path)+len(p.RightPeaks)))
	out = append(out, encodingVersion, kindConsistency)
	out = binary.BigEndian.AppendUint64(out, p.OldCount)
	out = binary.BigEndian.AppendUint64(out, p.NewCount)
	out = append(out, byte(len(p.OldPeaks)), byte(len(p.Path)), byte(len(p.RightPeaks)))
	out = appendHashes(out, p.OldPeaks)
	out = appendHashes(out, p.Path)
	out = appendHashes(out, p.RightPeaks)
	return out, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It refuses, with an
// error wrapping ErrInvalidProof, anything MarshalBinary would not produce;
// on error p is unchanged.
func (p *ConsistencyProof) UnmarshalBinary(data []byte) error {
	d := decoder{data: data, what: "consistency"}
	d.header(kindConsistency)
	q := ConsistencyProof{OldCount: d.uint64(), NewCount: d.uint64()}
	nOld, nPath, nRight := d.count(), d.count(), d.count()
	q.OldPeaks = d.hashes(nOld)
	q.Path = d.hashes(nPath)
	q.RightPeaks = d.hashes(nRight)
	if err := d.finish(); err != nil {
		return err
	}
	*p = q
	return nil
}

func checkLens(what string, lists ...[]Hash) error {
	for _, l := range lists {
		if len(l) > maxPeaks {
			return fmt.Errorf("mmr: encode %s proof: list of %d hashes, at most %d: %w", what, len(l), maxPeaks, ErrInvalidProof)
		}
	}
	return nil
}

func appendHashes(out []byte, hs []Hash) []byte {
	for i := range hs {
		out = append(out, hs[i][:]...)
	}
	return out
}

// decoder reads a binary proof; the first error sticks and later reads
// return zero values.
type decoder struct {
	data []byte
	what string
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("mmr: decode %s proof: %s: %w", d.what, fmt.Sprintf(format, args...), ErrInvalidProof)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.data) < n {
		d.fail("truncated")
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) header(kind byte) {
	b := d.take(2)
	switch {
	case b == nil:
	case b[0] != encodingVersion:
		d.fail("unsupported version %d", b[0])
	case b[1] != kind:
		d.fail("kind %q, want %q", b[1], kind)
	}
}

func (d *decoder) uint64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) count() int {
	b := d.take(1)
	if b == nil {
		return 0
	}
	if b[0] > maxPeaks {
		d.fail("list of %d hashes, at most %d", b[0], maxPeaks)
		return 0
	}
	return int(b[0])
}

func (d *decoder) hashes(n int) []Hash {
	b := d.take(32 * n)
	if d.err != nil {
		return nil
	}
	hs := make([]Hash, n)
	for i := range hs {
		copy(hs[i][:], b[32*i:])
	}
	return hs
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.data) != 0 {
		d.fail("%d trailing bytes", len(d.data))
	}
	return d.err
}

// maxJSON bounds the JSON text of a proof: the longest valid proof, 192
// hashes, takes about 13 KB.
const maxJSON = 1 << 20

// JSON forms. Lists are never null, hashes are lowercase hex.
type inclusionJSON struct {
	LeafIndex uint64 `json:"leaf_index"`
	LeafCount uint64 `json:"leaf_count"`
	Siblings  []Hash `json:"siblings"`
	Peaks     []Hash `json:"peaks"`
}

type consistencyJSON struct {
	OldCount   uint64 `json:"old_count"`
	NewCount   uint64 `json:"new_count"`
	OldPeaks   []Hash `json:"old_peaks"`
	Path       []Hash `json:"path"`
	RightPeaks []Hash `json:"right_peaks"`
}

// MarshalJSON implements json.Marshaler:
//
//	{"leaf_index":N,"leaf_count":N,"siblings":["hex",...],"peaks":["hex",...]}
func (p InclusionProof) MarshalJSON() ([]byte, error) {
	if err := checkLens("inclusion", p.Siblings, p.Peaks); err != nil {
		return nil, err
	}
	return json.Marshal(inclusionJSON{p.LeafIndex, p.LeafCount, nonNil(p.Siblings), nonNil(p.Peaks)})
}

// UnmarshalJSON implements json.Unmarshaler; lists longer than 64 hashes
// and texts longer than 1 MiB are refused. On error p is unchanged.
func (p *InclusionProof) UnmarshalJSON(data []byte) error {
	if len(data) > maxJSON {
		return fmt.Errorf("mmr: decode inclusion proof: %d bytes of JSON, at most %d: %w", len(data), maxJSON, ErrInvalidProof)
	}
	var j inclusionJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("mmr: decode inclusion proof: %w: %w", ErrInvalidProof, err)
	}
	if err := checkLens("inclusion", j.Siblings, j.Peaks); err != nil {
		return err
	}
	*p = InclusionProof{j.LeafIndex, j.LeafCount, nonNil(j.Siblings), nonNil(j.Peaks)}
	return nil
}

// MarshalJSON implements json.Marshaler:
//
//	{"old_count":N,"new_count":N,"old_peaks":[...],"path":[...],"right_peaks":[...]}
func (p ConsistencyProof) MarshalJSON() ([]byte, error) {
	if err := checkLens("consistency", p.OldPeaks, p.Path, p.RightPeaks); err != nil {
		return nil, err
	}
	return json.Marshal(consistencyJSON{p.OldCount, p.NewCount, nonNil(p.OldPeaks), nonNil(p.Path), nonNil(p.RightPeaks)})
}

// UnmarshalJSON implements json.Unmarshaler; lists longer than 64 hashes
// and texts longer than 1 MiB are refused. On error p is unchanged.
func (p *ConsistencyProof) UnmarshalJSON(data []byte) error {
	if len(data) > maxJSON {
		return fmt.Errorf("mmr: decode consistency proof: %d bytes of JSON, at most %d: %w", len(data), maxJSON, ErrInvalidProof)
	}
	var j consistencyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("mmr: decode consistency proof: %w: %w", ErrInvalidProof, err)
	}
	if err := checkLens("consistency", j.OldPeaks, j.Path, j.RightPeaks); err != nil {
		return err
	}
	*p = ConsistencyProof{j.OldCount, j.NewCount, nonNil(j.OldPeaks), nonNil(j.Path), nonNil(j.RightPeaks)}
	return nil
}

func nonNil(hs []Hash) []Hash {
	if hs == nil {
		return []Hash{}
	}
	return hs
}
