//go:build scale

// The scale measurement of bench/scale.sh (docs/benchmarks.md, "scale"):
// 4 validators in this process, 30 providers as child processes (so each
// one's memory and CPU are its own), one client owning 100, then 1,000
// drives with a batched strategy, and bystanders that own nothing of
// that load: a client with one drive, a provider with no agreement. It
// runs only with -tags scale.
package devnet_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/chainclient"
	"github.com/cairn-storage/cairn/chainnode"
	"github.com/cairn-storage/cairn/checkpoint"
	"github.com/cairn-storage/cairn/core"
	"github.com/cairn-storage/cairn/devnet"
	"github.com/cairn-storage/cairn/drive"
	"github.com/cairn-storage/cairn/providerclient"
	"github.com/cairn-storage/cairn/providers"
)

var (
	scaleBin       = flag.String("cairn", "", "the cairn binary the providers run (bench/scale.sh builds it)")
	scaleDrives    = flag.String("drives", "100,1000", "drive counts to measure at, ascending")
	scaleProviders = flag.Int("providers", 30, "providers under load (one more stays idle)")
	scaleWorkers   = flag.Int("workers", 32, "drives written and checkpointed at once")
	scaleBlock     = flag.Duration("block-time", 200*time.Millisecond, "validators' timeout_commit")
)

// procStat is a process's resident memory and CPU time so far.
type procStat struct {
	rssKiB, hwmKiB int64
	cpu            time.Duration
}

func readProc(pid int) (procStat, error) {
	var s procStat
	m, err := devnet.ReadProcMemory(pid)
	if err != nil {
		return s, err
	}
	s.rssKiB, s.hwmKiB = m.RSS, m.Peak
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command's closing parenthesis: utime is the 12th,
	// stime the 13th (clock ticks of 10 ms).
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.cpu = time.Duration(ut+st) * 10 * time.Millisecond
	return s, nil
}

// scaleNet is the network under measurement.
type scaleNet struct {
	t       *testing.T
	chainID string
	rpc     string // every validator's RPC, comma-separated
	cc      *chainclient.Client
	nodes   []*chainnode.Node
	provs   []scaleProvider // the last one is idle
}

type scaleProvider struct {
	account core.AccountID
	cmd     *exec.Cmd
}

func startValidators(t *testing.T, ctx context.Context, dir string) *scaleNet {
	nc := chainnode.DefaultNodeConfig()
	nc.TimeoutCommit = chainnode.Duration(*scaleBlock)
	homes, err := chainnode.Testnet(4, filepath.Join(dir, "chain"), chainnode.TestnetOptions{
		InitOptions: chainnode.InitOptions{ChainID: "cairn-scale", Node: nc}, FreePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	n := &scaleNet{t: t, chainID: "cairn-scale"}
	var urls []string
	for _, h := range homes {
		node, err := chainnode.Start(chainnode.Config{Home: h})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Stop() })
		n.nodes = append(n.nodes, node)
		urls = append(urls, node.RPCURL())
	}
	for _, node := range n.nodes {
		if err := node.WaitForHeight(ctx, 2); err != nil {
			t.Fatal(err)
		}
	}
	n.rpc = strings.Join(urls, ",")
	if n.cc, err = chainclient.New(n.rpc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cc.Close() })
	return n
}

