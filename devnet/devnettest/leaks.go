package devnettest

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Main runs a package's tests and then fails the run if a goroutine
// outlives them (a collector, loop, upload worker, download fetch, event
// stream, probe, server...). Call it from TestMain.
//
// CometBFT v0.38 leaks three goroutines per node even after a clean
// Node.Stop, and they are ignored by top function, nothing else:
// Node.OnStop never stops its ABCI connections (proxyApp), so
// multiAppConn.killTMOnClientError waits forever; and the consensus WAL's
// Group.Close closes the head file but not its AutoFile, whose SIGHUP
// listener and close ticker stay. goleveldb's mpoolDrain returns 1 s after
// its DB closes, longer than goleak retries, so the check polls for up to
// 5 s instead of ignoring it. Idle client connections are closed first.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		http.DefaultClient.CloseIdleConnections()
		if err := findLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func findLeaks() error {
	ignore := []goleak.Option{
		goleak.IgnoreTopFunction("github.com/cometbft/cometbft/proxy.(*multiAppConn).killTMOnClientError"),
		goleak.IgnoreTopFunction("github.com/cometbft/cometbft/libs/autofile.OpenAutoFile.func1"),
		goleak.IgnoreTopFunction("github.com/cometbft/cometbft/libs/autofile.(*AutoFile).closeFileRoutine"),
	}
	err := goleak.Find(ignore...)
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // a poll of goroutine state, not a wait for an event
		err = goleak.Find(ignore...)
	}
	return err
}
