package drive_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: no upload's
// workers and their writes in flight, no download's fetches, whatever way
// the operation ended. CometBFT's own leftovers are ignored as
// checkpoint's TestMain explains; idle client connections are closed
// first.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		http.DefaultClient.CloseIdleConnections()
		ignore := []goleak.Option{
			goleak.IgnoreTopFunction("github.com/cometbft/cometbft/proxy.(*multiAppConn).killTMOnClientError"),
			goleak.IgnoreTopFunction("github.com/cometbft/cometbft/libs/autofile.OpenAutoFile.func1"),
			goleak.IgnoreTopFunction("github.com/cometbft/cometbft/libs/autofile.(*AutoFile).closeFileRoutine"),
		}
		err := goleak.Find(ignore...)
		for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond) // goleveldb's pool drains 1 s after its DB closes
			err = goleak.Find(ignore...)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
