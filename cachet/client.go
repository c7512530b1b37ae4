package cachet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/statussync/statussync/internal/apiclient"
)

// The values DefaultOptions starts from. They are exported so that
// configuration code can show them; New itself never substitutes them.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultUserAgent    = "statussync"
	DefaultMaxRetries   = 3
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 10 * time.Second
	// DefaultRateLimit (requests per second) with DefaultRateBurst keeps one
	// client at most at 245 requests in any minute, under Cachet's default
	// limit of 300 per minute per token user (reference §1.6).
	DefaultRateLimit = 4.0
	DefaultRateBurst = 5
)

// pageSize is the per_page the client asks for; Cachet clamps to 1-100.
const pageSize = 100

// maxPages bounds pagination so that a server that ignores "page" cannot
// keep the client looping.
const maxPages = 1000

// maxResponseBytes bounds a response body.
const maxResponseBytes = 16 << 20

// Options configures a Client. New uses every value as given: start from
// DefaultOptions and set BaseURL, Token and what else differs. A value
// that cannot work (a zero timeout, a burst of 0, waits in the wrong
// order) is an error naming the field, never quietly replaced.
type Options struct {
	// BaseURL is the API base including any path prefix, for example
	// "https://status.example.org/api" or "https://example.org/status/api".
	BaseURL string
	// Token is a Cachet 3 API key (a Sanctum token, "<id>|<secret>"), sent as
	// "Authorization: Bearer". Empty means anonymous reads only.
	Token string
	// Timeout bounds each HTTP attempt and must be positive. The caller's
	// context bounds the whole call, retries included.
	Timeout time.Duration
	// UserAgent is sent on every request; it must not be empty.
	UserAgent string
	// Registerer receives the client's metrics; nil disables them. Clients
	// built again with the same Registerer share the collectors.
	Registerer prometheus.Registerer
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// TLSConfig customises TLS, for example a private CA. nil uses Go's
	// defaults, with certificate verification on.
	TLSConfig *tls.Config
	// MaxRetries is how many times a failed attempt may be retried: 0
	// sends every request once. It must not be negative.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax shape the backoff between retries: a
	// random wait from RetryWaitMin/2 up to a ceiling that starts at
	// RetryWaitMin and doubles per retry, capped at RetryWaitMax, which
	// also caps a server's Retry-After. RetryWaitMin must be
	// positive (a backoff from 0 never grows) and at most RetryWaitMax.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// RateLimit is the client-side request rate in requests per second and
	// RateBurst the burst, at least 1. A negative RateLimit disables
	// client-side limiting (RateBurst is then unused); 0 is an error, since
	// it would stop the client after one burst. Cachet counts requests per
	// token user, so replicas sharing a token share its limit.
	RateLimit float64
	RateBurst int
	// RateLimitWindow is the period the server's X-RateLimit-Limit counts
	// over, Laravel's minute in DefaultOptions; it must be positive. The
	// client slows to 80% of the limit a response states, whatever
	// RateLimit says, and pauses when X-RateLimit-Remaining runs low; a 429
	// holds every request back for the whole Retry-After (at most two
	// minutes). Tests shorten the window to run a minute's traffic in
	// seconds.
	RateLimitWindow time.Duration
	// Location is the time zone of the Cachet application (its APP_TIMEZONE),
	// used to read the offset-less timestamps Cachet renders and to write
	// dates. It must not be nil; DefaultOptions sets UTC.
	Location *time.Location
}

// DefaultOptions returns Options holding the default of every tunable
// (DefaultTimeout, DefaultUserAgent, DefaultMaxRetries,
// DefaultRetryWaitMin/Max, DefaultRateLimit, DefaultRateBurst,
// DefaultRateLimitWindow, UTC). BaseURL and Token are left empty, and so
// are the optional Registerer, Logger and TLSConfig.
func DefaultOptions() Options {
	return Options{
		Timeout:         DefaultTimeout,
		UserAgent:       DefaultUserAgent,
		MaxRetries:      DefaultMaxRetries,
		RetryWaitMin:    DefaultRetryWaitMin,
		RetryWaitMax:    DefaultRetryWaitMax,
		RateLimit:       DefaultRateLimit,
		RateBurst:       DefaultRateBurst,
		RateLimitWindow: DefaultRateLimitWindow,
		Location:        time.UTC,
	}
}

