package monitors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/statussync/statussync/config"
)

// dnsMonitor sends one DNS query to a resolver and validates the response
// as blackbox_exporter's dns prober: response code, then regexps over the
// answer, authority and additional sections.
type dnsMonitor struct {
	cfg    *config.DNSProbe
	logger *slog.Logger
}

var _ Monitor = (*dnsMonitor)(nil)

// maxRRDetails bounds how many records of each section Details lists.
const maxRRDetails = 20

func newDNSMonitor(spec config.MonitorSpec, deps Deps) (Monitor, error) {
	c := spec.DNS
	if c == nil || c.Type() == 0 {
		return nil, errors.New("dns: configuration was not validated")
	}
	return &dnsMonitor{cfg: c, logger: deps.Logger}, nil
}

func (m *dnsMonitor) Check(ctx context.Context) Result {
	start := time.Now()
	cfg := m.cfg
	s := &sample{}
	var d details
	var f failure
	host, port := cfg.Target()
	d.add("server", net.JoinHostPort(host, port)+" ("+cfg.TransportProtocol+")")
	d.add("query", fmt.Sprintf("%s %s %s", dns.Fqdn(cfg.QueryName), cfg.QueryClass, cfg.QueryType))
	for _, phase := range []string{"resolve", "connect", "request"} {
		s.setLabel("probe_dns_duration_seconds", phase, 0)
	}
	for _, name := range []string{"probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs", "probe_dns_query_succeeded"} {
		s.set(name, 0)
	}

	res, err := resolve(ctx, host, cfg.PreferredIPProtocol, cfg.Fallback())
	recordResolve(s, &d, res, err)
	s.setLabel("probe_dns_duration_seconds", "resolve", res.took.Seconds())
	d.add("phase resolve", res.took)
	if err != nil {
		f.fail(reasonFor(err, time.Now()), "resolving the server failed")
		return m.result(start, s, d, f, err)
	}

	client := &dns.Client{Net: dialNetwork(cfg.TransportProtocol, res.ip)}
	if dl, ok := ctx.Deadline(); ok {
		client.Timeout = time.Until(dl)
	}
	msg := new(dns.Msg)
	msg.Id = dns.Id()
	msg.RecursionDesired = cfg.Recursion()
	msg.Question = []dns.Question{{Name: dns.Fqdn(cfg.QueryName), Qtype: cfg.Type(), Qclass: cfg.Class()}}
	reqStart := time.Now()
	server := net.JoinHostPort(res.ip.String(), port)
	resp, rtt, err := client.ExchangeContext(ctx, msg, server)
	if err == nil && resp.Truncated && cfg.TransportProtocol == "udp" {
		// The answer did not fit in a datagram: ask again over TCP, as a
		// resolver would (RFC 7766). Blackbox validates the truncated
		// answer; that can fail a check whose full answer is fine. If the
		// retry fails, the truncated answer stands.
		client.Net = dialNetwork("tcp", res.ip)
		full, tcpRTT, tcpErr := client.ExchangeContext(ctx, msg, server)
		if tcpErr == nil {
			resp, rtt = full, rtt+tcpRTT
			d.add("truncated", "UDP answer truncated (TC); retried over TCP")
		} else {
			d.add("truncated", "UDP answer truncated (TC); TCP retry failed: "+tcpErr.Error())
		}
	}
	// rtt covers the exchange after the connection is made; the rest is
	// blackbox's connect phase.
	s.setLabel("probe_dns_duration_seconds", "connect", (time.Since(reqStart) - rtt).Seconds())
	s.setLabel("probe_dns_duration_seconds", "request", rtt.Seconds())
	d.add("phase connect", time.Since(reqStart)-rtt)
	d.add("phase request", rtt)
	if err != nil {
		f.fail(reasonFor(err, time.Now()), "query failed")
		return m.result(start, s, d, f, err)
	}
	s.set("probe_dns_answer_rrs", float64(len(resp.Answer)))
	s.set("probe_dns_authority_rrs", float64(len(resp.Ns)))
	s.set("probe_dns_additional_rrs", float64(len(resp.Extra)))
	s.set("probe_dns_query_succeeded", 1)
	if cfg.Type() == dns.TypeSOA {
		for _, rr := range resp.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				s.set("probe_dns_serial", float64(soa.Serial))
			}
		}
	}
	rcode := dns.RcodeToString[resp.Rcode]
	d.add("rcode", rcode)
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"answer", resp.Answer}, {"authority", resp.Ns}, {"additional", resp.Extra}} {
		d.add(sec.name+" rrs", len(sec.rrs))
		for i, rr := range sec.rrs {
			if i == maxRRDetails {
				d.add(sec.name, fmt.Sprintf("... %d more", len(sec.rrs)-i))
				break
			}
			d.add(sec.name, rr.String())
		}
	}

	if !slices.Contains(cfg.Rcodes(), resp.Rcode) {
		f.fail("rcode "+rcode, fmt.Sprintf("valid_rcodes %v does not include %s", cfg.ValidRcodes, rcode))
	}
	if !f.failed() {
		validateRRs(&f, "answer", "validate_answer_rrs", resp.Answer, &cfg.ValidateAnswer)
	}
	if !f.failed() {
		validateRRs(&f, "authority", "validate_authority_rrs", resp.Ns, &cfg.ValidateAuthority)
	}
	if !f.failed() {
		validateRRs(&f, "additional", "validate_additional_rrs", resp.Extra, &cfg.ValidateAdditional)
	}
	return m.result(start, s, d, f, nil)
}

