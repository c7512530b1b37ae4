// Package tokencheck keeps checking that Cachet accepts statussync's API
// token. Reads need no token on Cachet, so a page that already matches
// hides a wrong or revoked token until the first write that matters, in the
// middle of an outage. The Checker asks Cachet at start, after every
// configuration change and every resync interval (cachet.Client.CheckToken
// writes nothing) while this replica leads, and shows the answer in a metric, an alert
// (StatussyncCachetTokenRejected) and /readyz's detail.
package tokencheck

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cachet"
)

// Client is what the Checker asks: *cachet.Client.
type Client interface {
	CheckToken(ctx context.Context) (cachet.TokenState, error)
}

// Checker runs the token check and remembers its outcome.
type Checker struct {
	log   *slog.Logger
	state *prometheus.GaugeVec
	when  prometheus.Gauge
	kick  chan struct{}

	mu       sync.Mutex
	client   Client
	interval time.Duration
	verdict  cachet.TokenState // the last answer that was not unknown
	at       time.Time         // when verdict was learnt
	lastErr  error             // why the last check could not tell, or nil
}

// New registers the Checker's metrics with reg.
func New(reg prometheus.Registerer, logger *slog.Logger) *Checker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Checker{
		log: logger,
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statussync_cachet_token_state",
			Help: "What Cachet last said about the API token: 1 for the current state (valid, invalid, missing, not_required), 0 for the others; all 0 until Cachet has answered, when writing is off, and on a replica that does not lead (only the leader talks to Cachet).",
		}, []string{"state"}),
		when: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_cachet_token_last_check_timestamp_seconds",
			Help: "When Cachet last answered the token check (0: never).",
		}),
		kick: make(chan struct{}, 1),
	}
	c.setState("")
	if reg != nil {
		reg.MustRegister(c.state, c.when)
	}
	return c
}

// SetClient sets the Cachet client to check and how often; nil means
// statussync does not write to Cachet (dry run), and nothing is checked. A
// check follows soon after.
func (c *Checker) SetClient(client Client, interval time.Duration) {
	c.mu.Lock()
	changed := c.client != client
	c.client, c.interval = client, interval
	if changed {
		c.forgetLocked()
	}
	c.mu.Unlock()
	if changed {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Run checks now, then every interval and after every SetClient, until ctx
// ends. The app runs it only inside a leadership term (a follower sends
// Cachet nothing), so when ctx ends the verdict is forgotten: it was the
// term's, and the gauges go back to all 0 until the next Run has an answer.
func (c *Checker) Run(ctx context.Context) {
	defer c.forget()
	select {
	case <-c.kick: // a SetClient before Run asked for the check Run makes now
	default:
	}
	c.Check(ctx)
	for {
		c.mu.Lock()
		interval := c.interval
		c.mu.Unlock()
		if interval <= 0 {
			interval = 5 * time.Minute
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.kick:
			t.Stop()
		case <-t.C:
		}
		c.Check(ctx)
	}
}

// Check asks Cachet once and returns the answer.
func (c *Checker) Check(ctx context.Context) cachet.TokenState {
	c.mu.Lock()
	client := c.client
	c.mu.Unlock()
	if client == nil {
		return cachet.TokenUnknown
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	state, err := client.CheckToken(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != client {
		return state // replaced meanwhile; the new client gets its own check
	}
	if state == cachet.TokenUnknown {
		c.lastErr = err
		c.log.Warn("could not check the Cachet API token", "err", err)
		return state
	}
	if state != c.verdict {
		switch state {
		case cachet.TokenInvalid:
			c.log.Error("Cachet refuses the API token (401): every write will fail; replace cachet.token (docs/cachet-token.md)")
		case cachet.TokenMissing:
			c.log.Error("Cachet requires an API token and none is configured: every write will fail (docs/cachet-token.md)")
		case cachet.TokenNotRequired:
			c.log.Warn("Cachet accepts writes without authentication (no auth required on this core): anyone can change the page")
		default:
			c.log.Info("Cachet accepts the API token")
		}
	}
	c.verdict, c.at, c.lastErr = state, time.Now(), nil
	c.setState(state)
	c.when.Set(float64(c.at.UnixNano()) / 1e9)
	return state
}

// forget drops the last verdict, as SetClient does for a new client.
func (c *Checker) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked()
}

func (c *Checker) forgetLocked() {
	c.verdict, c.at, c.lastErr = "", time.Time{}, nil
	c.setState("")
	c.when.Set(0)
}

// setState sets the state gauge: 1 for current, 0 for every other state
// (all 0 for ""). Unknown is not a state of the gauge.
func (c *Checker) setState(current cachet.TokenState) {
	for _, s := range cachet.TokenStates {
		if s == cachet.TokenUnknown {
			continue
		}
		v := 0.0
		if s == current {
			v = 1
		}
		c.state.WithLabelValues(string(s)).Set(v)
	}
}

// State returns the last answer Cachet gave (unknown when none yet).
func (c *Checker) State() cachet.TokenState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verdict == "" {
		return cachet.TokenUnknown
	}
	return c.verdict
}

// Detail is one line for /readyz: what Cachet said about the token, when,
// and why the last check could not tell, if it could not.
func (c *Checker) Detail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s string
	switch {
	case c.client == nil:
		return "cachet token: not checked (no Cachet writing: dry run)"
	case c.verdict == "":
		s = "cachet token: not checked yet"
	case c.verdict == cachet.TokenValid:
		s = "cachet token: valid"
	case c.verdict == cachet.TokenInvalid:
		s = "cachet token: INVALID (Cachet answered 401: wrong, revoked or expired; writes will fail)"
	case c.verdict == cachet.TokenMissing:
		s = "cachet token: MISSING (Cachet requires one; writes will fail)"
	case c.verdict == cachet.TokenNotRequired:
		s = "cachet token: no auth required (this Cachet accepts writes without a token)"
	}
	if !c.at.IsZero() {
		s += fmt.Sprintf(", checked %s ago", time.Since(c.at).Round(time.Second))
	}
	if c.lastErr != nil {
		s += fmt.Sprintf("; last check could not tell: %v", c.lastErr)
	}
	return s
}
