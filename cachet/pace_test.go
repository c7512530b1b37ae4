package cachet

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestPaceFollowsTheStatedLimit(t *testing.T) {
	opts := DefaultOptions()
	opts.BaseURL = "http://127.0.0.1/api"
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := func(limit, remaining string) http.Header {
		return http.Header{"X-Ratelimit-Limit": {limit}, "X-Ratelimit-Remaining": {remaining}}
	}
	c.pace(h("300", "299")) // core's own limit: 4/s is already below 80% of 5/s
	if got := c.limiter.Limit(); got != DefaultRateLimit {
		t.Errorf("under 300/min: %v, want the configured %v", got, DefaultRateLimit)
	}
	c.pace(h("60", "59")) // the app shell's 60 a minute
	if got := c.limiter.Limit(); got != rate.Limit(0.8) {
		t.Errorf("under 60/min: %v, want 0.8/s", got)
	}
	before := time.Now()
	c.pace(h("60", "2")) // nearly spent: wait for the window to turn
	c.pauseMu.Lock()
	until := c.pauseUntil
	c.pauseMu.Unlock()
	if d := until.Sub(before); d < 3*time.Second || d > 5*time.Second {
		t.Errorf("pause with 2 of 60 left = %v, want 4s", d)
	}
	c.pace(http.Header{}) // the limit was lifted
	if got := c.limiter.Limit(); got != DefaultRateLimit {
		t.Errorf("after the limit was lifted: %v, want the configured %v", got, DefaultRateLimit)
	}
}