// validate reports every value of o that cannot work, each naming its
// field. BaseURL and Token are checked by New.
func (o Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	errs = append(errs, apiclient.CheckRequestOptions(o.Timeout, o.UserAgent, o.MaxRetries, o.RetryWaitMin, o.RetryWaitMax)...)
	switch {
	case o.RateLimit == 0 || math.IsNaN(o.RateLimit):
		bad("RateLimit %v must be positive, or negative to disable client-side limiting", o.RateLimit)
	case o.RateLimit > 0 && o.RateBurst < 1:
		bad("RateBurst %d must be at least 1 while RateLimit %v limits the rate", o.RateBurst, o.RateLimit)
	}
	if o.RateLimitWindow <= 0 {
		bad("RateLimitWindow %v must be positive", o.RateLimitWindow)
	}
	if o.Location == nil {
		bad("Location is nil (use time.UTC for UTC)")
	}
	return errors.Join(errs...)
}

// Client talks to one Cachet 3.x API. It is safe for concurrent use.
type Client struct {
	http    *resty.Client
	base    string
	token   string
	log     *slog.Logger
	metrics *instrumentation
	// limiter paces every attempt; its rate starts at the configured one
	// (rate.Inf when disabled) and pace lowers it to the server's limit.
	limiter         *rate.Limiter
	configuredRate  rate.Limit
	configuredBurst int
	window          time.Duration
	paceMu          sync.Mutex
	maxRetries      int
	waitMin         time.Duration
	waitMax         time.Duration
	loc             *time.Location
	caps            *capState

	pauseMu    sync.Mutex
	pauseUntil time.Time

	// retired is set by CloseIdleConnections: later requests close their
	// connection instead of keeping it alive.
	retired atomic.Bool
}

// New validates opts and builds a Client that uses them exactly as given
// (see Options). It makes no request; call Ping or Version to check
// connectivity.
func New(opts Options) (*Client, error) {
	base, err := normalizeBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("cachet: invalid options: %w", err)
	}
	if strings.ContainsFunc(opts.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// The token itself must not be echoed.
		return nil, errors.New("cachet: token contains whitespace or control characters")
	}
	metrics, err := newInstrumentation(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cachet: %w", err)
	}
	caps, err := newCapState(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cachet: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "cachet")

	c := &Client{
		base:       base,
		token:      opts.Token,
		log:        logger,
		metrics:    metrics,
		maxRetries: opts.MaxRetries,
		waitMin:    opts.RetryWaitMin,
		waitMax:    opts.RetryWaitMax,
		loc:        opts.Location,
		caps:       caps,
		window:     opts.RateLimitWindow,
	}
	c.configuredRate, c.configuredBurst = rate.Inf, 1
	if opts.RateLimit > 0 {
		c.configuredRate, c.configuredBurst = rate.Limit(opts.RateLimit), opts.RateBurst
	}
	c.limiter = rate.NewLimiter(c.configuredRate, c.configuredBurst)

	hc := resty.New().
		SetTimeout(opts.Timeout).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", opts.UserAgent).
		SetResponseBodyLimit(maxResponseBytes).
		SetLogger(apiclient.RestyLogger{Log: logger, Redact: c.redact}).
		// A redirect would turn a PUT into a GET or send the token to
		// another origin; surface it as an error instead.
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		})).
		SetPreRequestHook(func(_ *resty.Client, r *http.Request) error {
			r.Close = c.retired.Load()
			return nil
		})
	if opts.TLSConfig != nil {
		hc.SetTLSClientConfig(opts.TLSConfig.Clone())
	}
	if opts.Token != "" {
		hc.SetAuthScheme("Bearer").SetAuthToken(opts.Token)
	}
	c.http = hc

	if opts.Token != "" && strings.HasPrefix(base, "http://") && !isLoopback(base) {
		logger.Warn("cachet base url uses plain http, the api token travels unencrypted", "base_url", base)
	}
	return c, nil
}

