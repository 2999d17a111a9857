// Package e2e tests Cairn end to end through real processes: TestMain
// builds the cairn binary once, each test starts its own
// `cairn dev --processes` network on free ports, and every step is a cairn
// command run as a child process, checked by its exit status and its
// --json output, the way a user or a script sees it.
//
// TestFaultMatrix (faults_test.go) is the fault matrix: one table, each row
// a fault applied to the real processes (kill -9, SIGSTOP, SIGSTOP/SIGCONT
// cycling, restart from devnet.json, a rotten store, a proxy forging
// signatures, raw writes that put a provider ahead or make it diverge, a
// client killed mid-upload, every provider down, the chain stopped) with
// the exit statuses, chain state and quorum place it must produce, and the
// same checks after healing: every provider converges and every file ever
// acknowledged reads back intact. The unit-test depth of the same faults
// is internal/faultnet, a seeded http.RoundTripper.
//
// The package holds tests only. Run it with
//
//	go test ./test/e2e/
//
// It needs Linux (children die with the test through Pdeathsig, and peak
// memory comes from rusage) and the go command, to build cairn. With
// CAIRN_CI set, a missing prerequisite fails the run instead of skipping it.
package e2e
