package kubetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer echoes lines back on 127.0.0.1 until the test ends.
func echoServer(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

// roundTrip sends a line on c and reads one back within 300ms.
func roundTrip(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ping\n" {
		return errors.New("echoed " + line)
	}
	return nil
}

func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func TestProxy(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	old := dial(t, p.Addr())
	if err := roundTrip(old); err != nil {
		t.Fatalf("forward: %v", err)
	}

	p.Set(Blackhole)
	err := roundTrip(old)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("blackhole, open connection: got %v, want a timeout", err)
	}
	if err := roundTrip(dial(t, p.Addr())); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("blackhole, new connection: got %v, want a timeout", err)
	}

	p.Set(Forward)
	if err := roundTrip(old); err == nil {
		t.Error("a connection that lost data in the blackhole still works")
	}
	fresh := dial(t, p.Addr())
	if err := roundTrip(fresh); err != nil {
		t.Fatalf("forward again: %v", err)
	}

	p.Set(Reset)
	if err := roundTrip(fresh); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("reset, open connection: got %v, want it closed", err)
	}
	if err := roundTrip(dial(t, p.Addr())); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("reset, new connection: got %v, want it closed", err)
	}
}
