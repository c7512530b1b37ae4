//go:build linux

package monitors

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProbeConnectionsHaveNoTCPKeepAlive: the http and tcp checks' own
// connections carry one exchange, so TCP keep-alive could never fire
// within a check, and enabling it costs four system calls per dial. The
// kernel shows it: an established socket with keep-alive on has its
// keep-alive timer armed ("tr" 2 in /proc/net/tcp), seen here from the
// target's side while the check waits for its answer.
func TestProbeConnectionsHaveNoTCPKeepAlive(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	timers := make(chan int, 1)
	record := func(remote net.Addr) { timers <- keepAliveTimer(t, remote.(*net.TCPAddr).Port) }

	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
		if err != nil {
			t.Error(err)
			return
		}
		record(ap)
		_, _ = io.WriteString(w, "ok")
	}))
	defer web.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// Looked at once the client has sent its line, so its dial
			// has returned with the dialer's options set, and while it
			// waits for the answer.
			if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
				record(conn.RemoteAddr())
				_, _ = io.WriteString(conn, "PONG\n")
			}
			_ = conn.Close()
		}
	}()

	// The control: a default dialer turns keep-alive on, and it shows.
	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "PING\n"); err != nil {
		t.Fatal(err)
	}
	if got := <-timers; got != 2 {
		t.Fatalf("a connection with keep-alive on shows timer %d, want 2: the test cannot see keep-alive", got)
	}
	_ = conn.Close()

	for _, tt := range []struct{ name, yaml string }{
		{"http", "http:\n  url: " + web.URL + "/"},
		{"tcp", "tcp:\n  address: " + ln.Addr().String() + "\n  query_response:\n    - send: PING\n    - expect: '^PONG$'"},
	} {
		r := runCheck(t, loadSpec(t, tt.yaml), 5*time.Second)
		if r.Status != StatusUp {
			t.Fatalf("%s check: %s (%v)", tt.name, r.Status, r.Err)
		}
		select {
		case got := <-timers:
			if got == -1 {
				t.Errorf("%s check: its connection was not established when the target looked", tt.name)
			}
			if got == 2 {
				t.Errorf("%s check: its connection has TCP keep-alive on", tt.name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s check: the target saw no connection", tt.name)
		}
	}
}

// keepAliveTimer returns the timer field of /proc/net/tcp ("tr": 0 none,
// 1 retransmit, 2 keep-alive, ...) of the established socket whose local
// port is port, waiting out a retransmit timer; -1 if there is none.
func keepAliveTimer(t *testing.T, port int) int {
	suffix := fmt.Sprintf(":%04X", port)
	for range 100 {
		raw, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Error(err)
			return -1
		}
		tr := -1
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when ...
			f := strings.Fields(line)
			if len(f) < 6 || !strings.HasSuffix(f[1], suffix) || f[3] != "01" {
				continue
			}
			tr, err = strconv.Atoi(strings.SplitN(f[5], ":", 2)[0])
			if err != nil {
				t.Errorf("/proc/net/tcp: %q: %v", line, err)
				return -1
			}
		}
		if tr != 1 {
			return tr
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 1
}