// BaseURL returns the normalised API base URL the client talks to.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes the client's idle keep-alive connections, for
// example when a config reload replaces it; otherwise each replaced client
// keeps its pool (and two goroutines per connection) until the server
// closes them. The client stays usable, but from now on each request
// closes its connection when done: a request still in flight (a pass of
// the reconciler, a token check waiting for the rate limiter) would
// otherwise leave a connection idle in the pool of a client nobody closes
// again.
func (c *Client) CloseIdleConnections() {
	c.retired.Store(true)
	c.http.GetClient().CloseIdleConnections()
}

func normalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("cachet: base url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("cachet: parse base url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("cachet: base url %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return "", fmt.Errorf("cachet: base url %q: missing host", u.Redacted())
	}
	if u.User != nil {
		return "", fmt.Errorf("cachet: base url %q: must not contain credentials", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("cachet: base url %q: must not contain a query or fragment", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact removes the token from text that came from the server.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.token, "<redacted>")
	if _, secret, ok := strings.Cut(c.token, "|"); ok && len(secret) >= 8 {
		s = strings.ReplaceAll(s, secret, "<redacted>")
	}
	return s
}

// apiRequest is one logical call; do may send it several times.
type apiRequest struct {
	op     operation
	method string
	path   string // relative to the base URL, starting with "/"
	query  url.Values
	body   []byte // JSON, nil for none
	// once disables retries: capability probes read the first answer.
	once bool
}

// do sends req with rate limiting and retries and returns the body of the
// 2xx response. Failures are *APIError for non-2xx responses, or a wrapped
// transport or context error.
func (c *Client) do(ctx context.Context, req apiRequest) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return nil, fmt.Errorf("cachet: %s: wait for rate limit: %w", req.op.name, err)
		}
		status, header, body, err := c.send(ctx, req)
		if err == nil && status >= 200 && status < 300 {
			return body, nil
		}

		var failure error
		var retryAfter time.Duration
		if err != nil {
			failure = fmt.Errorf("cachet: %s: %w", req.op.name, err)
		} else {
			apiErr := newAPIError(req.op, req.method, req.path, status, header, body, c.redact)
			failure, retryAfter = apiErr, apiErr.RetryAfter
		}
		if req.once || attempt >= c.maxRetries || ctx.Err() != nil || !retryDecision(req.op, status, err) {
			return nil, failure
		}
		wait := backoff(attempt+1, c.waitMin, c.waitMax, retryAfter)
		if status == http.StatusTooManyRequests {
			// The server said when it will take requests again: hold every
			// request of the client back until then (wait blocks on it),
			// even past RetryWaitMax.
			c.pause(max(wait, min(retryAfter, maxRetryAfter)))
		}
		c.log.Warn("retrying cachet request",
			"operation", req.op.name, "attempt", attempt+1, "wait", wait, "status", status, "err", failure)
		if err := apiclient.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w (retry abandoned: %w)", failure, err)
		}
	}
}

// send performs one HTTP attempt. status is 0 when no response arrived.
func (c *Client) send(ctx context.Context, req apiRequest) (status int, header http.Header, body []byte, err error) {
	r := c.http.R().SetContext(ctx)
	if len(req.query) > 0 {
		r.SetQueryParamsFromValues(req.query)
	}
	if req.body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(req.body)
	}
	start := time.Now()
	resp, err := r.Execute(req.method, c.base+req.path)
	elapsed := time.Since(start)
	if c.retired.Load() {
		// Sent before CloseIdleConnections, answered after it: its
		// connection is back in the pool (the body is read).
		c.http.GetClient().CloseIdleConnections()
	}
	if err != nil {
		c.metrics.observe(req.op, 0, elapsed)
		c.log.Debug("cachet request failed",
			"operation", req.op.name, "method", req.method, "path", req.path, "duration", elapsed, "err", err)
		return 0, nil, nil, err
	}
	status = resp.StatusCode()
	c.metrics.observe(req.op, status, elapsed)
	c.pace(resp.Header())
	c.log.Debug("cachet request",
		"operation", req.op.name, "method", req.method, "path", req.path, "status", status, "duration", elapsed)
	return status, resp.Header(), resp.Body(), nil
}

