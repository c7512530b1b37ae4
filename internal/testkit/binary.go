package testkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The statussync binary, built once per test process by the first test
// that needs it and removed by RunMain.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// RunMain runs the package's tests and removes the binary Binary built.
// Use it from TestMain: os.Exit(testkit.RunMain(m)).
func RunMain(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	return code
}

// Binary returns the path of the statussync binary built from this
// checkout, without -race: the binary is the thing under test, not the
// test's own code.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "statussync-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "statussync")
		out, err := exec.Command("go", "build", "-o", buildBin, "github.com/statussync/statussync/cmd/statussync").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildBin
}

// Process is one run of the statussync binary.
type Process struct {
	Cmd  *exec.Cmd
	Logs *SyncBuffer // stderr: JSON logs
	Out  *SyncBuffer // stdout
	// Done is closed when the process has exited; Err is Wait's error then.
	Done chan struct{}
	err  error
}

// Start runs the binary with args and environ (nothing of the test's own
// environment is passed on) and kills it at the end of the test. It does
// not wait for anything.
func Start(tb testing.TB, environ []string, args ...string) *Process {
	tb.Helper()
	p := &Process{Logs: &SyncBuffer{}, Out: &SyncBuffer{}, Done: make(chan struct{})}
	p.Cmd = exec.Command(Binary(tb), args...)
	p.Cmd.Env = environ
	p.Cmd.Stderr, p.Cmd.Stdout = p.Logs, p.Out
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.Done)
	}()
	tb.Cleanup(p.Kill)
	return p
}

// Err is the process's exit error, once Done is closed.
func (p *Process) Err() error {
	<-p.Done
	return p.err
}

// Kill sends SIGKILL and waits for the process to be gone: no deferred
// function, no shutdown, nothing flushed.
func (p *Process) Kill() {
	select {
	case <-p.Done:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.Done
}

// Wait waits for the process to exit by itself and returns its exit code;
// after limit it kills the process and fails the test.
func (p *Process) Wait(tb testing.TB, limit time.Duration) int {
	tb.Helper()
	select {
	case <-p.Done:
	case <-time.After(limit):
		p.Kill()
		tb.Fatalf("the binary did not exit within %v\nstderr:\n%s", limit, Tail(p.Logs.String(), 40))
	}
	return p.Cmd.ProcessState.ExitCode()
}

// ListenAddr waits up to limit for the daemon's "listening" log record
// and returns its address.
func (p *Process) ListenAddr(tb testing.TB, limit time.Duration) string {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.Done:
			tb.Fatalf("the binary exited before listening: %v\n%s", p.err, Tail(p.Logs.String(), 40))
		default:
		}
		sc := bufio.NewScanner(strings.NewReader(p.Logs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Address string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				return rec.Address
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the binary did not log \"listening\" within %v\n%s", limit, Tail(p.Logs.String(), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... %d earlier lines", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// StartDaemon runs "statussync run" on cfgPath with debug JSON logs on a
// free loopback port, and waits for it to listen.
func StartDaemon(tb testing.TB, environ []string, cfgPath string) *Process {
	tb.Helper()
	p := Start(tb, environ, "run", "--config.file", cfgPath,
		"--web.listen-address", "127.0.0.1:0", "--log.level", "debug", "--log.format", "json")
	p.ListenAddr(tb, 30*time.Second)
	return p
}
