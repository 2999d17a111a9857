// Package e2e tests Cairn end to end through real processes: TestMain
// builds the cairn binary once, each test starts its own
// `cairn dev --processes` network on free ports, and every step is a cairn
// command run as a child process, checked by its exit status and its
// --json output, the way a user or a script sees it. Perturbations (kill -9,
// SIGSTOP, restart from devnet.json) are applied to the provider processes
// themselves.
//
// The package holds tests only. Run it with
//
//	go test ./test/e2e/
//
// It needs Linux (children die with the test through Pdeathsig, and peak
// memory comes from rusage) and the go command, to build cairn. With
// CAIRN_CI set, a missing prerequisite fails the run instead of skipping it.
package e2e
