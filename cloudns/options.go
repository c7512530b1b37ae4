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

	"github.com/statussync/statussync/internal/apiclient"
)

// The values DefaultOptions starts from. They are exported so that the
// configuration layer can show and document them; New itself never
// substitutes them.
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

// Options configures a Client. New uses every value as given: start from
// DefaultOptions, set the identity and Password, and change what else
// differs. Exactly one of AuthID, SubAuthID and SubAuthUser must be set,
// Password must not be empty, and a value that cannot work is an error
// naming the field, never quietly replaced.
type Options struct {
	// BaseURL is the API root, DefaultBaseURL in DefaultOptions; it must
	// not be empty. Anything but https on a non-loopback host is accepted
	// but logged as a warning, since the password travels in the request
	// body.
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

	// Timeout bounds one HTTP attempt and must be positive.
	Timeout time.Duration
	// UserAgent is sent with every request; it must not be empty.
	UserAgent string
	// TLSConfig replaces the transport's TLS configuration; nil keeps the
	// default certificate verification.
	TLSConfig *tls.Config

	// RateLimit is the maximum request rate in requests per second, applied
	// to every attempt including retries. It must be above 0 and at most
	// MaxRateLimit. Bursts are not allowed.
	RateLimit float64
	// MaxRetries is the number of retries of a retryable failure (transport
	// error, HTTP 5xx, rate limit): 0 sends every request once. It must not
	// be negative.
	MaxRetries int
	// RetryWaitMin is the first backoff wait and must be positive (a
	// backoff from 0 never grows).
	RetryWaitMin time.Duration
	// RetryWaitMax caps the backoff wait; it must not be below RetryWaitMin.
	RetryWaitMax time.Duration

	// Registerer receives the request metrics; nil registers nothing.
	// Collectors already registered by an earlier Client (a config reload)
	// are reused.
	Registerer prometheus.Registerer
	// Logger receives debug and warning logs; nil discards them. Request
	// bodies are never logged.
	Logger *slog.Logger
}

// DefaultOptions returns Options holding the default of every tunable
// (DefaultBaseURL, DefaultTimeout, DefaultUserAgent, DefaultRateLimit,
// DefaultMaxRetries, DefaultRetryWaitMin/Max). The identity and Password
// are left empty, and so are the optional TLSConfig, Registerer and
// Logger.
func DefaultOptions() Options {
	return Options{
		BaseURL:      DefaultBaseURL,
		Timeout:      DefaultTimeout,
		UserAgent:    DefaultUserAgent,
		RateLimit:    DefaultRateLimit,
		MaxRetries:   DefaultMaxRetries,
		RetryWaitMin: DefaultRetryWaitMin,
		RetryWaitMax: DefaultRetryWaitMax,
	}
}

// settings is Options after validation, in the forms the client uses.
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

// resolve validates o and converts it; it fills in nothing but a discarding
// logger. All problems are reported at once, each naming its field.
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
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if o.BaseURL == "" {
		bad("BaseURL is empty (DefaultOptions has %s)", DefaultBaseURL)
	} else if u, err := url.Parse(o.BaseURL); err != nil {
		bad("BaseURL: %w", err)
	} else {
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			bad("BaseURL %q: scheme must be http or https", u.Redacted())
		case u.Host == "":
			bad("BaseURL %q: missing host", u.Redacted())
		case u.RawQuery != "" || u.Fragment != "":
			bad("BaseURL %q: must not have a query or fragment", u.Redacted())
		default:
			u.Path = strings.TrimSuffix(u.Path, "/")
			s.baseURL = u
			s.insecureURL = u.Scheme != "https" && !isLoopback(u.Hostname())
		}
	}

	id, err := identityValues(o.AuthID, o.SubAuthID, o.SubAuthUser)
	if err != nil {
		errs = append(errs, err)
	}
	if o.Password == "" {
		bad("Password is empty")
	}
	if err == nil && o.Password != "" {
		id.Set("auth-password", o.Password)
		s.identity = id
	}

	errs = append(errs, apiclient.CheckRequestOptions(o.Timeout, o.UserAgent, o.MaxRetries, o.RetryWaitMin, o.RetryWaitMax)...)
	if !(o.RateLimit > 0 && o.RateLimit <= MaxRateLimit) { // also catches NaN
		bad("RateLimit %g/s is outside (0, %g]", o.RateLimit, MaxRateLimit)
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
		return nil, fmt.Errorf("exactly one of AuthID, SubAuthID and SubAuthUser must be set, got %d", n)
	case authID < 0:
		return nil, fmt.Errorf("AuthID %d must be positive", authID)
	case subAuthID < 0:
		return nil, fmt.Errorf("SubAuthID %d must be positive", subAuthID)
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
