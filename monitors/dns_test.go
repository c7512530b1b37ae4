package monitors

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone answers the DNS probe tests:
//
//	example.test. A       192.0.2.1, 192.0.2.2 (NS in authority, glue in additional)
//	example.test. SOA     serial 2026010101
//	qtype.test.   any     TXT naming the query's type and class
//	rd.test.      TXT     "rd=1" or "rd=0", the query's RD flag
//	servfail.test.        SERVFAIL
//	anything else         NXDOMAIN with the SOA in authority
func testZone(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			panic(err) // static test data
		}
		return r
	}
	soa := rr("example.test. 3600 IN SOA ns1.example.test. admin.example.test. 2026010101 7200 3600 1209600 300")
	switch {
	case q.Name == "example.test." && q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{rr("example.test. 300 IN A 192.0.2.1"), rr("example.test. 300 IN A 192.0.2.2")}
		m.Ns = []dns.RR{rr("example.test. 300 IN NS ns1.example.test.")}
		m.Extra = []dns.RR{rr("ns1.example.test. 300 IN A 192.0.2.53")}
	case q.Name == "example.test." && q.Qtype == dns.TypeSOA:
		m.Answer = []dns.RR{soa}
	case q.Name == "qtype.test.":
		m.Answer = []dns.RR{rr(fmt.Sprintf(`qtype.test. 60 IN TXT "%s %s"`, dns.TypeToString[q.Qtype], dns.ClassToString[q.Qclass]))}
	case q.Name == "rd.test.":
		rd := 0
		if req.RecursionDesired {
			rd = 1
		}
		m.Answer = []dns.RR{rr(fmt.Sprintf(`rd.test. 60 IN TXT "rd=%d"`, rd))}
	case q.Name == "servfail.test.":
		m.Rcode = dns.RcodeServerFailure
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa}
	}
	_ = w.WriteMsg(m)
}

// dnsServers starts the test zone on 127.0.0.1 over UDP and TCP and returns
// both addresses.
func dnsServers(tb testing.TB) (udpAddr, tcpAddr string) {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(testZone)},
		{Listener: l, Handler: dns.HandlerFunc(testZone)},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		tb.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String(), l.Addr().String()
}

// silentUDP returns the address of a UDP socket that never answers.
func silentUDP(tb testing.TB) string {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr().String()
}

