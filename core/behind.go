package core

import "fmt"

// BehindError says that a write named a seq past a provider's log: the log
// holds LeafCount leaves counting from seq 0 (its next seq), and the
// provider must catch up before it can take the write. It is the one
// "provider is behind" type: the store returns it (kind Conflict), the
// provider's HTTP error body carries its LeafCount as leaf_count, the
// provider client decodes it back, and the drive finds it with errors.As.
type BehindError struct {
	Seq       uint64 // the seq the write named; 0 when not known (decoded from the wire)
	LeafCount uint64 // the log's next seq
}

func (e *BehindError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("provider is behind: its log ends at seq %d", e.LeafCount)
	}
	return fmt.Sprintf("seq %d is past the log's next seq %d", e.Seq, e.LeafCount)
}
