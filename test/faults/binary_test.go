package faults

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

// buildDir holds the statussync binary, built once for the package by the
// first test that needs it and removed by TestMain.
var (
	buildDir  string
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary returns the path of the statussync binary built from this
// checkout (without -race: the binary is the thing under test, not the
// test's own code).
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "statussync-faults-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "statussync")
		cmd := exec.Command("go", "build", "-o", buildBin, "github.com/statussync/statussync/cmd/statussync")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildBin
}

// child is one run of the statussync binary.
type child struct {
	cmd  *exec.Cmd
	logs *syncBuffer // stderr: JSON logs
	out  *syncBuffer // stdout
	done chan struct{}
	err  error // Wait's error, once done is closed
}

// startChild runs the binary with args and environ (nothing of the test's
// own environment is passed on). It does not wait for anything.
func startChild(tb testing.TB, environ []string, args ...string) *child {
	tb.Helper()
	c := &child{logs: &syncBuffer{}, out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(binary(tb), args...)
	c.cmd.Env = environ
	c.cmd.Stderr, c.cmd.Stdout = c.logs, c.out
	if err := c.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	tb.Cleanup(c.kill)
	return c
}

// listenAddr waits for the daemon's "listening" log record and returns its
// address.
func (c *child) listenAddr(tb testing.TB, limit time.Duration) string {
	tb.Helper()
	var addr string
	eventually(tb, limit, "the binary to listen", func() bool {
		select {
		case <-c.done:
			tb.Fatalf("the binary exited before listening: %v\n%s", c.err, tail(c.logs.String(), 40))
		default:
		}
		sc := bufio.NewScanner(strings.NewReader(c.logs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Address string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr = rec.Address
				return true
			}
		}
		return false
	})
	return addr
}

// kill sends SIGKILL and waits for the process to be gone: no deferred
// function, no shutdown, nothing flushed.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// wait waits for the process to exit by itself and returns its exit code.
func (c *child) wait(tb testing.TB, limit time.Duration) int {
	tb.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		c.kill()
		tb.Fatalf("the binary did not exit within %v\nstderr:\n%s", limit, tail(c.logs.String(), 40))
	}
	return c.cmd.ProcessState.ExitCode()
}
