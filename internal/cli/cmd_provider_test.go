package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainnode/chaintest"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/provider"
)

// TestProviderAndRawCommands runs `cairn provider run` in process against a
// real chain, registers it with `cairn provider register`, writes to it with
// `cairn raw write` and reads `cairn raw commitment`, checking output and
// exit statuses.
func TestProviderAndRawCommands(t *testing.T) {
	n := chaintest.Start(t)
	cc := chaintest.Client(t, n)
	chainURL := n.RPCURL()
	dir := t.TempDir()
	charlie, _ := core.DevKey("charlie") // a funded account, so it can stake
	keyFile := filepath.Join(dir, "charlie.key")
	if err := core.WriteKeyFile(keyFile, charlie); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	readyc := make(chan ProviderReady, 1)
	done := make(chan error, 1)
	go func() {
		g := &Globals{Chain: chainURL, Stdout: io.Discard, Stderr: io.Discard}
		done <- runProvider(runCtx, g, ProviderRunOptions{Listen: "127.0.0.1:0", Data: filepath.Join(dir, "data"), Key: keyFile, LogLevel: "error", Config: provider.DefaultConfig()},
			func(r ProviderReady) { readyc <- r })
	}()
	var ready ProviderReady
	select {
	case ready = <-readyc:
	case err := <-done:
		t.Fatalf("provider run ended before ready: %v", err)
	}
	if ready.Account != charlie.Account() {
		t.Fatalf("ready %+v", ready)
	}

	cairn := func(want int, args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(append([]string{"--chain", chainURL, "--json"}, args...), nil, &out, &errOut); code != want {
			t.Fatalf("cairn %v: exit %d, want %d\n%s%s", args, code, want, out.String(), errOut.String())
		}
		return out.Bytes()
	}
	var reg ProviderRegistered
	json.Unmarshal(cairn(0, "--signer", keyFile, "provider", "register", "--endpoint", ready.URL), &reg)
	if reg.Account != charlie.Account() || reg.Endpoint != ready.URL || reg.Height == 0 {
		t.Fatalf("register %+v", reg)
	}

	alice, _ := core.DevKey("alice")
	bob, _ := core.DevKey("bob")
	res, err := cc.Submit(ctx, alice, chainwire.CreateBucket{Quorum: 1, MinProviders: 1, Members: []chainwire.Member{{Account: bob.Account(), Role: chainwire.Writer}}})
	if err != nil {
		t.Fatal(err)
	}
	var bucket string
	for _, e := range res.Events {
		if e.Type == chainwire.EventBucketCreated {
			bucket = e.Attributes["bucket"]
		}
	}
	b, _ := core.ParseBucketID(bucket)
	if _, err := cc.Submit(ctx, alice, chainwire.CreateAgreement{Bucket: b, Provider: charlie.Account(), Role: chainwire.Primary, MaxBytes: 1 << 20, Duration: 1000}); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(dir, "hello.txt")
	os.WriteFile(file, []byte("hello, cairn\n"), 0o600)
	for seq := range uint64(2) {
		var w RawWritten
		json.Unmarshal(cairn(0, "--signer", "bob", "raw", "write", "--provider", ready.URL, "--bucket", bucket, file), &w)
		if w.Result.Leaf.Seq != seq || w.Result.Leaf.ContentHash != core.Sum256([]byte("hello, cairn\n")) || w.Result.LeafCount != seq+1 {
			t.Fatalf("raw write %d: %+v", seq, w)
		}
	}
	cairn(ExitConflict, "--signer", "bob", "raw", "write", "--provider", ready.URL, "--bucket", bucket, "--seq", "9", file)
	cairn(ExitUnauthorized, "--signer", "eve", "raw", "write", "--provider", ready.URL, "--bucket", bucket, file)
	cairn(ExitNotFound, "--signer", "bob", "raw", "write", "--provider", ready.URL, "--bucket", bucket, filepath.Join(dir, "absent"))
	cairn(ExitUsage, "raw", "write", "--bucket", bucket, file)

	var c RawCommitment
	json.Unmarshal(cairn(0, "raw", "commitment", "--provider", ready.URL, "--bucket", bucket), &c)
	if !c.Valid || c.Commitment.LeafCount != 2 || c.Commitment.Provider != charlie.Account() || c.Commitment.VerifyBy(charlie.Account()) != nil {
		t.Fatalf("raw commitment %+v", c)
	}
	cairn(ExitNotFound, "raw", "commitment", "--provider", ready.URL, "--bucket", "999")

	stop()
	if err := <-done; err != nil {
		t.Fatalf("provider run: %v", err)
	}
}
