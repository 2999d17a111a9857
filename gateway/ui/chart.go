package ui

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 720, 220
	padL, padR, padT, padB = 64, 40, 28, 36
	maxBar                 = 24.0
)

// serveChart draws the drive's checkpoints as an SVG: time to quorum (ms,
// left axis, a line through the checkpoints this process submitted) and
// agreeing providers (signers, right axis, bars), oldest on the left.
func (s *Server) serveChart(w http.ResponseWriter, r *http.Request) {
	d, ok := s.drive(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(Chart(d.Checkpoints))
}

// Chart draws checkpoints (newest first, as in DriveView) as an SVG plot.
// It writes only numbers it computed and fixed text, never a string from
// the chain.
func Chart(cps []CheckpointView) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11">`, chartW, chartH, chartW, chartH)
	b.WriteString(`<rect width="100%" height="100%" fill="#fff"/>`)
	n := len(cps)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#666">no checkpoints yet</text></svg>`, chartW/2, chartH/2)
		return b.Bytes()
	}
	maxMS, maxSigners, timed := 0.0, 1, false
	for _, c := range cps {
		if c.QuorumMS != nil {
			maxMS, timed = math.Max(maxMS, *c.QuorumMS), true
		}
		maxSigners = max(maxSigners, len(c.Signers))
	}
	maxMS = niceCeil(maxMS)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	step := plotW / float64(n)
	x := func(i int) float64 { return padL + step*(float64(i)+0.5) } // i counts from the oldest
	yMS := func(v float64) float64 { return padT + plotH*(1-v/maxMS) }
	ySig := func(v int) float64 { return padT + plotH*(1-float64(v)/float64(maxSigners)) }
	axes(&b, maxMS, maxSigners, plotW, plotH, timed)
	bar := math.Min(step*0.6, maxBar)
	for i := range n {
		c := cps[n-1-i]
		top := ySig(len(c.Signers))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#9ecae1"/>`, x(i)-bar/2, top, bar, padT+plotH-top)
	}
	var pts bytes.Buffer
	for i := range n {
		if c := cps[n-1-i]; c.QuorumMS != nil {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), yMS(*c.QuorumMS))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#d94801"/>`, x(i), yMS(*c.QuorumMS))
		}
	}
	if pts.Len() > 0 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#d94801" stroke-width="1.5"/>`, bytes.TrimSpace(pts.Bytes()))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#666">height %d</text>`, padL, chartH-6, cps[n-1].Height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#666">height %d</text>`, chartW-padR, chartH-6, cps[0].Height)
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// axes draws the frame, the left (ms) and right (signers) scales and the
// legend. Without a measured time to quorum the left scale is left out.
func axes(b *bytes.Buffer, maxMS float64, maxSigners int, plotW, plotH float64, timed bool) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`, padL, padT, plotW, plotH)
	for _, f := range []float64{0, 0.5, 1} {
		y := padT + plotH*(1-f)
		if timed {
			fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#d94801">%.4g ms</text>`, padL-4, y+4, maxMS*f)
		}
		fmt.Fprintf(b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, padL, padL+plotW, y, y)
	}
	for _, v := range signerTicks(maxSigners) {
		y := padT + plotH*(1-float64(v)/float64(maxSigners))
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" fill="#3182bd">%d</text>`, padL+plotW+4, y+4, v)
	}
	legend := "— time to quorum (ms)"
	if !timed {
		legend = "time to quorum: not measured (no checkpoint shown was submitted by this process)"
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" fill="#3182bd">▮ agreeing providers (signers)</text>`, padL, padT-10)
	fmt.Fprintf(b, `<text x="%d" y="%d" fill="#d94801">%s</text>`, padL+190, padT-10, legend)
}

// signerTicks are the labels of the signers' axis: every count up to 10,
// else 0, the middle and the top.
func signerTicks(top int) []int {
	if top <= 10 {
		out := make([]int, 0, top+1)
		for v := 0; v <= top; v++ {
			out = append(out, v)
		}
		return out
	}
	return []int{0, top / 2, top}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
