package devnet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/core"
)

// proc is a provider running as a child process. It dies with its parent
// (Pdeathsig) so a crashed test never leaves providers behind.
type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

func (n *Network) startProcess(ctx context.Context, m *member) (runner, error) {
	args := []string{"provider", "run", "--chain", n.node.RPCURL(), "--listen", m.entry.Listen, "--data", m.entry.DataDir, "--key", m.entry.KeyFile}
	cmd := exec.Command(n.cfg.Binary, args...)
	cmd.Env = append(os.Environ(), n.cfg.ProviderEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logPath := filepath.Join(m.entry.DataDir, "provider.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, core.E("devnet", core.Internal, err)
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, core.E("devnet", core.Internal, err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, core.E("devnet", core.Internal, err)
	}
	m.entry.Command = append([]string{n.cfg.Binary}, args...)
	m.entry.LogFile = logPath
	p := &proc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if strings.HasPrefix(line, "provider ready") {
				for _, f := range strings.Fields(line) {
					if v, ok := strings.CutPrefix(f, "url="); ok {
						select {
						case ready <- v:
						default:
						}
					}
				}
			}
		}
		io.Copy(logf, out)
	}()
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	select {
	case p.url = <-ready:
		return p, nil
	case <-p.done:
		b, _ := os.ReadFile(logPath)
		return nil, core.Errorf("devnet", core.Unavailable, "provider exited before it was ready: %s", tail(string(b), 2000))
	case <-time.After(60 * time.Second):
		p.Kill()
		return nil, core.Errorf("devnet", core.Unavailable, "provider not ready within 60 s (log %s)", logPath)
	case <-ctx.Done():
		p.Kill()
		return nil, core.E("devnet", core.Unavailable, ctx.Err())
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (p *proc) URL() string              { return p.url }
func (p *proc) PID() int                 { return p.cmd.Process.Pid }
func (p *proc) Done() <-chan struct{}    { return p.done }
func (p *proc) Kill() error              { return p.cmd.Process.Kill() }
func (p *proc) Signal(s os.Signal) error { return p.cmd.Process.Signal(s) }

func (p *proc) Stop() error {
	p.cmd.Process.Signal(syscall.SIGCONT) // a stopped process cannot handle SIGTERM
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
	return nil
}
