package devnet

import (
	"os"
	"testing"
)

func TestReadProcMemory(t *testing.T) {
	m, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("ReadProcMemory(self) = %+v: want 0 < RSS <= Peak", m)
	}
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	after, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.Peak < m.Peak+32<<10 {
		t.Errorf("peak %d KiB after touching 64 MiB, was %d KiB: want it to grow by at least 32 MiB", after.Peak, m.Peak)
	}
	_ = big[len(big)-1]
	if _, err := ReadProcMemory(-1); err == nil {
		t.Error("ReadProcMemory(-1) = nil error")
	}
}
