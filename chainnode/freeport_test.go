package chainnode_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/core"
)

// FreePort gives a port a listener on the host can then bind; a host it
// cannot listen on is Unavailable.
func TestFreePort(t *testing.T) {
	for _, c := range []struct {
		host string
		want core.Kind // core.Other: a port
	}{
		{"127.0.0.1", core.Other},
		{"", core.Other},
		{"192.0.2.1", core.Unavailable}, // TEST-NET-1: not an address of this machine
	} {
		t.Run(c.host, func(t *testing.T) {
			p, err := chainnode.FreePort(c.host)
			if c.want != core.Other {
				if core.KindOf(err) != c.want {
					t.Fatalf("port %d, err %v, want kind %v", p, err, c.want)
				}
				return
			}
			if err != nil || p <= 0 || p > 65535 {
				t.Fatalf("port %d, %v", p, err)
			}
			l, err := net.Listen("tcp", net.JoinHostPort(c.host, strconv.Itoa(p)))
			if err != nil {
				t.Fatalf("port %d is not free: %v", p, err)
			}
			l.Close()
		})
	}
}

// FreePort's ports lie below the kernel's ephemeral range, where outgoing
// connections and port-0 listeners of other tests never take them.
func TestFreePortAvoidsEphemeralRange(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skipf("no ephemeral range to compare with: %v", err)
	}
	lo, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil || lo <= 20000 {
		t.Skipf("ephemeral range starts at %q", b)
	}
	for range 20 {
		p, err := chainnode.FreePort("127.0.0.1")
		if err != nil || p < 20000 || p >= lo {
			t.Fatalf("port %d (%v), want one in [20000, %d)", p, err, lo)
		}
	}
}
