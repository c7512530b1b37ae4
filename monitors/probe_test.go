package monitors

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
)

// TestResolveLiteralAsResolver: the shortcut for IP literals finds what
// the resolver finds, 16-byte form included, takes every plain literal the
// resolver returns as it is, and leaves the rest (a zone, "::" without
// fallback, the other family without fallback, names) to the resolver.
func TestResolveLiteralAsResolver(t *testing.T) {
	tests := []struct {
		host  string
		plain bool // the shortcut must answer wherever the resolver succeeds
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"::1", true}, {"2001:db8::1", true},
		{"::ffff:192.0.2.1", true}, {"::", false}, {"0.0.0.0", false}, {"fe80::1%lo", false},
		{"localhost", false}, {"1.2.3", false},
	}
	for _, tt := range tests {
		for _, preferred := range []string{config.IPv4, config.IPv6} {
			for _, fallback := range []bool{false, true} {
				ip, ok := literalIP(tt.host, preferred, fallback)
				want, err := lookup(t.Context(), tt.host, preferred, fallback, time.Now())
				switch {
				case ok && err != nil:
					t.Errorf("%s %s fallback=%v: shortcut found %s, the resolver failed: %v", tt.host, preferred, fallback, ip, err)
				case ok && (len(ip) != len(want.ip) || !ip.Equal(want.ip) || ipFamily(ip) != want.protocol):
					t.Errorf("%s %s fallback=%v: shortcut found %v (ip%d), the resolver %v (ip%d)",
						tt.host, preferred, fallback, []byte(ip), ipFamily(ip), []byte(want.ip), want.protocol)
				case !ok && tt.plain && err == nil:
					t.Errorf("%s %s fallback=%v: the resolver found %s, the shortcut was not taken", tt.host, preferred, fallback, want.ip)
				}
			}
		}
	}
}

// TestHostPortAsJoinHostPort: hostPort writes what net.JoinHostPort of the
// address's text writes, for every form an address or port can take.
func TestHostPortAsJoinHostPort(t *testing.T) {
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.IPv4(10, 0, 0, 1).To4(), net.ParseIP("::1"), net.ParseIP("2001:db8::1"), net.ParseIP("::ffff:192.0.2.1"), nil}
	for _, ip := range ips {
		for _, port := range []string{"80", "443", "8080", "65535", "0", "080", "65536", "http", ""} {
			if got, want := hostPort(ip, port), net.JoinHostPort(ip.String(), port); got != want {
				t.Errorf("hostPort(%v, %q) = %q, want %q", ip, port, got, want)
			}
		}
	}
}

// TestDialNetwork: the family suffix for every base, shortcut or not.
func TestDialNetwork(t *testing.T) {
	for _, base := range []string{"tcp", "udp", "tcp-tls"} {
		for _, ip := range []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")} {
			want := fmt.Sprintf("%s%d", base, ipFamily(ip))
			if got := dialNetwork(base, ip); got != want {
				t.Errorf("dialNetwork(%q, %s) = %q, want %q", base, ip, got, want)
			}
		}
	}
}
