package core

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestLeafEncoding(t *testing.T) {
	l := Leaf{Seq: 258, ContentHash: Sum256([]byte("abc")), Size: 3}
	b := l.Bytes()
	const want = "636169726e2f6c6561662f7631000000000000000102" +
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" + "0000000000000003"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("leaf bytes\n got %s\nwant %s", got, want)
	}
	back, err := ParseLeaf(b)
	if err != nil || back != l {
		t.Fatalf("ParseLeaf = %+v %v", back, err)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(append([]byte{}, b...), 0), append([]byte("cairn/leaf/v2\x00"), b[14:]...)} {
		if _, err := ParseLeaf(bad); !errors.Is(err, Invalid) {
			t.Errorf("ParseLeaf(%x) err %v", bad, err)
		}
	}
}
