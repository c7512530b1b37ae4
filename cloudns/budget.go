package cloudns

import "time"

// Budget returns how long calls requests may take under the options this
// client actually runs with: every call's attempt timeout and rate-limiter
// slot, plus one call's whole series of retries (each a further attempt and
// its longest backoff wait, jitter included). Callers use it to size a
// deadline that does not cut the client's own retries short.
func (c *Client) Budget(calls int) time.Duration {
	attempt := c.http.GetClient().Timeout
	if lim := float64(c.limiter.Limit()); lim > 0 {
		attempt += time.Duration(float64(time.Second) / lim)
	}
	d := time.Duration(calls+c.maxRetries) * attempt
	for i := range c.maxRetries {
		w := c.waitMax
		if i < 30 {
			w = min(c.waitMax, c.waitMin<<i)
		}
		d += w + w/2
	}
	return d
}
