package ui

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/providers"
)

func ptr[T any](v T) *T { return &v }

func TestAssess(t *testing.T) {
	open := wire.Challenge{ID: 4, State: wire.ChallengeOpen, LeafIndex: 1, Deadline: 130}
	tests := []struct {
		name    string
		in      RiskInput
		reasons []string
		detail  string // a part of the first reason's detail
		left    *int64 // the challenge's blocks left, if one is expected
	}{
		{name: "healthy and agreeing", in: RiskInput{Health: healthy(), Class: classAgrees, Lag: ptr[int64](0)}},
		{name: "no history is not a risk", in: RiskInput{Class: classNotProbed}},
		{name: "one failure is not yet a risk", in: RiskInput{Health: failing(1), Class: classAgrees}},
		{name: "two failures in a row", in: RiskInput{Health: failing(2), Class: classNoAnswer}, reasons: []string{RiskFailing}, detail: "2 failed request(s) in a row; last error: timeout"},
		{name: "degraded", in: RiskInput{Health: providers.Health{TotalRequests: 10, Successes: 5}}, reasons: []string{RiskFailing}, detail: "degraded"},
		{name: "unreachable", in: RiskInput{Health: failing(5)}, reasons: []string{RiskFailing}, detail: "unreachable: 5 failed request(s)"},
		{name: "behind by lag", in: RiskInput{Health: healthy(), Class: classAgrees, Lag: ptr[int64](3)}, reasons: []string{RiskBehind}, detail: "3 leaves behind"},
		{name: "ahead of the chain is fine", in: RiskInput{Health: healthy(), Class: "ahead", Lag: ptr[int64](-2)}},
		{name: "sync delay", in: RiskInput{Health: healthy(), Class: "sync_delay"}, reasons: []string{RiskBehind}, detail: "consistency proof"},
		{name: "proven divergence", in: RiskInput{Health: healthy(), Class: "data_divergence", Proven: true, Reason: "same leaf count, different root"}, reasons: []string{RiskDiverged}, detail: "proven: same leaf count"},
		{name: "unproven divergence", in: RiskInput{Health: healthy(), Class: "data_divergence", Reason: "no consistency proof available"}, reasons: []string{RiskDiverged}, detail: "not proven"},
		{name: "divergence outranks lag", in: RiskInput{Health: healthy(), Class: "data_divergence", Lag: ptr[int64](2)}, reasons: []string{RiskDiverged}},
		{name: "open challenge", in: RiskInput{Health: healthy(), Challenges: []wire.Challenge{open}, Height: 100}, reasons: []string{RiskChallenged}, detail: "30 blocks left", left: ptr[int64](30)},
		{name: "challenge past its deadline", in: RiskInput{Health: healthy(), Challenges: []wire.Challenge{open}, Height: 131}, reasons: []string{RiskChallenged}, detail: "deadline passed", left: ptr[int64](-1)},
		{name: "answered challenge is no risk", in: RiskInput{Health: healthy(), Challenges: []wire.Challenge{{ID: 1, State: wire.ChallengeAnswered, Deadline: 10}}, Height: 100}},
		{name: "every reason at once, in order", in: RiskInput{Health: failing(5), Class: "data_divergence", Proven: true, Challenges: []wire.Challenge{open}, Height: 100},
			reasons: []string{RiskFailing, RiskDiverged, RiskChallenged}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Assess(tt.in)
			var reasons []string
			for _, r := range got {
				reasons = append(reasons, r.Reason)
			}
			if !reflect.DeepEqual(reasons, tt.reasons) {
				t.Fatalf("reasons = %v, want %v (%+v)", reasons, tt.reasons, got)
			}
			if tt.detail != "" && !strings.Contains(got[0].Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", got[0].Detail, tt.detail)
			}
			if tt.left != nil {
				last := got[len(got)-1]
				if last.BlocksLeft == nil || *last.BlocksLeft != *tt.left {
					t.Errorf("blocks left = %v, want %d", last.BlocksLeft, *tt.left)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, change := range map[string]func(*Config){
		"no clients":      func(c *Config) { c.MaxClients = 0 },
		"no buffer":       func(c *Config) { c.ClientBuffer = 0 },
		"no write limit":  func(c *Config) { c.WriteTimeout = 0 },
		"no refresh time": func(c *Config) { c.RefreshTimeout = -1 },
		"never probe":     func(c *Config) { c.ProbeEvery = 0 },
		"no history":      func(c *Config) { c.History = 0 },
	} {
		c := DefaultConfig()
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
}
