package devnet

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/core"
)

// ProcMemory is a process's resident set now (VmRSS) and its peak so far
// (VmHWM), in KiB. Tests and benchmarks read a child's own figures here
// rather than the wait's rusage: Go starts children with a vfork-style
// clone, so a child's ru_maxrss also counts the parent's resident set
// before the exec.
type ProcMemory struct {
	RSS, Peak int64
}

// ReadProcMemory reads pid's ProcMemory from /proc/PID/status (Linux).
func ReadProcMemory(pid int) (ProcMemory, error) {
	var m ProcMemory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, core.E("devnet.ReadProcMemory", core.Unavailable, err)
	}
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "VmRSS:" && f[0] != "VmHWM:") {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return m, core.E("devnet.ReadProcMemory", core.Invalid, err)
		}
		if f[0] == "VmRSS:" {
			m.RSS = v
		} else {
			m.Peak = v
		}
		found++
	}
	if found < 2 {
		return m, core.Errorf("devnet.ReadProcMemory", core.NotFound, "no VmRSS and VmHWM in /proc/%d/status", pid)
	}
	return m, nil
}
