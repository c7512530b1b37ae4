package config

// Types shared by the http, tcp and dns kind blocks. They mirror
// blackbox_exporter's config package: values that can be compiled (regexps,
// sizes) are compiled while decoding, so a bad one is reported with its key
// path and never reaches a probe.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Regexp is a regular expression compiled when the configuration is
// decoded. The zero value is "not set". A pattern that does not compile is
// kept with its error and reported by validation with its key path (a
// decode error would make the loader drop the whole kind block).
type Regexp struct {
	*regexp.Regexp
	src string
	err error
}

// NewRegexp compiles s.
func NewRegexp(s string) (Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return Regexp{}, err
	}
	return Regexp{Regexp: re, src: s}, nil
}

// UnmarshalText implements encoding.TextUnmarshaler, which the loader's
// decode hook calls for every string decoded into a Regexp.
func (r *Regexp) UnmarshalText(text []byte) error {
	re, err := regexp.Compile(string(text))
	*r = Regexp{Regexp: re, src: string(text), err: err}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Regexp) MarshalText() ([]byte, error) { return []byte(r.src), nil }

// IsSet reports whether the regexp was configured.
func (r Regexp) IsSet() bool { return r.Regexp != nil || r.err != nil }

// validateRegexps reports the patterns of list that did not compile.
func validateRegexps(p *problems, key, object string, list []Regexp) {
	for i, r := range list {
		validateRegexp(p, fmt.Sprintf("%s[%d]", key, i), object, r)
	}
}

func validateRegexp(p *problems, key, object string, r Regexp) {
	if r.err != nil {
		p.add(key, object, "%v", r.err)
	}
}

// ByteSize is a size in bytes. It decodes from an integer or from a string
// with a unit, as blackbox_exporter's body_size_limit: B, KB, MB, GB (and
// KiB, MiB, GiB), all powers of 1024. A string that is not a size decodes
// as -1, which validation reports.
type ByteSize int64

var sizeUnits = map[string]int64{
	"":   1,
	"B":  1,
	"KB": 1 << 10, "KIB": 1 << 10, "K": 1 << 10,
	"MB": 1 << 20, "MIB": 1 << 20, "M": 1 << 20,
	"GB": 1 << 30, "GIB": 1 << 30, "G": 1 << 30,
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	}
	mult, ok := sizeUnits[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil {
		*b = -1
		return nil
	}
	*b = ByteSize(v * float64(mult))
	return nil
}

// IP protocol names, as blackbox_exporter's preferred_ip_protocol.
const (
	IPv4 = "ip4"
	IPv6 = "ip6"
)

// validateIPProtocol checks preferred_ip_protocol.
func validateIPProtocol(p *problems, path, object string, preferred string) {
	switch preferred {
	case IPv4, IPv6:
	default:
		p.add(path+".preferred_ip_protocol", object, "%q must be ip4 or ip6", preferred)
	}
}

// validateMinCertValidity rejects a min_cert_validity without a unit: the
// loader's weak typing would read a bare 14 as 14ns.
func validateMinCertValidity(p *problems, path, object string, d model.Duration, hasTLS bool) {
	switch {
	case d < 0:
		p.add(path+".min_cert_validity", object, "must not be negative")
	case d > 0 && time.Duration(d) < time.Second:
		p.add(path+".min_cert_validity", object, "%v is under a second: give a unit, e.g. \"14d\"", time.Duration(d))
	case d > 0 && !hasTLS:
		p.add(path+".min_cert_validity", object, "needs TLS (an https URL, tls: true or a STARTTLS step)")
	}
}

// isTrue reads a switch whose default applyDefaults filled in (true for
// every such switch); unset counts as that default, for specs built by
// hand and never passed through Validate.
func isTrue(b *bool) bool { return b == nil || *b }
