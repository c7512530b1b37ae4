// Package apiclient is the plumbing the statussync API clients (cachet and
// cloudns) share: backoff between retries, Retry-After parsing, a resty
// logger that scrubs secrets, register-or-reuse for Prometheus collectors,
// and a pagination loop. It imports nothing of statussync, so the clients
// stay reusable adapters (as alertmanager's integrations share
// notify/util.go).
//
// What differs between the clients stays in them: which failures may be
// retried (Cachet by HTTP status and whether a create can have been
// processed, ClouDNS by the error kinds its 200 bodies report), the
// decoding of their documents, and their error types.
package apiclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backoff returns the wait before retry number retry (0 for the first
// retry): exponential from minWait, doubling per retry, plus up to half
// again as jitter so that clients do not retry in lockstep, capped at
// maxWait. It never goes below minWait, so that a retry after a
// per-second or per-minute block lands in a later window (ClouDNS's
// per-second limit).
func Backoff(retry int, minWait, maxWait time.Duration) time.Duration {
	d := ceiling(retry, minWait, maxWait)
	if d > 0 {
		d += rand.N(d/2 + 1)
	}
	return min(d, maxWait)
}

// BackoffBelow returns the wait before retry number retry (0 for the
// first retry) with the jitter below the exponential ceiling: uniform
// between minWait/2 and minWait doubled per retry, capped at maxWait. A
// client whose rate limits come with Retry-After (Cachet) has no window to
// clear, and retrying early keeps one failed call short: at 0.5 s the
// three retries wait 0.75-3.5 s in all, against 3.5-5.25 s with Backoff.
func BackoffBelow(retry int, minWait, maxWait time.Duration) time.Duration {
	hi := min(ceiling(retry, minWait, maxWait), maxWait)
	lo := minWait / 2
	if hi <= lo {
		return hi
	}
	return lo + rand.N(hi-lo+1)
}

// ceiling is minWait doubled retry times, stopping at maxWait.
func ceiling(retry int, minWait, maxWait time.Duration) time.Duration {
	d := minWait
	for range retry {
		if d >= maxWait/2 {
			return maxWait
		}
		d *= 2
	}
	return d
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date (RFC 9110 §10.2.3). It reports false for an absent or malformed
// value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Sleep waits for d or until ctx ends, and returns ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RestyLogger forwards resty's own diagnostics to slog: errors and
// warnings at warning level, debug at debug level, each through Redact so
// that a message quoting a request cannot leak a secret. resty is never
// put in debug mode, so its messages carry no headers.
type RestyLogger struct {
	Log    *slog.Logger
	Redact func(string) string
}

func (l RestyLogger) emit(level slog.Level, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	if l.Redact != nil {
		msg = l.Redact(msg)
	}
	l.Log.Log(context.Background(), level, "resty message", "detail", msg)
}

// Errorf implements resty.Logger.
func (l RestyLogger) Errorf(format string, v ...any) { l.emit(slog.LevelWarn, format, v) }

// Warnf implements resty.Logger.
func (l RestyLogger) Warnf(format string, v ...any) { l.emit(slog.LevelWarn, format, v) }

// Debugf implements resty.Logger.
func (l RestyLogger) Debugf(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }

// RegisterOrReuse registers c with reg, or returns the equal collector an
// earlier client registered: clients are rebuilt on every configuration
// reload with the same registry. A nil reg returns c unregistered.
func RegisterOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}

// ErrTooManyPages is returned by Pages when a listing does not end within
// its page limit: a server that ignores the page parameter, for example.
var ErrTooManyPages = errors.New("pagination does not end")

// Pages is the one pagination loop: it calls fetch for page 1 and then for
// the page fetch names as next, until fetch reports next 0 (the last page)
// or an error. A next at or below the current page moves one page on, so
// that a server repeating a page number cannot hold the loop. After
// maxPages pages it returns ErrTooManyPages (wrapped with the count).
func Pages(maxPages int, fetch func(page int) (next int, err error)) error {
	page := 1
	for range maxPages {
		next, err := fetch(page)
		if err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		page = max(next, page+1)
	}
	return fmt.Errorf("more than %d pages: %w", maxPages, ErrTooManyPages)
}

// CheckRequestOptions returns a problem for each of the request options
// both clients take that cannot work, naming the Options field and its
// value: a timeout and retry waits that are not positive, a negative retry
// count (0 disables retries), an empty user agent or one with control
// characters.
func CheckRequestOptions(timeout time.Duration, userAgent string, maxRetries int, waitMin, waitMax time.Duration) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if timeout <= 0 {
		bad("Timeout %v must be positive", timeout)
	}
	if userAgent == "" {
		bad("UserAgent is empty")
	} else if strings.ContainsFunc(userAgent, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		bad("UserAgent %q contains control characters", userAgent)
	}
	if maxRetries < 0 {
		bad("MaxRetries %d must not be negative (0 disables retries)", maxRetries)
	}
	if waitMin <= 0 {
		bad("RetryWaitMin %v must be positive", waitMin)
	}
	if waitMax < waitMin {
		bad("RetryWaitMax %v must not be below RetryWaitMin %v", waitMax, waitMin)
	}
	return errs
}
