package ui

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestChart(t *testing.T) {
	ms := 120.0
	many := make([]string, 40)
	tests := []struct {
		name       string
		cps        []CheckpointView
		has, lacks []string
	}{
		{name: "empty", has: []string{"no checkpoints yet"}, lacks: []string{"<rect x"}},
		{name: "untimed", cps: []CheckpointView{{Height: 5, Signers: []string{"a", "b"}}},
			has: []string{"not measured", `fill="#9ecae1"`}, lacks: []string{"<polyline", " ms</text>"}},
		{name: "timed", cps: []CheckpointView{{Height: 9, Signers: []string{"a"}, QuorumMS: &ms}, {Height: 5, Signers: []string{"a", "b"}}},
			has: []string{"<polyline", "200 ms</text>", "height 5", "height 9"}, lacks: []string{"not measured"}},
		{name: "many signers keep three labels", cps: []CheckpointView{{Height: 5, Signers: many}},
			has: []string{">40</text>", ">20</text>"}, lacks: []string{">7</text>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := Chart(tt.cps)
			if err := xml.Unmarshal(svg, new(struct{ XMLName xml.Name })); err != nil {
				t.Fatalf("not XML: %v\n%s", err, svg)
			}
			for _, h := range tt.has {
				if !strings.Contains(string(svg), h) {
					t.Errorf("chart lacks %q", h)
				}
			}
			for _, l := range tt.lacks {
				if strings.Contains(string(svg), l) {
					t.Errorf("chart has %q", l)
				}
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.2: 2, 3: 5, 7: 10, 120: 200, 999: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%g) = %g, want %g", in, got, want)
		}
	}
}
