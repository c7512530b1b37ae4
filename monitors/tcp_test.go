package monitors

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConn is the server side of one connection of a fake line-based
// server (SMTP, IMAP, POP3, or a custom query/response protocol).
type fakeConn struct {
	conn net.Conn
	r    *bufio.Reader
	cert tls.Certificate
}

func (c *fakeConn) send(format string, args ...any) {
	_, _ = fmt.Fprintf(c.conn, format+"\r\n", args...)
}

func (c *fakeConn) readLine() (string, bool) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimRight(line, "\r\n"), true
}

// startTLS upgrades the connection; it fails when the client rejects the
// certificate.
func (c *fakeConn) startTLS() bool {
	tc := tls.Server(c.conn, &tls.Config{Certificates: []tls.Certificate{c.cert}})
	if err := tc.Handshake(); err != nil {
		return false
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	return true
}

// lineServer serves script on 127.0.0.1, with TLS from the start when
// implicitTLS. It returns the address and stops (waiting for every
// connection's script) at the end of the test.
func lineServer(tb testing.TB, cert tls.Certificate, implicitTLS bool, script func(c *fakeConn)) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				c := &fakeConn{conn: conn, r: bufio.NewReader(conn), cert: cert}
				if implicitTLS && !c.startTLS() {
					return
				}
				script(c)
			}()
		}
	}()
	return l.Addr().String()
}

// smtpScript is a fake SMTP server: greeting, EHLO (listing STARTTLS when
// offered and not yet in TLS), STARTTLS, QUIT.
func smtpScript(greeting string, offerTLS bool) func(c *fakeConn) {
	return func(c *fakeConn) {
		c.send("%s", greeting)
		inTLS := false
		for {
			line, ok := c.readLine()
			if !ok {
				return
			}
			switch cmd := strings.ToUpper(line); {
			case strings.HasPrefix(cmd, "EHLO "):
				c.send("250-mail.test greets you")
				c.send("250-PIPELINING")
				if offerTLS && !inTLS {
					c.send("250-STARTTLS")
				}
				c.send("250 8BITMIME")
			case cmd == "STARTTLS":
				c.send("220 2.0.0 ready to start TLS")
				if !c.startTLS() {
					return
				}
				inTLS = true
			case cmd == "QUIT":
				c.send("221 2.0.0 bye")
				return
			default:
				c.send("502 5.5.2 unknown command")
			}
		}
	}
}

func imapScript(greeting string) func(c *fakeConn) {
	return func(c *fakeConn) {
		c.send("%s", greeting)
		for {
			line, ok := c.readLine()
			if !ok {
				return
			}
			tag, cmd, _ := strings.Cut(line, " ")
			switch strings.ToUpper(cmd) {
			case "STARTTLS":
				c.send("%s OK begin TLS negotiation now", tag)
				if !c.startTLS() {
					return
				}
			case "LOGOUT":
				c.send("* BYE logging out")
				c.send("%s OK LOGOUT completed", tag)
				return
			default:
				c.send("%s BAD unknown command", tag)
			}
		}
	}
}

func pop3Script(greeting string) func(c *fakeConn) {
	return func(c *fakeConn) {
		c.send("%s", greeting)
		for {
			line, ok := c.readLine()
			if !ok {
				return
			}
			switch strings.ToUpper(line) {
			case "STLS":
				c.send("+OK begin TLS")
				if !c.startTLS() {
					return
				}
			case "QUIT":
				c.send("+OK bye")
				return
			default:
				c.send("-ERR unknown command")
			}
		}
	}
}

// helloScript is a custom protocol for query_response: the server greets
// with a number, wants it echoed, and can switch to TLS.
func helloScript(c *fakeConn) {
	c.send("HELLO 42")
	for {
		line, ok := c.readLine()
		if !ok {
			return
		}
		switch line {
		case "ACK 42":
			c.send("DONE")
		case "STARTTLS":
			c.send("GO AHEAD")
			if !c.startTLS() {
				return
			}
			c.send("SECURE")
		default:
			c.send("WHAT")
		}
	}
}