// startProvider runs `cairn provider run` as a child, registered with free
// open terms, and waits for its ready line.
func (n *scaleNet) startProvider(ctx context.Context, dir string, i int) scaleProvider {
	t := n.t
	data := filepath.Join(dir, fmt.Sprintf("p%02d", i))
	key, err := core.LoadOrCreateKeyFile(filepath.Join(data, "provider.key"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := chainnode.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(*scaleBin, "provider", "run", "--chain", n.rpc, "--data", data,
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "provider ready") {
		t.Fatalf("provider %d: %q %v", i, line, err)
	}
	faucet, _ := core.DevKey("ferdie")
	if _, err := n.cc.Submit(ctx, faucet, wire.Transfer{To: key.Account(), Amount: 20_000_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.cc.Submit(ctx, key, wire.RegisterProvider{Endpoint: fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/http", port),
		Stake: 10_000_000, Capacity: 1 << 40, Terms: wire.ProviderTerms{Accepting: true}}); err != nil {
		t.Fatal(err)
	}
	return scaleProvider{account: key.Account(), cmd: cmd}
}

// client wires a drive client of signer as the CLI does.
func (n *scaleNet) client(signer string, dir string) *drive.Client {
	t := n.t
	key, _ := core.DevKey(signer)
	pool, err := providers.New(n.cc, providers.DefaultConfig(), providers.WithResolver(providerclient.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := checkpoint.New(n.cc, checkpoint.HTTPDialer(key, n.chainID), key, checkpoint.DefaultConfig(),
		checkpoint.WithStateFile(filepath.Join(dir, signer+".state.json")), checkpoint.WithPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	c, err := drive.New(n.cc, pool, drive.HTTPStorageWith(key, n.chainID, nil), mgr, key, drive.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createDrives makes count drives of owner, each on 3 of the loaded
// providers in turn, batched every 10 blocks, straight through the chain
// (the drive client's CreateDrive lists the owner's drives first, which
// is quadratic over 1,000 creations and not what is measured here).
func (n *scaleNet) createDrives(ctx context.Context, owner string, from, count int) []core.DriveID {
	key, _ := core.DevKey(owner)
	loaded := n.provs[:len(n.provs)-1]
	ids := make([]core.DriveID, count)
	n.parallel(count, func(i int) error {
		k := from + i
		ps := []core.AccountID{loaded[k%len(loaded)].account, loaded[(k+1)%len(loaded)].account, loaded[(k+2)%len(loaded)].account}
		res, err := n.cc.Submit(ctx, key, wire.CreateDrive{Name: fmt.Sprintf("%s-%04d", owner, k), Providers: ps, MaxBytes: 1 << 30,
			Duration: 1_000_000, Strategy: wire.CommitStrategy{Kind: wire.StrategyBatched, Interval: 10}})
		if err != nil {
			return err
		}
		for _, ev := range res.Events {
			if ev.Type == wire.EventDriveCreated {
				id, err := core.ParseDriveID(ev.Attributes["drive"])
				ids[i] = id
				return err
			}
		}
		return fmt.Errorf("no drive.created event")
	})
	return ids
}

// parallel runs f(0..count-1) on the workers, failing the test on an error.
func (n *scaleNet) parallel(count int, f func(i int) error) {
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range *scaleWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("item %d: %w", i, err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range count {
		work <- i
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		n.t.Fatalf("%d of %d failed, first: %v", len(errs), count, errs[0])
	}
}

// round writes one 1 KiB file to every drive and checkpoints each (the
// batched interval's checkpoint, every drive's in the same window: the
// peak), returning each checkpoint's latency.
func (n *scaleNet) round(ctx context.Context, c *drive.Client, ids []core.DriveID, r int) []time.Duration {
	lat := make([]time.Duration, len(ids))
	blob := bytes.Repeat([]byte{byte(r)}, 1024)
	n.parallel(len(ids), func(i int) error {
		ref := ids[i].String()
		if _, err := c.UploadFile(ctx, ref, fmt.Sprintf("/round-%d.bin", r), bytes.NewReader(blob), drive.UploadOptions{}); err != nil {
			return err
		}
		start := time.Now()
		res, err := c.CommitChanges(ctx, ref)
		if err == nil {
			err = res.Err()
		}
		lat[i] = time.Since(start)
		return err
	})
	return lat
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}

// TestScale measures at each drive count: the chain's block interval
// under the checkpoint load, checkpoint submission latency, each loaded
// provider's memory and CPU, and the bystanders' (a one-drive client's
// put+checkpoint latency, the idle provider's memory and CPU).
func TestScale(t *testing.T) {
	if *scaleBin == "" {
		t.Fatal("-cairn BINARY is required (bench/scale.sh builds it)")
	}
	var counts []int
	for _, s := range strings.Split(*scaleDrives, ",") {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	dir := t.TempDir()
	began := time.Now()
	n := startValidators(t, ctx, dir)
	for i := range *scaleProviders + 1 {
		n.provs = append(n.provs, n.startProvider(ctx, dir, i))
	}
	t.Logf("%6.1fs: 4 validators, %d providers (+1 idle) registered", time.Since(began).Seconds(), *scaleProviders)
	load := n.client("alice", dir)
	bystander := n.client("bob", dir)
	mine := n.createDrives(ctx, "bob", 0, 1)
	var ids []core.DriveID
	fmt.Printf("| drives | blocks | block interval ms | checkpoint p50 ms | p95 ms | max ms | provider RSS MiB (mean / max) | provider CPU s per round (mean / max) | idle provider RSS MiB / CPU s | bystander put+checkpoint ms |\n")
	fmt.Printf("| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |\n")
	for r, count := range counts {
		ids = append(ids, n.createDrives(ctx, "alice", len(ids), count-len(ids))...)
		t.Logf("%6.1fs: %d drives", time.Since(began).Seconds(), len(ids))
		before := n.procStats()
		h0, err := n.cc.Height(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		lat := n.round(ctx, load, ids, r)
		elapsed := time.Since(start)
		h1, err := n.cc.Height(ctx)
		if err != nil {
			t.Fatal(err)
		}
		after := n.procStats()
		bs := time.Now()
		if got := n.round(ctx, bystander, mine, r); len(got) != 1 {
			t.Fatal("bystander round")
		}
		by := time.Since(bs)
		rssMean, rssMax, cpuMean, cpuMax := loadStats(before, after)
		idle := len(n.provs) - 1
		fmt.Printf("| %d | %d | %.0f | %.0f | %.0f | %.0f | %.1f / %.1f | %.2f / %.2f | %.1f / %.2f | %.0f |\n",
			count, h1-h0, float64(elapsed.Milliseconds())/float64(max(h1-h0, 1)),
			ms(quantile(lat, 0.5)), ms(quantile(lat, 0.95)), ms(quantile(lat, 1)),
			rssMean, rssMax, cpuMean, cpuMax,
			float64(after[idle].rssKiB)/1024, (after[idle].cpu - before[idle].cpu).Seconds(), ms(by))
		t.Logf("%6.1fs: round over %d drives in %v", time.Since(began).Seconds(), count, elapsed)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (n *scaleNet) procStats() []procStat {
	out := make([]procStat, len(n.provs))
	for i, p := range n.provs {
		s, err := readProc(p.cmd.Process.Pid)
		if err != nil {
			n.t.Fatalf("provider %d: %v", i, err)
		}
		out[i] = s
	}
	return out
}

// loadStats summarises the loaded providers (all but the idle last one):
// RSS after the round, CPU spent during it.
func loadStats(before, after []procStat) (rssMean, rssMax, cpuMean, cpuMax float64) {
	k := len(after) - 1
	for i := range k {
		rss := float64(after[i].rssKiB) / 1024
		cpu := (after[i].cpu - before[i].cpu).Seconds()
		rssMean += rss / float64(k)
		cpuMean += cpu / float64(k)
		rssMax, cpuMax = max(rssMax, rss), max(cpuMax, cpu)
	}
	return
}
