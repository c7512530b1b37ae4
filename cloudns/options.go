package cloudns

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero-valued Options fields. They are exported so
// that the configuration layer can show and document them.
const (
	// DefaultBaseURL is the ClouDNS API endpoint.
	DefaultBaseURL = "https://api.cloudns.net"
	// DefaultTimeout bounds one HTTP attempt (not a whole call with retries).
	DefaultTimeout = 10 * time.Second
	// DefaultUserAgent is sent with every request.
	DefaultUserAgent = "statussync-cloudns"
	// DefaultRateLimit is the client-side request rate in requests per
	// second. ClouDNS's own Terraform provider uses the same value.
	DefaultRateLimit = 5.0
	// MaxRateLimit is ClouDNS's documented per-IP limit (20 requests per
	// second). New rejects a RateLimit above it: exceeding it only produces
	// "Request blocked" failures.
	MaxRateLimit = 20.0
	// DefaultMaxRetries is the number of retries after a retryable failure.
	DefaultMaxRetries = 2
	// DefaultRetryWaitMin is the first backoff wait. It is a full second so
	// that a retry after a rate-limit block lands in a new per-second window.
	DefaultRetryWaitMin = time.Second
	// DefaultRetryWaitMax caps the backoff wait.
	DefaultRetryWaitMax = 10 * time.Second
)

// Options configures a Client. Exactly one of AuthID, SubAuthID and
// SubAuthUser must be set, and Password must not be empty.
type Options struct {
	// BaseURL is the API root; empty means DefaultBaseURL. Anything but https
	// on a non-loopback host is accepted but logged as a warning, since the
	// password travels in the request body.
	BaseURL string

	// AuthID is the API user id (sent as auth-id).
	AuthID int
	// SubAuthID is the API sub-user id (sent as sub-auth-id).
	SubAuthID int
	// SubAuthUser is the API sub-user name (sent as sub-auth-user).
	SubAuthUser string
	// Password is the password of that identity (sent as auth-password). It
	// only ever travels as a POST form field.
	Password string

	// Timeout bounds one HTTP attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request; empty means DefaultUserAgent.
	UserAgent string
	// TLSConfig replaces the transport's TLS configuration; nil keeps the
	// default certificate verification.
	TLSConfig *tls.Config

	// RateLimit is the maximum request rate in requests per second, applied
	// to every attempt including retries; zero means DefaultRateLimit. It
	// must not exceed MaxRateLimit. Bursts are not allowed.
	RateLimit float64
	// MaxRetries is the number of retries of a retryable failure (transport
	// error, HTTP 5xx, rate limit); zero means DefaultMaxRetries and a
	// negative value disables retries.
	MaxRetries int
	// RetryWaitMin is the first backoff wait; zero means DefaultRetryWaitMin.
	RetryWaitMin time.Duration
	// RetryWaitMax caps the backoff wait; zero means DefaultRetryWaitMax.
	RetryWaitMax time.Duration

	// Registerer receives the request metrics; nil registers nothing.
	// Collectors already registered by an earlier Client (a config reload)
	// are reused.
	Registerer prometheus.Registerer
	// Logger receives debug and warning logs; nil discards them. Request
	// bodies are never logged.
	Logger *slog.Logger
}

// settings is Options after defaults and validation.
type settings struct {
	baseURL      *url.URL
	identity     url.Values // auth-id / sub-auth-id / sub-auth-user and auth-password
	password     string
	timeout      time.Duration
	userAgent    string
	tlsConfig    *tls.Config
	rateLimit    float64
	maxRetries   int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	logger       *slog.Logger
	insecureURL  bool
}

// resolve applies defaults and validates o. All problems are reported at once.
func (o Options) resolve() (settings, error) {
	s := settings{
		password:     o.Password,
		timeout:      o.Timeout,
		userAgent:    o.UserAgent,
		tlsConfig:    o.TLSConfig,
		rateLimit:    o.RateLimit,
		maxRetries:   o.MaxRetries,
		retryWaitMin: o.RetryWaitMin,
		retryWaitMax: o.RetryWaitMax,
		logger:       o.Logger,
	}
	var errs []error

	raw := o.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("base url: %w", err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("base url %q: scheme must be http or https", u.Redacted()))
	case u.Host == "":
		errs = append(errs, fmt.Errorf("base url %q: missing host", u.Redacted()))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("base url %q: must not have a query or fragment", u.Redacted()))
	default:
		u.Path = strings.TrimSuffix(u.Path, "/")
		s.baseURL = u
		s.insecureURL = u.Scheme != "https" && !isLoopback(u.Hostname())
	}

	id, err := identityValues(o.AuthID, o.SubAuthID, o.SubAuthUser)
	if err != nil {
		errs = append(errs, err)
	}
	if o.Password == "" {
		errs = append(errs, errors.New("password is empty"))
	}
	if err == nil && o.Password != "" {
		id.Set("auth-password", o.Password)
		s.identity = id
	}

	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	} else if s.timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", s.timeout))
	}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.rateLimit == 0 {
		s.rateLimit = DefaultRateLimit
	} else if s.rateLimit < 0 || s.rateLimit > MaxRateLimit {
		errs = append(errs, fmt.Errorf("rate limit %g/s is outside (0, %g]", s.rateLimit, MaxRateLimit))
	}
	if s.maxRetries == 0 {
		s.maxRetries = DefaultMaxRetries
	} else if s.maxRetries < 0 {
		s.maxRetries = 0
	}
	if s.retryWaitMin == 0 {
		s.retryWaitMin = DefaultRetryWaitMin
	}
	if s.retryWaitMax == 0 {
		s.retryWaitMax = DefaultRetryWaitMax
	}
	if s.retryWaitMin < 0 || s.retryWaitMax < s.retryWaitMin {
		errs = append(errs, fmt.Errorf("retry waits must satisfy 0 <= min (%s) <= max (%s)", s.retryWaitMin, s.retryWaitMax))
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, errors.Join(errs...)
}

// identityValues returns the single identity parameter ClouDNS expects.
func identityValues(authID, subAuthID int, subAuthUser string) (url.Values, error) {
	v := url.Values{}
	n := 0
	if authID != 0 {
		n++
		v.Set("auth-id", strconv.Itoa(authID))
	}
	if subAuthID != 0 {
		n++
		v.Set("sub-auth-id", strconv.Itoa(subAuthID))
	}
	if subAuthUser != "" {
		n++
		v.Set("sub-auth-user", subAuthUser)
	}
	switch {
	case n != 1:
		return nil, fmt.Errorf("exactly one of auth id, sub-auth id and sub-auth user must be set, got %d", n)
	case authID < 0 || subAuthID < 0:
		return nil, errors.New("auth id and sub-auth id must be positive")
	}
	return v, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