func TestTCP(t *testing.T) {
	// The cases without a ca_file verify against the system roots, which Go
	// loads on first use; under -race on a busy machine that load alone can
	// outlast the 300ms check timeout below, so load them before the clock
	// of any case starts.
	if _, err := x509.SystemCertPool(); err != nil {
		t.Logf("system roots: %v", err)
	}
	ca := newCA(t)
	now := time.Now()
	valid := ca.leaf(t, localhostFor(now.Add(90*24*time.Hour)))
	expired := ca.leaf(t, localhostFor(now.Add(-24*time.Hour)))
	soon := ca.leaf(t, localhostFor(now.Add(72*time.Hour)))
	caKeys := "\n  tls_config: {ca_file: " + ca.pemFile + "}"
	silent := func(c *fakeConn) { _, _ = c.readLine() } // accepts, never speaks

	tests := []struct {
		name   string
		addr   string
		keys   string
		status Status
		reason string
		// tlsExpiry is the expected probe_ssl_earliest_cert_expiry, or
		// zero when no TLS metrics are expected.
		tlsExpiry time.Time
		regex     float64
	}{
		{name: "connect", addr: lineServer(t, valid, false, silent), status: StatusUp},
		{name: "connection refused", addr: closedPort(t), status: StatusDown, reason: "connection refused"},
		{name: "tls valid", addr: lineServer(t, valid, true, silent), keys: "\n  tls: true" + caKeys, status: StatusUp, tlsExpiry: valid.Leaf.NotAfter},
		{name: "tls expired", addr: lineServer(t, expired, true, silent), keys: "\n  tls: true" + caKeys, status: StatusDown, reason: "certificate expired", tlsExpiry: expired.Leaf.NotAfter},
		{
			name: "tls expiring under min_cert_validity", addr: lineServer(t, soon, true, silent),
			keys: "\n  tls: true\n  min_cert_validity: 7d" + caKeys, status: StatusDegraded, reason: "certificate expires in 2d (under 7d)", tlsExpiry: soon.Leaf.NotAfter,
		},
		{
			name: "query_response with expansion", addr: lineServer(t, valid, false, helloScript),
			keys: "\n  query_response:\n    - expect: '^HELLO (\\d+)$'\n      send: 'ACK ${1}'\n    - expect: '^DONE$'", status: StatusUp,
		},
		{
			name: "query_response mismatch before close", addr: lineServer(t, valid, false, func(c *fakeConn) { c.send("HELLO 42") }),
			keys: "\n  query_response:\n    - expect: '^HELLO 7$'", status: StatusDown, reason: "expected response not received", regex: 1,
		},
		{
			// As blackbox: a server that stays silent is a timeout, not a
			// regexp failure.
			name: "query_response mismatch on open connection", addr: lineServer(t, valid, false, helloScript),
			keys: "\n  query_response:\n    - expect: '^HELLO 7$'", status: StatusDown, reason: "timeout",
		},
		{
			name: "query_response starttls", addr: lineServer(t, valid, false, helloScript),
			keys:   "\n  query_response:\n    - expect: '^HELLO'\n    - send: STARTTLS\n    - expect: '^GO AHEAD'\n    - starttls: true\n    - expect: '^SECURE$'" + caKeys,
			status: StatusUp, tlsExpiry: valid.Leaf.NotAfter,
		},
		{name: "smtp", addr: lineServer(t, valid, false, smtpScript("220 mail.test ESMTP", false)), keys: "\n  protocol: smtp", status: StatusUp},
		{
			name: "smtp multi-line greeting", addr: lineServer(t, valid, false, smtpScript("220-mail.test ESMTP\r\n220 no UCE", false)),
			keys: "\n  protocol: smtp", status: StatusUp,
		},
		{name: "smtp refusing greeting", addr: lineServer(t, valid, false, smtpScript("554 go away", true)), keys: "\n  protocol: smtp", status: StatusDown, reason: "unexpected SMTP greeting"},
		{
			name: "smtp_starttls valid", addr: lineServer(t, valid, false, smtpScript("220 mail.test ESMTP", true)),
			keys: "\n  protocol: smtp_starttls" + caKeys, status: StatusUp, tlsExpiry: valid.Leaf.NotAfter,
		},
		{
			name: "smtp_starttls not offered", addr: lineServer(t, valid, false, smtpScript("220 mail.test ESMTP", false)),
			keys: "\n  protocol: smtp_starttls" + caKeys, status: StatusDown, reason: "STARTTLS not offered",
		},
		{
			name: "smtp_starttls expired certificate", addr: lineServer(t, expired, false, smtpScript("220 mail.test ESMTP", true)),
			keys: "\n  protocol: smtp_starttls" + caKeys, status: StatusDown, reason: "certificate expired", tlsExpiry: expired.Leaf.NotAfter,
		},
		{
			name: "smtp_starttls unknown authority", addr: lineServer(t, valid, false, smtpScript("220 mail.test ESMTP", true)),
			keys: "\n  protocol: smtp_starttls", status: StatusDown, reason: "certificate signed by unknown authority", tlsExpiry: valid.Leaf.NotAfter,
		},
		{
			name: "smtp_starttls under min_cert_validity", addr: lineServer(t, soon, false, smtpScript("220 mail.test ESMTP", true)),
			keys: "\n  protocol: smtp_starttls\n  min_cert_validity: 14d" + caKeys, status: StatusDegraded, reason: "certificate expires in 2d (under 14d)", tlsExpiry: soon.Leaf.NotAfter,
		},
		{name: "smtp silent server", addr: lineServer(t, valid, false, silent), keys: "\n  protocol: smtp", status: StatusDown, reason: "timeout"},
		{name: "imap", addr: lineServer(t, valid, false, imapScript("* OK IMAP4rev1 ready")), keys: "\n  protocol: imap", status: StatusUp},
		{name: "imap bye", addr: lineServer(t, valid, false, imapScript("* BYE too busy")), keys: "\n  protocol: imap", status: StatusDown, reason: "unexpected IMAP greeting"},
		{
			name: "imap_starttls", addr: lineServer(t, valid, false, imapScript("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")),
			keys: "\n  protocol: imap_starttls" + caKeys, status: StatusUp, tlsExpiry: valid.Leaf.NotAfter,
		},
		{
			name: "imaps", addr: lineServer(t, valid, true, imapScript("* OK ready")),
			keys: "\n  protocol: imap\n  tls: true" + caKeys, status: StatusUp, tlsExpiry: valid.Leaf.NotAfter,
		},
		{name: "pop3", addr: lineServer(t, valid, false, pop3Script("+OK POP3 ready")), keys: "\n  protocol: pop3", status: StatusUp},
		{name: "pop3 error greeting", addr: lineServer(t, valid, false, pop3Script("-ERR maintenance")), keys: "\n  protocol: pop3", status: StatusDown, reason: "unexpected POP3 greeting"},
		{
			name: "pop3_starttls", addr: lineServer(t, valid, false, pop3Script("+OK POP3 ready")),
			keys: "\n  protocol: pop3_starttls" + caKeys, status: StatusUp, tlsExpiry: valid.Leaf.NotAfter,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, loadSpec(t, "tcp:\n  address: "+tt.addr+tt.keys), 300*time.Millisecond)
			wantResult(t, r, tt.status, tt.reason)
			if tt.tlsExpiry.IsZero() {
				if hasMetric(r, "probe_ssl_earliest_cert_expiry", "") {
					t.Error("TLS metrics without TLS")
				}
			} else {
				if got := metric(t, r, "probe_ssl_earliest_cert_expiry", ""); got != float64(tt.tlsExpiry.Unix()) {
					t.Errorf("probe_ssl_earliest_cert_expiry = %v, want %v", got, tt.tlsExpiry.Unix())
				}
				if _, ok := detail(r, "cert[0]"); !ok {
					t.Errorf("no certificate detail:\n%s", dumpDetails(r))
				}
			}
			if tt.reason != "connection refused" {
				if got := metric(t, r, "probe_failed_due_to_regex", ""); got != tt.regex {
					t.Errorf("probe_failed_due_to_regex = %v, want %v", got, tt.regex)
				}
			}
		})
	}
}
