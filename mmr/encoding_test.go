package mmr_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/mmr"
)

// The MMR of leaves "a", "b", "c": proofs with hand-written encodings.
func abc(t *testing.T) *mmr.MMR {
	t.Helper()
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b", "c"} {
		if _, err := m.Append([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestInclusionEncodingGolden(t *testing.T) {
	p, err := abc(t).Proof(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantBin := "01" + "49" + // version 1, 'I'
		"0000000000000001" + "0000000000000003" + // leaf 1 of 3
		"01" + "01" + // one sibling, one other peak
		vecLeafA + vecLeafC
	bin, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(bin); got != wantBin {
		t.Errorf("MarshalBinary = %s\nwant            %s", got, wantBin)
	}
	wantJSON := `{"leaf_index":1,"leaf_count":3,"siblings":["` + vecLeafA + `"],"peaks":["` + vecLeafC + `"]}`
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != wantJSON {
		t.Errorf("JSON = %s\nwant   %s", js, wantJSON)
	}
	root := mustParse(t, vecRoot3)
	var fromBin, fromJSON mmr.InclusionProof
	if err := fromBin.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(wantJSON), &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*mmr.InclusionProof{&fromBin, &fromJSON} {
		if err := mmr.VerifyInclusion(root, 3, 1, mustParse(t, vecLeafB), q); err != nil {
			t.Errorf("decoded proof: %v", err)
		}
	}
}

func TestConsistencyEncodingGolden(t *testing.T) {
	p, err := abc(t).ConsistencyProof(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	// From 1 leaf to 3: old peaks [La]; La's right sibling Lb makes the new
	// peak Nab; Lc is a new peak to its right.
	wantBin := "01" + "43" + // version 1, 'C'
		"0000000000000001" + "0000000000000003" + // from 1 to 3 leaves
		"01" + "01" + "01" + // one old peak, one path hash, one right peak
		vecLeafA + vecLeafB + vecLeafC
	bin, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(bin); got != wantBin {
		t.Errorf("MarshalBinary = %s\nwant            %s", got, wantBin)
	}
	wantJSON := `{"old_count":1,"new_count":3,"old_peaks":["` + vecLeafA + `"],"path":["` + vecLeafB + `"],"right_peaks":["` + vecLeafC + `"]}`
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != wantJSON {
		t.Errorf("JSON = %s\nwant   %s", js, wantJSON)
	}
	var fromBin, fromJSON mmr.ConsistencyProof
	if err := fromBin.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(wantJSON), &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*mmr.ConsistencyProof{&fromBin, &fromJSON} {
		if err := mmr.VerifyConsistency(mustParse(t, vecRoot1), 1, mustParse(t, vecRoot3), 3, q); err != nil {
			t.Errorf("decoded proof: %v", err)
		}
	}
}

func TestJSONListsNeverNull(t *testing.T) {
	js, err := json.Marshal(mmr.InclusionProof{LeafIndex: 0, LeafCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"leaf_index":0,"leaf_count":1,"siblings":[],"peaks":[]}`; string(js) != want {
		t.Errorf("JSON = %s, want %s", js, want)
	}
	js, err = json.Marshal(&mmr.ConsistencyProof{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"old_count":0,"new_count":0,"old_peaks":[],"path":[],"right_peaks":[]}`; string(js) != want {
		t.Errorf("JSON = %s, want %s", js, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	valid := func(hexs string) []byte {
		b, err := hex.DecodeString(hexs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	incl := "0149" + "0000000000000001" + "0000000000000003" + "0101" + vecLeafA + vecLeafC
	cons := "0143" + "0000000000000001" + "0000000000000003" + "010101" + vecLeafA + vecLeafB + vecLeafC
	tests := []struct {
		name      string
		inclusion bool
		data      []byte
	}{
		{"empty", true, nil},
		{"version 2", true, valid("02" + incl[2:])},
		{"version 0", true, valid("00" + incl[2:])},
		{"consistency as inclusion", true, valid(cons)},
		{"truncated header", true, valid(incl[:20])},
		{"truncated hash", true, valid(incl[:len(incl)-2])},
		{"trailing byte", true, valid(incl + "00")},
		{"65 siblings", true, valid("0149" + strings.Repeat("00", 16) + "4100" + strings.Repeat(vecLeafA, 65))},
		{"inclusion as consistency", false, valid(incl)},
		{"truncated", false, valid(cons[:len(cons)-64])},
		{"trailing hash", false, valid(cons + vecLeafA)},
		{"65 path hashes", false, valid("0143" + strings.Repeat("00", 16) + "004100" + strings.Repeat(vecLeafA, 65))},
		{"255 right peaks", false, valid("0143" + strings.Repeat("00", 16) + "0000ff")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.inclusion {
				p := mmr.InclusionProof{LeafIndex: 42}
				err = p.UnmarshalBinary(tt.data)
				if p.LeafIndex != 42 {
					t.Error("failed decode changed the proof")
				}
			} else {
				p := mmr.ConsistencyProof{OldCount: 42}
				err = p.UnmarshalBinary(tt.data)
				if p.OldCount != 42 {
					t.Error("failed decode changed the proof")
				}
			}
			if !errors.Is(err, mmr.ErrInvalidProof) {
				t.Errorf("err = %v, want ErrInvalidProof", err)
			}
		})
	}
	// The unmangled encodings decode.
	var p mmr.InclusionProof
	var c mmr.ConsistencyProof
	if err := p.UnmarshalBinary(valid(incl)); err != nil {
		t.Error(err)
	}
	if err := c.UnmarshalBinary(valid(cons)); err != nil {
		t.Error(err)
	}
}

func TestEncodeRefusesLongLists(t *testing.T) {
	long := make([]mmr.Hash, 65)
	ip := &mmr.InclusionProof{Siblings: long}
	if _, err := ip.MarshalBinary(); !errors.Is(err, mmr.ErrInvalidProof) {
		t.Errorf("inclusion MarshalBinary: err = %v", err)
	}
	if _, err := json.Marshal(ip); err == nil {
		t.Error("inclusion MarshalJSON succeeded")
	}
	cp := &mmr.ConsistencyProof{RightPeaks: long}
	if _, err := cp.MarshalBinary(); !errors.Is(err, mmr.ErrInvalidProof) {
		t.Errorf("consistency MarshalBinary: err = %v", err)
	}
	js := `{"leaf_index":0,"leaf_count":1,"siblings":[` + strings.TrimSuffix(strings.Repeat(`"`+vecLeafA+`",`, 65), ",") + `],"peaks":[]}`
	if err := json.Unmarshal([]byte(js), new(mmr.InclusionProof)); !errors.Is(err, mmr.ErrInvalidProof) {
		t.Errorf("JSON with 65 siblings: err = %v", err)
	}
	huge := `{"old_count":0,"new_count":0,"old_peaks":[],"path":[],"right_peaks":[]` + strings.Repeat(" ", 1<<20) + `}`
	if err := json.Unmarshal([]byte(huge), new(mmr.ConsistencyProof)); !errors.Is(err, mmr.ErrInvalidProof) {
		t.Errorf("JSON over 1 MiB: err = %v", err)
	}
	upper := `{"leaf_index":0,"leaf_count":1,"siblings":["` + strings.ToUpper(vecLeafA) + `"],"peaks":[]}`
	if err := json.Unmarshal([]byte(upper), new(mmr.InclusionProof)); err == nil {
		t.Error("JSON with an uppercase hash decoded")
	}
}

func TestJSONNullLists(t *testing.T) {
	var p mmr.InclusionProof
	if err := json.Unmarshal([]byte(`{"leaf_index":0,"leaf_count":1,"siblings":null}`), &p); err != nil {
		t.Fatal(err)
	}
	want := mmr.InclusionProof{LeafIndex: 0, LeafCount: 1, Siblings: []mmr.Hash{}, Peaks: []mmr.Hash{}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("decoded %+v, want %+v", p, want)
	}
}