// wait blocks until a 429 pause has passed and the rate limiter allows one
// more request.
func (c *Client) wait(ctx context.Context) error {
	c.pauseMu.Lock()
	until := c.pauseUntil
	c.pauseMu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := apiclient.Sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		// The limiter refuses early when the deadline would pass first;
		// report it as the deadline so that errors.Is works for callers.
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return nil
}

// pause holds back every request of this client for d after a 429: Cachet's
// limit is per token user, so the other callers would be refused too.
func (c *Client) pause(d time.Duration) {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if until := time.Now().Add(d); until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
}

// get fetches a single resource.
func (c *Client) get(ctx context.Context, op operation, path string, query url.Values) (document, error) {
	body, err := c.do(ctx, apiRequest{op: op, method: http.MethodGet, path: path, query: query})
	if err != nil {
		return document{}, err
	}
	return c.decodeSingle(op, body)
}

// write sends a JSON body and decodes the single resource Cachet returns.
func (c *Client) write(ctx context.Context, op operation, method, path string, body []byte) (document, error) {
	raw, err := c.do(ctx, apiRequest{op: op, method: method, path: path, body: body})
	if err != nil {
		return document{}, err
	}
	return c.decodeSingle(op, raw)
}

func (c *Client) decodeSingle(op operation, body []byte) (document, error) {
	doc, err := decodeDocument(body)
	if err != nil {
		return document{}, fmt.Errorf("cachet: %s: %w", op.name, err)
	}
	if len(doc.Data) != 1 {
		return document{}, fmt.Errorf("cachet: %s: expected one resource, got %d", op.name, len(doc.Data))
	}
	return doc, nil
}

// list fetches every page of a collection and calls each per page.
// Following links.next verbatim is avoided on purpose: Laravel builds it
// from the request's host and scheme (wrong behind some proxies, which
// would send the token elsewhere) and drops the other query parameters
// (filters, per_page). The link only tells whether, and which, page comes
// next.
func (c *Client) list(ctx context.Context, op operation, path string, query url.Values, each func(document) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", strconv.Itoa(pageSize))
	err := apiclient.Pages(maxPages, func(page int) (int, error) {
		q.Set("page", strconv.Itoa(page))
		body, err := c.do(ctx, apiRequest{op: op, method: http.MethodGet, path: path, query: q})
		if err != nil {
			return 0, err
		}
		doc, err := decodeDocument(body)
		if err != nil {
			return 0, fmt.Errorf("cachet: %s: page %d: %w", op.name, page, err)
		}
		if err := each(doc); err != nil {
			return 0, fmt.Errorf("cachet: %s: page %d: %w", op.name, page, err)
		}
		if !doc.HasNext || len(doc.Data) == 0 {
			return 0, nil
		}
		return max(doc.NextPage, page+1), nil
	})
	if errors.Is(err, apiclient.ErrTooManyPages) {
		return fmt.Errorf("cachet: %s: %w", op.name, err)
	}
	return err
}

// collect is the one list operation: it follows every page of path and
// decodes each resource, keeping those keep accepts (nil keeps all). A new
// collection is a decoder and one call.
func collect[T any](ctx context.Context, c *Client, op operation, path string, q url.Values,
	decode func(resource, map[resourceKey]resource) (T, error), keep func(T) bool,
) ([]T, error) {
	var out []T
	err := c.list(ctx, op, path, q, func(doc document) error {
		for _, r := range doc.Data {
			v, err := decode(r, doc.Included)
			if err != nil {
				return err
			}
			if keep == nil || keep(v) {
				out = append(out, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ignoreIncluded adapts a decoder that needs no included resources.
func ignoreIncluded[T any](decode func(resource) (T, error)) func(resource, map[resourceKey]resource) (T, error) {
	return func(r resource, _ map[resourceKey]resource) (T, error) { return decode(r) }
}