func TestDNS(t *testing.T) {
	udp, tcp := dnsServers(t)
	tests := []struct {
		name   string
		server string
		keys   string
		status Status
		reason string
		counts [3]float64 // answer, authority, additional
	}{
		{name: "A over udp", server: udp, keys: "query_name: example.test\nquery_type: A", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "A over tcp", server: tcp, keys: "query_name: example.test\nquery_type: A\ntransport_protocol: tcp", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "ANY IN by default", server: udp, keys: "query_name: qtype.test\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['\"ANY IN\"']}", status: StatusUp, counts: [3]float64{1, 0, 0}},
		{name: "query class", server: udp, keys: "query_name: qtype.test\nquery_type: TXT\nquery_class: CH\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['\"TXT CH\"']}", status: StatusUp, counts: [3]float64{1, 0, 0}},
		{name: "recursion desired by default", server: udp, keys: "query_name: rd.test\nquery_type: TXT\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['rd=1']}", status: StatusUp, counts: [3]float64{1, 0, 0}},
		{name: "recursion_desired false", server: udp, keys: "query_name: rd.test\nquery_type: TXT\nrecursion_desired: false\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['rd=0']}", status: StatusUp, counts: [3]float64{1, 0, 0}},
		{name: "NXDOMAIN fails by default", server: udp, keys: "query_name: missing.test\nquery_type: A", status: StatusDown, reason: "rcode NXDOMAIN", counts: [3]float64{0, 1, 0}},
		{name: "NXDOMAIN in valid_rcodes", server: udp, keys: "query_name: missing.test\nquery_type: A\nvalid_rcodes: [NOERROR, NXDOMAIN]", status: StatusUp, counts: [3]float64{0, 1, 0}},
		{name: "SERVFAIL", server: udp, keys: "query_name: servfail.test\nquery_type: A", status: StatusDown, reason: "rcode SERVFAIL"},
		{name: "answer fail_if_matches hit", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_matches_regexp: ['192\\.0\\.2\\.2$']}", status: StatusDown, reason: "answer records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_matches miss", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_matches_regexp: ['10\\.']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_not_matches all match", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['192\\.0\\.2\\.']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_not_matches one differs", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['192\\.0\\.2\\.1$']}", status: StatusDown, reason: "answer records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_none_matches one matches", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_none_matches_regexp: ['192\\.0\\.2\\.2$']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_none_matches none match", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_none_matches_regexp: ['10\\.']}", status: StatusDown, reason: "answer records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_all_match all match", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_all_match_regexp: ['IN\\s+A\\s']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "answer fail_if_all_match not all match", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_answer_rrs: {fail_if_all_match_regexp: ['192\\.0\\.2\\.1$']}", status: StatusDown, reason: "answer records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "no answer with fail_if_not_matches", server: udp, keys: "query_name: missing.test\nquery_type: A\nvalid_rcodes: [NXDOMAIN]\nvalidate_answer_rrs: {fail_if_not_matches_regexp: ['.']}", status: StatusDown, reason: "answer records failed validation", counts: [3]float64{0, 1, 0}},
		{name: "no answer with fail_if_all_match", server: udp, keys: "query_name: missing.test\nquery_type: A\nvalid_rcodes: [NXDOMAIN]\nvalidate_answer_rrs: {fail_if_all_match_regexp: ['.']}", status: StatusUp, counts: [3]float64{0, 1, 0}},
		{name: "authority fail_if_not_matches", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_authority_rrs: {fail_if_not_matches_regexp: ['NS\\s+ns1\\.example\\.test\\.$']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "authority fail_if_matches", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_authority_rrs: {fail_if_matches_regexp: ['ns1']}", status: StatusDown, reason: "authority records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "additional fail_if_matches", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_additional_rrs: {fail_if_matches_regexp: ['192\\.0\\.2\\.53']}", status: StatusDown, reason: "additional records failed validation", counts: [3]float64{2, 1, 1}},
		{name: "additional fail_if_none_matches", server: udp, keys: "query_name: example.test\nquery_type: A\nvalidate_additional_rrs: {fail_if_none_matches_regexp: ['192\\.0\\.2\\.53']}", status: StatusUp, counts: [3]float64{2, 1, 1}},
		{name: "timeout", server: silentUDP(t), keys: "query_name: example.test", status: StatusDown, reason: "timeout"},
		{name: "tcp refused", server: closedPort(t), keys: "query_name: example.test\ntransport_protocol: tcp", status: StatusDown, reason: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := ""
			for _, l := range strings.Split(tt.keys, "\n") {
				keys += "\n  " + l
			}
			r := runCheck(t, loadSpec(t, "dns:\n  server: "+tt.server+keys), 300*time.Millisecond)
			wantResult(t, r, tt.status, tt.reason)
			succeeded := 0.0
			if tt.reason != "timeout" && tt.reason != "connection refused" {
				succeeded = 1
			}
			if got := metric(t, r, "probe_dns_query_succeeded", ""); got != succeeded {
				t.Errorf("probe_dns_query_succeeded = %v, want %v", got, succeeded)
			}
			for i, name := range []string{"probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs"} {
				if got := metric(t, r, name, ""); got != tt.counts[i] {
					t.Errorf("%s = %v, want %v", name, got, tt.counts[i])
				}
			}
			for _, phase := range []string{"resolve", "connect", "request"} {
				metric(t, r, "probe_dns_duration_seconds", phase)
			}
			if tt.status == StatusDown {
				if _, ok := detail(r, "assertion failed"); !ok {
					t.Errorf("no assertion detail:\n%s", dumpDetails(r))
				}
			}
		})
	}
}

func TestDNSSerial(t *testing.T) {
	udp, _ := dnsServers(t)
	r := runCheck(t, loadSpec(t, "dns: {server: '"+udp+"', query_name: example.test, query_type: SOA}"), time.Second)
	wantResult(t, r, StatusUp, "")
	if got := metric(t, r, "probe_dns_serial", ""); got != 2026010101 {
		t.Errorf("probe_dns_serial = %v", got)
	}
	if v, _ := detail(r, "answer"); v == "" {
		t.Errorf("no answer detail:\n%s", dumpDetails(r))
	}
}

// TestDNSTruncatedUDPRetriesOverTCP: an answer too big for a datagram comes
// back with TC set; the monitor asks again over TCP and validates the full
// answer (blackbox validates the truncated one).
func TestDNSTruncatedUDPRetriesOverTCP(t *testing.T) {
	const records = 60
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		for i := range records {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.IPv4(10, 0, byte(i/250), byte(i%250+1)),
			})
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncate(dns.MinMsgSize)
		}
		_ = w.WriteMsg(m)
	})
	// UDP and TCP on the same port, as a real server.
	var pc net.PacketConn
	var l net.Listener
	for range 20 {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
		l = nil
	}
	if l == nil {
		t.Fatal("no port free for both UDP and TCP")
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	spec := loadSpec(t, "dns:\n  server: "+pc.LocalAddr().String()+"\n  query_name: big.test\n  query_type: A")
	r := runCheck(t, spec, 2*time.Second)
	wantResult(t, r, StatusUp, "")
	if got := metric(t, r, "probe_dns_answer_rrs", ""); got != records {
		t.Errorf("probe_dns_answer_rrs = %v, want all %d records from the TCP retry", got, records)
	}
	if _, ok := detail(r, "truncated"); !ok {
		t.Errorf("no truncated detail:\n%s", dumpDetails(r))
	}
}
