package config

import (
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// DNSProbe is the dns monitor kind, modelled on blackbox_exporter's dns
// module.
type DNSProbe struct {
	// Server is the resolver, host or host:port (port 53 by default).
	Server    string `koanf:"server"`
	QueryName string `koanf:"query_name"`
	// QueryType defaults to ANY and QueryClass to IN, as blackbox.
	QueryType  string `koanf:"query_type"`
	QueryClass string `koanf:"query_class"`
	// TransportProtocol is udp (default) or tcp.
	TransportProtocol string `koanf:"transport_protocol"`
	// RecursionDesired sets the RD flag; default true.
	RecursionDesired *bool `koanf:"recursion_desired"`
	// ValidRcodes defaults to NOERROR.
	ValidRcodes []string `koanf:"valid_rcodes"`

	ValidateAnswer     RRValidator `koanf:"validate_answer_rrs"`
	ValidateAuthority  RRValidator `koanf:"validate_authority_rrs"`
	ValidateAdditional RRValidator `koanf:"validate_additional_rrs"`

	// PreferredIPProtocol and IPProtocolFallback choose the server's
	// address family when Server is a name, as in HTTPProbe.
	PreferredIPProtocol string `koanf:"preferred_ip_protocol"`
	IPProtocolFallback  *bool  `koanf:"ip_protocol_fallback"`

	host, port string
	qtype      uint16
	qclass     uint16
	rcodes     []int
}

// RRValidator checks one section of a DNS response, each record in its
// text form (e.g. "example.org.\t300\tIN\tA\t192.0.2.1"), as blackbox.
type RRValidator struct {
	// FailIfMatchesRegexp fails when any record matches any regexp.
	FailIfMatchesRegexp []Regexp `koanf:"fail_if_matches_regexp"`
	// FailIfAllMatchRegexp, despite its name, fails unless every record
	// matches every regexp; no record passes. This is blackbox's behaviour
	// (its PR #552: "pass if all records match"), kept so verdicts agree.
	FailIfAllMatchRegexp []Regexp `koanf:"fail_if_all_match_regexp"`
	// FailIfNotMatchesRegexp fails when any record fails to match any
	// regexp, or there is no record.
	FailIfNotMatchesRegexp []Regexp `koanf:"fail_if_not_matches_regexp"`
	// FailIfNoneMatchesRegexp fails when no record matches any of the
	// regexps, or there is no record.
	FailIfNoneMatchesRegexp []Regexp `koanf:"fail_if_none_matches_regexp"`
}

// Target returns the server's host and port.
func (d *DNSProbe) Target() (host, port string) { return d.host, d.port }

// Type returns the query type parsed at load.
func (d *DNSProbe) Type() uint16 { return d.qtype }

// Class returns the query class parsed at load.
func (d *DNSProbe) Class() uint16 { return d.qclass }

// Rcodes returns the valid response codes parsed at load.
func (d *DNSProbe) Rcodes() []int { return d.rcodes }

// Recursion reports whether to set the RD flag.
func (d *DNSProbe) Recursion() bool { return isTrue(d.RecursionDesired) }

// Fallback reports whether the other IP family may be used.
func (d *DNSProbe) Fallback() bool { return isTrue(d.IPProtocolFallback) }

func (*DNSProbe) kindBlock() {}

func (d *DNSProbe) validate(p *problems, path, object string) {
	if d.Server == "" {
		p.add(path+".server", object, "is required")
	} else if host, port, err := net.SplitHostPort(d.Server); err == nil {
		d.host, d.port = host, port
	} else {
		d.host, d.port = strings.Trim(d.Server, "[]"), "53"
	}
	if d.QueryName == "" {
		p.add(path+".query_name", object, "is required")
	} else if _, ok := dns.IsDomainName(d.QueryName); !ok {
		p.add(path+".query_name", object, "%q is not a domain name", d.QueryName)
	}
	if t, ok := dns.StringToType[d.QueryType]; ok {
		d.qtype = t
	} else {
		p.add(path+".query_type", object, "%q is not a DNS type", d.QueryType)
	}
	if c, ok := dns.StringToClass[d.QueryClass]; ok {
		d.qclass = c
	} else {
		p.add(path+".query_class", object, "%q is not a DNS class", d.QueryClass)
	}
	switch d.TransportProtocol {
	case "udp", "tcp":
	default:
		p.add(path+".transport_protocol", object, "%q must be udp or tcp", d.TransportProtocol)
	}
	d.rcodes = nil
	for i, rc := range d.ValidRcodes {
		code, ok := dns.StringToRcode[strings.ToUpper(rc)]
		if !ok {
			p.add(fmt.Sprintf("%s.valid_rcodes[%d]", path, i), object, "%q is not a DNS response code", rc)
			continue
		}
		d.rcodes = append(d.rcodes, code)
	}
	validateIPProtocol(p, path, object, d.PreferredIPProtocol)
	d.ValidateAnswer.validate(p, path+".validate_answer_rrs", object)
	d.ValidateAuthority.validate(p, path+".validate_authority_rrs", object)
	d.ValidateAdditional.validate(p, path+".validate_additional_rrs", object)
}

func (v *RRValidator) validate(p *problems, path, object string) {
	validateRegexps(p, path+".fail_if_matches_regexp", object, v.FailIfMatchesRegexp)
	validateRegexps(p, path+".fail_if_all_match_regexp", object, v.FailIfAllMatchRegexp)
	validateRegexps(p, path+".fail_if_not_matches_regexp", object, v.FailIfNotMatchesRegexp)
	validateRegexps(p, path+".fail_if_none_matches_regexp", object, v.FailIfNoneMatchesRegexp)
}