func (m *dnsMonitor) result(start time.Time, s *sample, d details, f failure, err error) Result {
	r := Result{Status: StatusUp, Latency: time.Since(start), sample: s}
	if f.failed() {
		r.Status, r.Reason = StatusDown, f.reason
		d.add("assertion failed", f.what)
		m.logger.Debug("dns check failed", "reason", f.reason, "assertion", f.what, "err", err)
	}
	if err != nil {
		r.Err = fmt.Errorf("dns: %w", err)
		d.add("error", err.Error())
	}
	r.Details = d
	return r
}

// validateRRs applies one section's validator with blackbox's semantics
// (see config.RRValidator), matching each record's text form.
func validateRRs(f *failure, section, key string, rrs []dns.RR, v *config.RRValidator) {
	reason := section + " records failed validation"
	if len(rrs) == 0 && len(v.FailIfNotMatchesRegexp) > 0 {
		f.fail(reason, key+".fail_if_not_matches_regexp: no records")
		return
	}
	if len(rrs) == 0 && len(v.FailIfNoneMatchesRegexp) > 0 {
		f.fail(reason, key+".fail_if_none_matches_regexp: no records")
		return
	}
	allMatch, anyMatch := true, false
	for _, rr := range rrs {
		text := rr.String()
		for _, re := range v.FailIfMatchesRegexp {
			if re.MatchString(text) {
				f.fail(reason, fmt.Sprintf("%s.fail_if_matches_regexp: %q matched %q", key, text, re.String()))
				return
			}
		}
		for _, re := range v.FailIfAllMatchRegexp {
			if !re.MatchString(text) {
				allMatch = false
			}
		}
		for _, re := range v.FailIfNotMatchesRegexp {
			if !re.MatchString(text) {
				f.fail(reason, fmt.Sprintf("%s.fail_if_not_matches_regexp: %q did not match %q", key, text, re.String()))
				return
			}
		}
		for _, re := range v.FailIfNoneMatchesRegexp {
			if re.MatchString(text) {
				anyMatch = true
			}
		}
	}
	if len(v.FailIfAllMatchRegexp) > 0 && !allMatch {
		f.fail(reason, key+".fail_if_all_match_regexp: not every record matched")
		return
	}
	if len(v.FailIfNoneMatchesRegexp) > 0 && !anyMatch {
		f.fail(reason, key+".fail_if_none_matches_regexp: no record matched")
	}
}
