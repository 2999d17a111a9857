package mmr_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/cairn-storage/cairn/mmr"
)

func ExampleMMR() {
	// A provider appends writes to its log.
	m, err := mmr.New(mmr.NewMemStore())
	if err != nil {
		log.Fatal(err)
	}
	for _, write := range []string{"a", "b", "c"} {
		if _, err := m.Append([]byte(write)); err != nil {
			log.Fatal(err)
		}
	}
	root, err := m.Root()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leaves:", m.LeafCount(), "nodes:", m.Size())
	fmt.Println("root:", root)

	// It proves that leaf 1 is "b"; the proof travels as bytes (or JSON).
	proof, err := m.Proof(1, m.LeafCount())
	if err != nil {
		log.Fatal(err)
	}
	wire, err := proof.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}

	// A client holding only the root, the leaf count and the claimed leaf checks it.
	var received mmr.InclusionProof
	if err := received.UnmarshalBinary(wire); err != nil {
		log.Fatal(err)
	}
	err = mmr.VerifyInclusion(root, 3, 1, mmr.LeafHash([]byte("b")), &received)
	fmt.Println("leaf 1 is b:", err == nil)
	err = mmr.VerifyInclusion(root, 3, 1, mmr.LeafHash([]byte("x")), &received)
	fmt.Println("leaf 1 is x:", !errors.Is(err, mmr.ErrInvalidProof))

	// A client that last saw 2 leaves checks that the new root extends that
	// history rather than rewriting it.
	oldRoot, err := m.RootAt(2)
	if err != nil {
		log.Fatal(err)
	}
	cp, err := m.ConsistencyProof(2, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("3 leaves extend 2:", mmr.VerifyConsistency(oldRoot, 2, root, 3, cp) == nil)
	// Output:
	// leaves: 3 nodes: 4
	// root: 6069e91588393b7164a3182ad5e503ff24385317b33820aabe77179c8d7d181b
	// leaf 1 is b: true
	// leaf 1 is x: false
	// 3 leaves extend 2: true
}
