package cachet

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Pacing from the server's own rate-limit headers (reference §1.6, §9.1).
//
// Cachet's core allows 300 requests a minute, but the app shell's
// published config stacks Laravel's 60 a minute on top, and a client that
// only knows its own configured rate (4 a second) would be refused within
// seconds of a start-up that writes a hundred components. Every answer
// carries X-RateLimit-Limit and X-RateLimit-Remaining, so the client slows
// to the limit the server states and, when the remaining budget runs low
// (another replica or a person's script shares it), pauses until the
// window has had time to turn.

// paceShare is the part of the stated limit the client uses: a margin for
// the requests a window boundary lets through twice, and for retries.
const paceShare = 0.8

// maxRetryAfter bounds how long one Retry-After may hold the client back.
const maxRetryAfter = 2 * time.Minute

// DefaultRateLimitWindow is the period Laravel's throttle counts over.
const DefaultRateLimitWindow = time.Minute

// pace adapts the client's request rate to the limit a response states,
// never above the configured one; a response that states no limit (the
// limit was lifted) restores the configured rate.
func (c *Client) pace(h http.Header) {
	limit, ok := headerInt(h, "X-RateLimit-Limit")
	target, burst := c.configuredRate, c.configuredBurst
	if ok && limit > 0 {
		// Also when client-side limiting was switched off (an infinite
		// configured rate): going past the server's limit only earns 429s.
		if t := rate.Limit(float64(limit) / c.window.Seconds() * paceShare); t < target {
			target, burst = t, max(1, min(burst, limit/20))
		}
	}
	c.paceMu.Lock()
	changed := c.limiter.Limit() != target
	if changed {
		c.limiter.SetLimit(target)
		c.limiter.SetBurst(burst)
	}
	c.paceMu.Unlock()
	if changed && target == c.configuredRate {
		c.log.Info("cachet states no lower rate limit, back to the configured rate")
	} else if changed {
		c.log.Info("pacing cachet requests to the server's rate limit",
			"limit_per_window", limit, "window", c.window, "requests_per_second", float64(target))
	}

	// Less than a tenth of the budget left: let the window turn before
	// spending the rest, one request interval per missing request.
	remaining, hasRemaining := headerInt(h, "X-RateLimit-Remaining")
	if ok && limit > 0 && hasRemaining && remaining < limit/10 {
		interval := time.Duration(float64(c.window) / float64(limit))
		c.pause(time.Duration(limit/10-remaining) * interval)
	}
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}
