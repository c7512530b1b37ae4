package monitors

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/statussync/statussync/config"
)

// tcpMonitor connects to a TCP address as blackbox_exporter's tcp prober:
// optional TLS, then either blackbox's query_response steps or a preset
// dialogue for SMTP, IMAP or POP3 (with STARTTLS).
type tcpMonitor struct {
	cfg    *config.TCPProbe
	logger *slog.Logger
	port   string
}

var _ Monitor = (*tcpMonitor)(nil)

func newTCPMonitor(spec config.MonitorSpec, deps Deps) (Monitor, error) {
	c := spec.TCP
	if c == nil || c.Host() == "" {
		return nil, errors.New("tcp: configuration was not validated")
	}
	_, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	return &tcpMonitor{cfg: c, logger: deps.Logger, port: port}, nil
}

// tcpSession is one check's connection, which STARTTLS replaces.
type tcpSession struct {
	ctx  context.Context
	m    *tcpMonitor
	conn net.Conn
	r    *bufio.Reader
	tp   *textproto.Reader
	d    *details
	f    *failure
	s    *sample
	tls  *tlsInfo
}

func (m *tcpMonitor) Check(ctx context.Context) Result {
	start := time.Now()
	cfg := m.cfg
	s := &sample{}
	var d details
	var f failure
	d.add("address", cfg.Address)

	res, err := resolve(ctx, cfg.Host(), cfg.PreferredIPProtocol, cfg.Fallback())
	recordResolve(s, &d, res, err)
	d.add("phase resolve", res.took)
	if err != nil {
		return m.result(start, s, d, failure{reason: reasonFor(err, time.Now()), what: "resolving the address failed"}, nil, err)
	}
	connectStart := time.Now()
	conn, err := probeDialer.DialContext(ctx, dialNetwork("tcp", res.ip), hostPort(res.ip, m.port))
	d.add("phase connect", time.Since(connectStart))
	if err != nil {
		return m.result(start, s, d, failure{reason: reasonFor(err, time.Now()), what: "connect failed"}, nil, err)
	}
	defer func() { _ = conn.Close() }()
	// Every read and write below ends at the check's deadline or when ctx
	// is cancelled.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	ss := &tcpSession{ctx: ctx, m: m, conn: conn, d: &d, f: &f, s: s}
	ss.setReader()
	s.set("probe_failed_due_to_regex", 0)
	err = nil
	if cfg.TLS {
		err = ss.startTLS()
	}
	if err == nil {
		switch {
		case cfg.Protocol != "":
			err = ss.preset(cfg.Protocol)
		default:
			err = ss.queryResponse()
		}
	}
	return m.result(start, s, d, f, ss.tls, err)
}

func (m *tcpMonitor) result(start time.Time, s *sample, d details, f failure, info *tlsInfo, err error) Result {
	now := time.Now()
	recordTLS(s, &d, info, now)
	r := Result{Status: StatusUp, Latency: time.Since(start), sample: s}
	if f.failed() {
		r.Status, r.Reason = StatusDown, f.reason
		d.add("assertion failed", f.what)
		m.logger.Debug("tcp check failed", "reason", f.reason, "assertion", f.what, "err", err)
	} else if why := certValidity(info, time.Duration(m.cfg.MinCertValidity), now); why != "" {
		r.Status, r.Reason = StatusDegraded, why
		d.add("degraded", why+" (min_cert_validity)")
	}
	if err != nil {
		r.Err = fmt.Errorf("tcp: %w", err)
		d.add("error", err.Error())
	}
	r.Details = d
	return r
}

func (ss *tcpSession) setReader() {
	ss.r = bufio.NewReader(ss.conn)
	ss.tp = textproto.NewReader(ss.r)
}

// fail records the first failure and returns err (or a new error) so the
// caller can stop.
func (ss *tcpSession) fail(reason, what string, err error) error {
	ss.f.fail(reason, what)
	if err == nil {
		err = errors.New(what)
	}
	return err
}

