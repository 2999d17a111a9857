package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet/devnettest"
	"github.com/cairn-storage/cairn/drive"
)

// TestParallelWriters runs several uploads to one drive at once, from
// goroutines of one client and from two clients that share a client home
// (a state file and a lock directory: two processes of one machine, as a
// gateway and a `cairn put` are): every upload succeeds, every file reads
// back, and one commit checkpoints them all.
func TestParallelWriters(t *testing.T) {
	n := startNet(t)
	tests := []struct {
		name    string
		clients int
		each    int // uploads per client, all at once
	}{
		{"goroutines of one client", 1, 6},
		{"two clients sharing a home", 2, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			var cs []*drive.Client
			for range tc.clients {
				c, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{StateFile: filepath.Join(home, "state.json"),
					Config: func(c *drive.Config) { c.LockDir = filepath.Join(home, "locks") }})
				cs = append(cs, c)
			}
			name := fmt.Sprintf("par%d", i)
			d, err := cs[0].CreateDrive(t.Context(), drive.CreateDriveOptions{Name: name, Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}})
			if err != nil {
				t.Fatal(err)
			}
			files := uploadAtOnce(t, cs, name, tc.each)
			for p, want := range files {
				for _, c := range cs {
					if got := download(t, c, name, p); !bytes.Equal(got, want) {
						t.Errorf("%s read back %d bytes, differing from the %d uploaded", p, len(got), len(want))
					}
				}
			}
			res, err := cs[len(cs)-1].CommitChanges(t.Context(), name)
			if err != nil || res.Err() != nil {
				t.Fatalf("commit: %v %v", err, res.Err())
			}
			// A client with a fresh home sees only the chain's root: the
			// one commit must name every file.
			fresh, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
			if root := chainRoot(t, n, d.ID); root == "" || root != res.DriveRoot {
				t.Fatalf("root on chain %q after a commit that carried %q", root, res.DriveRoot)
			}
			for p, want := range files {
				if got := download(t, fresh, name, p); !bytes.Equal(got, want) {
					t.Errorf("after the commit, %s read back from the chain's root differs", p)
				}
			}
		})
	}
}

// uploadAtOnce starts each uploads on every client at the same moment and
// fails the test unless all of them succeed; it returns path -> content.
func uploadAtOnce(t *testing.T, cs []*drive.Client, name string, each int) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	type job struct {
		c    *drive.Client
		path string
		data []byte
	}
	var jobs []job
	for ci, c := range cs {
		for j := range each {
			p := fmt.Sprintf("/dir%d/file%d.bin", j%2, ci*each+j)
			data := randomBytes(uint64(100+ci*each+j), 150_000+j*40_000) // several chunks each
			files[p] = data
			jobs = append(jobs, job{c, p, data})
		}
	}
	start := make(chan struct{})
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = j.c.UploadFile(context.Background(), name, j.path, bytes.NewReader(j.data), drive.UploadOptions{})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("upload %s: %v", jobs[i].path, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return files
}

// TestWriterOnAnotherMachineLosesWithConflict: two clients that share
// nothing (two machines) write one drive. The one whose cached next seq
// the other has meanwhile taken fails with kind conflict, not no_quorum,
// and nothing it wrote is named by a root.
func TestWriterOnAnotherMachineLosesWithConflict(t *testing.T) {
	n := startNet(t)
	ctx := t.Context()
	a, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	b, _ := devnettest.DriveClient(t, n, devnettest.ClientOptions{})
	if _, err := a.CreateDrive(ctx, drive.CreateDriveOptions{Name: "race", Strategy: wire.CommitStrategy{Kind: wire.StrategyManual}}); err != nil {
		t.Fatal(err)
	}
	put := func(c *drive.Client, p string) error {
		_, err := c.UploadFile(ctx, "race", p, bytes.NewReader(randomBytes(uint64(len(p))+uint64(p[1]), 1000)), drive.UploadOptions{})
		return err
	}
	if err := put(a, "/a1"); err != nil { // a caches the next seq
		t.Fatal(err)
	}
	if err := put(b, "/b1"); err != nil { // b asks the providers: it writes there
		t.Fatal(err)
	}
	err := put(a, "/a2") // a writes at its cached seq, which b took
	if core.KindOf(err) != core.Conflict {
		t.Fatalf("the writer that lost the race: %v (kind %s), want kind conflict", err, core.KindOf(err))
	}
	// The loser forgot its seq: its next write asks the providers again
	// and succeeds.
	if err := put(a, "/a3"); err != nil {
		t.Fatalf("a write after the lost race: %v", err)
	}
}
