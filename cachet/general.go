package cachet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Ping calls GET /ping. It succeeds only when the response is Cachet's JSON
// {"data": ...}, so that a base URL pointing at some other web page (a
// missing "/api" or "/status" prefix) is reported rather than accepted.
func (c *Client) Ping(ctx context.Context) error {
	body, err := c.do(ctx, apiRequest{op: opPing, method: http.MethodGet, path: "/ping"})
	if err != nil {
		return err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Data) == 0 {
		return fmt.Errorf("cachet: ping: response is not the cachet api; check the base url and its path prefix")
	}
	return nil
}

// Version returns the Cachet version string from GET /version, for example
// "3.x-dev". Cachet 3 has no other version signal (reference §1.1).
func (c *Client) Version(ctx context.Context) (string, error) {
	body, err := c.do(ctx, apiRequest{op: opVersion, method: http.MethodGet, path: "/version"})
	if err != nil {
		return "", err
	}
	var env struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", fmt.Errorf("cachet: version: decode response: %w", err)
	}
	return strings.TrimSpace(env.Data.Version), nil
}