// startTLS runs the TLS handshake on the current connection. Anything the
// server sent before it is discarded with the old reader, so nothing read
// in plaintext can pass as TLS-protected.
func (ss *tcpSession) startTLS() error {
	cfg := tlsClientConfig(&ss.m.cfg.TLSConfig, ss.m.cfg.Host())
	start := time.Now()
	tc, info, err := handshake(ss.ctx, ss.conn, cfg)
	ss.d.add("phase tls", time.Since(start))
	ss.tls = info
	if err != nil {
		return ss.fail(reasonFor(err, time.Now()), "TLS handshake failed", err)
	}
	ss.conn = tc
	ss.setReader()
	return nil
}

// readLine reads one line without its line ending, as bufio.ScanLines: a
// final line without a newline is still a line.
func (ss *tcpSession) readLine() (string, error) {
	line, err := ss.r.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (ss *tcpSession) write(line string) error {
	if _, err := io.WriteString(ss.conn, line); err != nil {
		return ss.fail(reasonFor(err, time.Now()), "sending failed", err)
	}
	return nil
}

// queryResponse runs blackbox's query_response steps: expect reads lines
// until one matches (failing on EOF, with probe_failed_due_to_regex), send
// writes a line with "\n" appended after expanding ${n} from the match,
// starttls upgrades the connection.
func (ss *tcpSession) queryResponse() error {
	for i, qr := range ss.m.cfg.QueryResponse {
		send := qr.Send
		if qr.Expect.IsSet() {
			var (
				line  string
				match []int
				err   error
			)
			for {
				line, err = ss.readLine()
				if err != nil {
					break
				}
				if match = qr.Expect.FindStringSubmatchIndex(line); match != nil {
					break
				}
			}
			if match == nil {
				if err != nil && !errors.Is(err, io.EOF) {
					return ss.fail(reasonFor(err, time.Now()), fmt.Sprintf("query_response[%d]: reading failed while expecting %q", i, qr.Expect.String()), err)
				}
				ss.s.set("probe_failed_due_to_regex", 1)
				return ss.fail("expected response not received", fmt.Sprintf("query_response[%d]: no line matched %q before the connection closed", i, qr.Expect.String()), nil)
			}
			ss.d.add(fmt.Sprintf("step %d matched", i), line)
			send = string(qr.Expect.ExpandString(nil, send, line, match))
		}
		if send != "" {
			if err := ss.write(send + "\n"); err != nil {
				return err
			}
		}
		if qr.StartTLS {
			if err := ss.startTLS(); err != nil {
				return err
			}
		}
	}
	return nil
}

// preset runs a ready-made dialogue.
func (ss *tcpSession) preset(protocol string) error {
	switch protocol {
	case config.ProtocolSMTP, config.ProtocolSMTPStartTLS:
		return ss.smtp(protocol == config.ProtocolSMTPStartTLS)
	case config.ProtocolIMAP, config.ProtocolIMAPStartTLS:
		return ss.imap(protocol == config.ProtocolIMAPStartTLS)
	case config.ProtocolPOP3, config.ProtocolPOP3StartTLS:
		return ss.pop3(protocol == config.ProtocolPOP3StartTLS)
	}
	return ss.fail("invalid configuration", "unknown protocol "+protocol, nil)
}

// smtpReply reads one (possibly multi-line) SMTP reply and checks its code.
func (ss *tcpSession) smtpReply(want int, reason, step string) (string, error) {
	code, msg, err := ss.tp.ReadResponse(want)
	if err == nil {
		return msg, nil
	}
	var te *textproto.Error
	var pe textproto.ProtocolError
	switch {
	case errors.As(err, &te):
		ss.d.add(step+" reply", fmt.Sprintf("%d %s", code, firstLine(msg)))
		return "", ss.fail(reason, fmt.Sprintf("%s: want %d, got %d", step, want, code), err)
	case errors.As(err, &pe):
		return "", ss.fail(reason, step+": not an SMTP reply", err)
	}
	return "", ss.fail(reasonFor(err, time.Now()), step+": reading reply failed", err)
}

// smtp checks the greeting and EHLO; with starttls it also needs STARTTLS
// offered and accepted, the handshake (and so the certificate) valid, and
// EHLO answered again over TLS, as a submission client would.
func (ss *tcpSession) smtp(starttls bool) error {
	msg, err := ss.smtpReply(220, "unexpected SMTP greeting", "greeting")
	if err != nil {
		return err
	}
	ss.d.add("greeting", "220 "+firstLine(msg))
	if err := ss.write("EHLO statussync\r\n"); err != nil {
		return err
	}
	if msg, err = ss.smtpReply(250, "EHLO rejected", "EHLO"); err != nil {
		return err
	}
	if starttls {
		if !hasExtension(msg, "STARTTLS") {
			return ss.fail("STARTTLS not offered", "EHLO reply does not list STARTTLS", nil)
		}
		if err := ss.write("STARTTLS\r\n"); err != nil {
			return err
		}
		if _, err := ss.smtpReply(220, "STARTTLS refused", "STARTTLS"); err != nil {
			return err
		}
		if err := ss.startTLS(); err != nil {
			return err
		}
		if err := ss.write("EHLO statussync\r\n"); err != nil {
			return err
		}
		if _, err := ss.smtpReply(250, "EHLO after STARTTLS rejected", "EHLO over TLS"); err != nil {
			return err
		}
	}
	_ = ss.write("QUIT\r\n")
	return nil
}

// hasExtension reports whether an EHLO reply lists ext (the first line is
// the server's name).
func hasExtension(msg, ext string) bool {
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// imap checks the greeting (* OK or * PREAUTH); with starttls it issues
// STARTTLS and needs a tagged OK and a valid handshake.
func (ss *tcpSession) imap(starttls bool) error {
	line, err := ss.readLine()
	if err != nil {
		return ss.fail(reasonFor(err, time.Now()), "reading IMAP greeting failed", err)
	}
	ss.d.add("greeting", line)
	up := strings.ToUpper(line)
	if !strings.HasPrefix(up, "* OK") && !strings.HasPrefix(up, "* PREAUTH") {
		return ss.fail("unexpected IMAP greeting", "greeting is not * OK", nil)
	}
	tag := "a1"
	if starttls {
		if err := ss.write("a1 STARTTLS\r\n"); err != nil {
			return err
		}
		reply, err := ss.imapTagged("a1")
		if err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToUpper(reply), "A1 OK") {
			ss.d.add("STARTTLS reply", reply)
			return ss.fail("STARTTLS refused", "STARTTLS: no tagged OK", nil)
		}
		if err := ss.startTLS(); err != nil {
			return err
		}
		tag = "a2"
	}
	_ = ss.write(tag + " LOGOUT\r\n")
	return nil
}

// imapTagged reads lines until the tagged reply to tag.
func (ss *tcpSession) imapTagged(tag string) (string, error) {
	for {
		line, err := ss.readLine()
		if err != nil {
			return "", ss.fail(reasonFor(err, time.Now()), "reading IMAP reply failed", err)
		}
		if strings.HasPrefix(strings.ToLower(line), tag+" ") {
			return line, nil
		}
	}
}

// pop3 checks the +OK greeting; with starttls it issues STLS and needs +OK
// and a valid handshake.
func (ss *tcpSession) pop3(starttls bool) error {
	line, err := ss.readLine()
	if err != nil {
		return ss.fail(reasonFor(err, time.Now()), "reading POP3 greeting failed", err)
	}
	ss.d.add("greeting", line)
	if !strings.HasPrefix(line, "+OK") {
		return ss.fail("unexpected POP3 greeting", "greeting is not +OK", nil)
	}
	if starttls {
		if err := ss.write("STLS\r\n"); err != nil {
			return err
		}
		reply, err := ss.readLine()
		if err != nil {
			return ss.fail(reasonFor(err, time.Now()), "reading STLS reply failed", err)
		}
		if !strings.HasPrefix(reply, "+OK") {
			ss.d.add("STLS reply", reply)
			return ss.fail("STARTTLS refused", "STLS: no +OK", nil)
		}
		if err := ss.startTLS(); err != nil {
			return err
		}
	}
	_ = ss.write("QUIT\r\n")
	return nil
}
