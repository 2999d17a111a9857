package drive

import (
	"errors"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/providers"
)

func TestGraceAdaptsToTheQuorum(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GraceFloor, cfg.FinishGrace, cfg.GraceFraction = 20*time.Millisecond, time.Second, 0.25
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, 20 * time.Millisecond},                       // the floor
		{40 * time.Millisecond, 20 * time.Millisecond},   // a quarter is below the floor
		{400 * time.Millisecond, 100 * time.Millisecond}, // a quarter
		{time.Minute, time.Second},                       // the cap
	} {
		if got := cfg.grace(tc.took); got != tc.want {
			t.Errorf("grace after a quorum in %s: %s, want %s", tc.took, got, tc.want)
		}
	}
}

func TestUnresponsive(t *testing.T) {
	fail := errors.New("hung")
	for _, tc := range []struct {
		name    string
		results []error
		want    bool
	}{
		{"no history", nil, false},
		{"healthy", []error{nil, nil, nil}, false},
		{"two failures", []error{nil, fail, fail}, false},
		{"three failures in a row", []error{nil, fail, fail, fail}, true},
		{"unreachable", []error{fail, fail, fail, fail, fail}, true},
		{"answered again", []error{fail, fail, fail, fail, fail, nil}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h providers.Health
			for _, err := range tc.results {
				h.Record(time.Unix(0, 0), time.Millisecond, err)
			}
			if got := unresponsive(h); got != tc.want {
				t.Fatalf("unresponsive %v, want %v (%+v)", got, tc.want, h)
			}
		})
	}
}

func TestQuorumRoom(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rooms    []uint64
		required int
		want     uint64
	}{
		{"the required-th largest", []uint64{10, 30, 20}, 2, 20},
		{"all needed", []uint64{10, 30, 20}, 3, 10},
		{"one full provider is outvoted", []uint64{0, 30, 20}, 2, 20},
		{"too few answers: not the quota's call", []uint64{30}, 2, unknownRoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quorumRoom(tc.rooms, tc.required); got != tc.want {
				t.Fatalf("room %d, want %d", got, tc.want)
			}
		})
	}
	if roomOf(100, 150) != 0 || roomOf(100, 40) != 60 {
		t.Fatal("roomOf: a log past its limit has no room, else the difference")
	}
}

func TestReserveRefusesPastTheRoom(t *testing.T) {
	s := &session{bucket: 7, room: 100}
	if err := s.reserve(100); err != nil {
		t.Fatalf("exactly the room: %v", err)
	}
	s.sent = 60
	err := s.reserve(41)
	var qe *QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, core.Invalid) || qe.Need != 101 || qe.Room != 100 {
		t.Fatalf("over the room: %v, want a QuotaError of kind invalid needing 101 of 100", err)
	}
	s.room = unknownRoom
	if err := s.reserve(1 << 62); err != nil {
		t.Fatalf("unknown room: %v", err)
	}
}

func TestOnlyFailuresCountAgainstHealth(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{core.Errorf("w", core.Unavailable, "timeout"), true},
		{core.Errorf("w", core.Corrupt, "stored other bytes"), true},
		{errors.New("connection reset"), true},
		{core.Errorf("w", core.Unauthorized, "not a writer"), false},
		{core.Errorf("w", core.Invalid, "over quota"), false},
		{core.Errorf("w", core.Conflict, "seq taken"), false},
	} {
		if got := failing(tc.err); got != tc.want {
			t.Errorf("failing(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
