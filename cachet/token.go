package cachet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// TokenState is what CheckToken learned about the client's API token.
type TokenState string

// Token states.
const (
	// TokenUnknown: the check could not tell (Cachet unreachable, 5xx,
	// 429, an answer it does not recognise). Not a verdict on the token.
	TokenUnknown TokenState = "unknown"
	// TokenValid: Cachet authenticated the token. Abilities are not
	// checked: a token without one still gets 403 on that write.
	TokenValid TokenState = "valid"
	// TokenInvalid: Cachet refused the token (401): wrong, revoked or
	// expired. Every write will fail.
	TokenInvalid TokenState = "invalid"
	// TokenMissing: no token is configured and Cachet requires one.
	TokenMissing TokenState = "missing"
	// TokenNotRequired: Cachet accepts writes without authentication (the
	// 2024-10 core), so no token can be wrong.
	TokenNotRequired TokenState = "not_required"
)

// TokenStates lists every state, for metrics.
var TokenStates = []TokenState{TokenValid, TokenInvalid, TokenMissing, TokenNotRequired, TokenUnknown}

// opCheckToken is CheckToken's requests in the client's metrics and logs.
var opCheckToken = operation{name: "check_token"}

// tokenProbeBody is a component without its required name: Cachet rejects
// it with 422 after authenticating and before writing anything.
var tokenProbeBody = []byte(`{}`)

// CheckToken tells whether Cachet accepts the client's token, without
// writing anything. Reads need no token on Cachet, so a wrong or revoked
// token is otherwise invisible until the first write. Cachet authenticates
// a request before it validates the body (/work/shared/realcachet
// observed-modern.md: POST /components with a bad token answers 401, an
// authenticated POST {} answers 422), so an invalid body with the token
// tells a bad token (401) from a good one (422). The same invalid body
// without a token tells a core that requires authentication (401) from one
// that has none (422, the 2024-10 core: observed-locked.md). The error
// says why the state is TokenUnknown, and is nil otherwise.
func (c *Client) CheckToken(ctx context.Context) (TokenState, error) {
	anon, err := c.probeAuth(ctx, false)
	if err != nil {
		return TokenUnknown, err
	}
	switch {
	case anon == http.StatusUnprocessableEntity:
		return TokenNotRequired, nil
	case anon != http.StatusUnauthorized:
		return TokenUnknown, c.unexpected(anon, "without a token")
	case c.token == "":
		return TokenMissing, nil
	}
	status, err := c.probeAuth(ctx, true)
	if err != nil {
		return TokenUnknown, err
	}
	switch status {
	case http.StatusUnprocessableEntity, http.StatusForbidden:
		// 403 is an authenticated token without the ability.
		return TokenValid, nil
	case http.StatusUnauthorized:
		return TokenInvalid, nil
	}
	return TokenUnknown, c.unexpected(status, "with the token")
}

func (c *Client) unexpected(status int, how string) error {
	if status >= 200 && status < 300 {
		// Cachet accepted a component without a name: it wrote one.
		return fmt.Errorf("cachet: %s: POST /components {} %s answered %d, not 401 or 422: this server does not validate like Cachet 3, and may have created an empty component", opCheckToken.name, how, status)
	}
	return fmt.Errorf("cachet: %s: POST /components {} %s answered %d %s, not 401 or 422", opCheckToken.name, how, status, http.StatusText(status))
}

// probeAuth sends the invalid body once, with or without the token, and
// returns the status code. It never retries: the next check will.
func (c *Client) probeAuth(ctx context.Context, withToken bool) (int, error) {
	if err := c.wait(ctx); err != nil {
		return 0, fmt.Errorf("cachet: %s: wait for rate limit: %w", opCheckToken.name, err)
	}
	if withToken {
		status, _, _, err := c.send(ctx, apiRequest{op: opCheckToken, method: http.MethodPost, path: "/components", body: tokenProbeBody})
		if err != nil {
			return 0, fmt.Errorf("cachet: %s: %w", opCheckToken.name, err)
		}
		return status, nil
	}
	// resty adds the client's token to every request; this one must go
	// without, so it uses the same transport (TLS, timeout, no redirects)
	// directly.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/components", bytes.NewReader(tokenProbeBody))
	if err != nil {
		return 0, fmt.Errorf("cachet: %s: %w", opCheckToken.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.http.Header.Get("User-Agent"))
	start := time.Now()
	resp, err := c.http.GetClient().Do(req)
	if err != nil {
		c.metrics.observe(opCheckToken, 0, time.Since(start))
		return 0, fmt.Errorf("cachet: %s: %w", opCheckToken.name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	c.metrics.observe(opCheckToken, resp.StatusCode, time.Since(start))
	return resp.StatusCode, nil
}
