package config

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
)

// TCP protocol presets: ready-made dialogues that check a mail server the
// way a client would, STARTTLS and certificate included.
const (
	ProtocolSMTP         = "smtp"
	ProtocolSMTPStartTLS = "smtp_starttls"
	ProtocolIMAP         = "imap"
	ProtocolIMAPStartTLS = "imap_starttls"
	ProtocolPOP3         = "pop3"
	ProtocolPOP3StartTLS = "pop3_starttls"
)

var tcpProtocols = []string{ProtocolSMTP, ProtocolSMTPStartTLS, ProtocolIMAP, ProtocolIMAPStartTLS, ProtocolPOP3, ProtocolPOP3StartTLS}

// TCPProbe is the tcp monitor kind, modelled on blackbox_exporter's tcp
// module.
type TCPProbe struct {
	// Address is host:port.
	Address string `koanf:"address"`
	// PreferredIPProtocol and IPProtocolFallback are as in HTTPProbe.
	PreferredIPProtocol string `koanf:"preferred_ip_protocol"`
	IPProtocolFallback  *bool  `koanf:"ip_protocol_fallback"`
	// TLS starts TLS right after connecting (e.g. port 465, 993, 995).
	TLS       bool      `koanf:"tls"`
	TLSConfig TLSConfig `koanf:"tls_config"`
	// Protocol is a preset dialogue (smtp, smtp_starttls, imap,
	// imap_starttls, pop3, pop3_starttls); it excludes QueryResponse.
	Protocol string `koanf:"protocol"`
	// QueryResponse is blackbox's query_response: steps run in order.
	QueryResponse []QueryResponse `koanf:"query_response"`
	// MinCertValidity is as in HTTPProbe; it needs TLS or STARTTLS.
	MinCertValidity model.Duration `koanf:"min_cert_validity"`

	host string
}

// QueryResponse is one step of a TCP dialogue. Expect reads lines until one
// matches; Send writes a line (with "\n" appended, as blackbox; write "\r"
// at its end for CRLF protocols) and may use ${1} for Expect's groups;
// StartTLS upgrades the connection to TLS.
type QueryResponse struct {
	Expect   Regexp `koanf:"expect"`
	Send     string `koanf:"send"`
	StartTLS bool   `koanf:"starttls"`
}

// Host returns the host part of Address, the default TLS server name.
func (t *TCPProbe) Host() string { return t.host }

// Fallback reports whether the other IP family may be used.
func (t *TCPProbe) Fallback() bool { return isTrue(t.IPProtocolFallback) }

// UsesTLS reports whether the probe will do a TLS handshake.
func (t *TCPProbe) UsesTLS() bool {
	return t.TLS || strings.HasSuffix(t.Protocol, "_starttls") ||
		slices.ContainsFunc(t.QueryResponse, func(q QueryResponse) bool { return q.StartTLS })
}

func (*TCPProbe) kindBlock() {}

func (t *TCPProbe) validate(p *problems, path, object string) {
	if t.Address == "" {
		p.add(path+".address", object, "is required")
	} else if host, port, err := net.SplitHostPort(t.Address); err != nil {
		p.add(path+".address", object, "%q must be host:port: %v", t.Address, err)
	} else if port == "" {
		p.add(path+".address", object, "%q has no port", t.Address)
	} else {
		t.host = host
	}
	validateIPProtocol(p, path, object, t.PreferredIPProtocol)
	if t.Protocol != "" {
		if !slices.Contains(tcpProtocols, t.Protocol) {
			p.add(path+".protocol", object, "%q must be one of %s", t.Protocol, strings.Join(tcpProtocols, ", "))
		}
		if len(t.QueryResponse) > 0 {
			p.add(path+".query_response", object, "set protocol or query_response, not both")
		}
		if t.TLS && strings.HasSuffix(t.Protocol, "_starttls") {
			p.add(path+".tls", object, "protocol %s starts TLS itself; drop tls: true", t.Protocol)
		}
	}
	for i, qr := range t.QueryResponse {
		at := fmt.Sprintf("%s.query_response[%d]", path, i)
		if !qr.Expect.IsSet() && qr.Send == "" && !qr.StartTLS {
			p.add(at, object, "needs expect, send or starttls")
		}
		validateRegexp(p, at+".expect", object, qr.Expect)
		if qr.StartTLS && t.TLS {
			p.add(at+".starttls", object, "the connection is already TLS (tls: true)")
		}
	}
	if err := t.TLSConfig.compile(); err != nil {
		p.add(path+".tls_config", object, "%v", err)
	}
	validateMinCertValidity(p, path, object, t.MinCertValidity, t.UsesTLS())
}
