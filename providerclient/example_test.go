package providerclient_test

import (
	"fmt"

	"github.com/cairn-storage/cairn/providerclient"
)

// A provider registers its endpoint on chain as a URL or a multiaddr;
// BaseURL turns either into the base URL of its HTTP API.
func ExampleBaseURL() {
	for _, e := range []string{
		"/ip4/127.0.0.1/tcp/7070/http",
		"/dns4/provider.example/tcp/443/tls/http",
		"https://provider.example/cairn/",
	} {
		u, err := providerclient.BaseURL(e)
		fmt.Println(u, err)
	}
	// Output:
	// http://127.0.0.1:7070 <nil>
	// https://provider.example:443 <nil>
	// https://provider.example/cairn <nil>
}
