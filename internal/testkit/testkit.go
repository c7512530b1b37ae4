// Package testkit holds small helpers that statussync's own tests share:
// a log buffer safe for concurrent writers, local TCP endpoints that are
// up or down, and the statussync binary built once per test process with
// a way to run and kill -9 it (test/faults, test/ha, test/realcachet). The API clients' tests (cachet, cloudns) keep their own, as
// those packages import nothing of ours.
package testkit

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers, for capturing
// logs of a running service.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Listener returns the address of a local TCP port that accepts and closes
// connections (an up target) for the test's lifetime.
func Listener(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	go AcceptAndClose(ln)
	return ln.Addr().String()
}

// AcceptAndClose accepts and closes connections on ln (an up TCP target)
// until ln is closed.
func AcceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// ClosedAddr returns a local address where nothing listens (a down target).
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// Eventually polls cond every 10ms until it holds, failing tb after limit.
func Eventually(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
