package cloudns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"

	"github.com/statussync/statussync/internal/apiclient"
)

// maxBodyBytes bounds a response body; a full page of 100 checks is well
// under 100 KiB.
const maxBodyBytes = 8 << 20

// Client calls the ClouDNS monitoring API. It is safe for concurrent use;
// all calls share one rate limiter.
type Client struct {
	http       *resty.Client
	identity   url.Values // includes auth-password: never log it
	password   string
	limiter    *rate.Limiter
	metrics    *metrics
	logger     *slog.Logger
	maxRetries int
	waitMin    time.Duration
	waitMax    time.Duration
}

// New returns a Client for opts. It makes no request; use LoginTest to check
// the credentials.
func New(opts Options) (*Client, error) {
	s, err := opts.resolve()
	if err != nil {
		return nil, fmt.Errorf("cloudns: invalid options: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cloudns: %w", err)
	}
	logger := s.logger.With("component", "cloudns")
	if s.insecureURL {
		logger.Warn("cloudns base url is not https, the password travels in clear text", "base_url", s.baseURL.Redacted())
	}

	// No cookie jar (resty.New would add one) and no redirects: a 307/308
	// would resend the form, and with it the password, to wherever it points.
	hc := resty.NewWithClient(&http.Client{}).
		SetBaseURL(s.baseURL.String()).
		SetTimeout(s.timeout).
		SetHeader("User-Agent", s.userAgent).
		SetHeader("Accept", "application/json").
		SetRetryCount(0). // retries are ours: see Client.call
		SetResponseBodyLimit(maxBodyBytes).
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		})).
		SetLogger(apiclient.RestyLogger{Log: logger, Redact: func(msg string) string { return redact(msg, s.password) }})
	if s.tlsConfig != nil {
		hc.SetTLSClientConfig(s.tlsConfig)
	}

	return &Client{
		http:       hc,
		identity:   s.identity,
		password:   s.password,
		limiter:    rate.NewLimiter(rate.Limit(s.rateLimit), 1),
		metrics:    m,
		logger:     logger,
		maxRetries: s.maxRetries,
		waitMin:    s.retryWaitMin,
		waitMax:    s.retryWaitMax,
	}, nil
}

// CloseIdleConnections closes the client's idle keep-alive connections, for
// example when a config reload replaces it. The client stays usable.
func (c *Client) CloseIdleConnections() {
	c.http.GetClient().CloseIdleConnections()
}

// endpoint is one API method.
type endpoint struct {
	op   string // operation label
	path string // relative to the base URL
}

var (
	epLogin       = endpoint{opLogin, "login/login.json"}
	epLoginLegacy = endpoint{opLogin, "dns/login.json"}
	epGetRecords  = endpoint{opListChecks, "monitoring/get-records.json"}
	epPages       = endpoint{opPageCount, "monitoring/get-records-pages.json"}
	epGetCheck    = endpoint{opGetCheck, "monitoring/get-monitoring-check.json"}
)

// decodeFunc turns a successful body into the caller's result. Its error
// becomes a KindBadResponse *Error, and is counted as such in the metrics.
type decodeFunc func(body []byte) error

// call performs one API call with retries. params must not contain the
// credentials; they are added here, into the POST form only. attempts, if not
// nil, is incremented per HTTP request sent.
func (c *Client) call(ctx context.Context, ep endpoint, params url.Values, decode decodeFunc, attempts *int) error {
	form := c.form(params)
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, ep, form, decode, attempts)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt >= c.maxRetries {
			return err
		}
		wait := backoff(c.waitMin, c.waitMax, attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Waiting would outlive the caller: return the real failure now
			// rather than a less useful deadline error later.
			return err
		}
		c.logger.Warn("retrying cloudns request", "operation", ep.op, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// attempt sends one HTTP request and classifies the outcome.
func (c *Client) attempt(ctx context.Context, ep endpoint, form url.Values, decode decodeFunc, attempts *int) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return &Error{Kind: KindCanceled, Operation: ep.op, Err: err}
	}
	if attempts != nil {
		*attempts++
	}
	start := time.Now()
	resp, err := c.http.R().SetContext(ctx).SetFormDataFromValues(form).Post(ep.path)
	elapsed := time.Since(start)

	var status int
	if resp != nil && resp.RawResponse != nil {
		status = resp.StatusCode()
	}
	var body []byte
	if resp != nil {
		body = resp.Body()
	}
	apiErr := c.classify(ctx, ep.op, status, body, err)
	if apiErr == nil && decode != nil {
		if derr := decode(body); derr != nil {
			apiErr = &Error{Kind: KindBadResponse, Operation: ep.op, HTTPStatus: status, Err: derr}
		}
	}
	c.metrics.observe(ep.op, apiErr, elapsed)
	if apiErr != nil {
		c.logger.Debug("cloudns request failed", "operation", ep.op, "http_status", status, "duration", elapsed, "kind", KindOf(apiErr).String(), "err", apiErr)
		return apiErr
	}
	c.logger.Debug("cloudns request", "operation", ep.op, "duration", elapsed, "body_bytes", len(body))
	return nil
}

// classify turns a transport result into nil or an *Error.
func (c *Client) classify(ctx context.Context, op string, status int, body []byte, err error) error {
	switch {
	case err != nil && errors.Is(err, resty.ErrResponseBodyTooLarge):
		return &Error{Kind: KindBadResponse, Operation: op, HTTPStatus: status, Err: err}
	case err != nil && ctx.Err() != nil:
		return &Error{Kind: KindCanceled, Operation: op, Err: scrub(err, c.password)}
	case err != nil:
		return &Error{Kind: KindTransport, Operation: op, Err: scrub(err, c.password)}
	case status >= 500:
		return &Error{Kind: KindServer, Operation: op, HTTPStatus: status}
	case status == http.StatusTooManyRequests:
		return &Error{Kind: KindRateLimited, Operation: op, HTTPStatus: status}
	case status < 200 || status > 299:
		return &Error{Kind: KindHTTP, Operation: op, HTTPStatus: status}
	}
	if failed, desc := parseFailure(body); failed {
		desc = redact(desc, c.password)
		return &Error{Kind: kindFromDescription(desc), Operation: op, Message: desc, HTTPStatus: status}
	}
	return nil
}

// backoff returns the wait before retry number attempt+1: the shared
// exponential backoff, never below minWait, which keeps a retry after a
// per-second rate-limit block in a later second.
func backoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	return apiclient.Backoff(attempt, minWait, maxWait)
}
