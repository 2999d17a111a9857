package providers

// Required is the number of agreeing providers a checkpoint needs:
// ceil(total × percent / 100), and never less than 1 when there is any
// provider. Unreachable providers count in total, so an outage cannot
// lower the bar. With the default 51 %: 1→1, 2→2, 3→2, 4→3, 5→3.
func Required(total, percent int) int {
	if total <= 0 {
		return 0
	}
	if percent <= 0 {
		percent = 1
	}
	if percent > 100 {
		percent = 100
	}
	r := (total*percent + 99) / 100
	if r < 1 {
		r = 1
	}
	return r
}

// Threshold is the number of agreeing providers a checkpoint of a bucket
// needs: the larger of the client's rule, Required(total, percent), and the
// bucket's on-chain quorum (the chain refuses a checkpoint with fewer
// distinct signers, so asking for less would only produce transactions it
// refuses). An on-chain quorum above total is kept as it is: such a bucket
// cannot be checkpointed until it has more primaries, and saying so beats
// pretending.
func Threshold(total, percent int, bucketQuorum uint32) int {
	r := Required(total, percent)
	if total > 0 && int64(bucketQuorum) > int64(r) {
		r = int(min(bucketQuorum, 1<<30))
	}
	return r
}
