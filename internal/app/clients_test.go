package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/buildinfo"
)

// TestCachetOptionsComeFromTheConfig: every cachet key reaches the client
// options, unset keys arrive as config's defaults (not as zero values the
// client would have to fill in), and what the configuration has no key for
// is cachet's documented default.
func TestCachetOptionsComeFromTheConfig(t *testing.T) {
	tests := []struct {
		name    string
		cachet  string
		timeout time.Duration
		rate    float64
		zone    string
	}{
		{"set", `{url: "https://status.example.org/api", token: "1|secretTokenValue", timeout: 3s, rate_limit: 2.5, timezone: Asia/Tokyo}`,
			3 * time.Second, 2.5, "Asia/Tokyo"},
		{"defaults", `{url: "https://status.example.org/api", token: "1|secretTokenValue"}`,
			config.Default().Cachet.Timeout, config.Default().Cachet.RateLimit, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "statussync.yml")
			if err := os.WriteFile(path, []byte("cachet: "+tt.cachet+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := CachetOptions(cfg.Cachet)
			if got.BaseURL != "https://status.example.org/api" {
				t.Errorf("base url = %q", got.BaseURL)
			}
			if got.Token != "1|secretTokenValue" {
				t.Error("the token is not the configured one") // not printed
			}
			if got.Timeout != tt.timeout || got.RateLimit != tt.rate {
				t.Errorf("timeout, rate limit = %v, %v, want %v, %v", got.Timeout, got.RateLimit, tt.timeout, tt.rate)
			}
			if got.Location == nil || got.Location.String() != tt.zone {
				t.Errorf("location = %v, want %s", got.Location, tt.zone)
			}
			if want := "statussync/" + buildinfo.Get().Version; got.UserAgent != want {
				t.Errorf("user agent = %q, want %q", got.UserAgent, want)
			}
			def := cachet.DefaultOptions()
			if got.MaxRetries != def.MaxRetries || got.RetryWaitMin != def.RetryWaitMin || got.RetryWaitMax != def.RetryWaitMax ||
				got.RateBurst != def.RateBurst || got.RateLimitWindow != def.RateLimitWindow {
				t.Errorf("retries %d, waits %v..%v, burst %d, window %v, want cachet's defaults",
					got.MaxRetries, got.RetryWaitMin, got.RetryWaitMax, got.RateBurst, got.RateLimitWindow)
			}
			c, err := cachet.New(got)
			if err != nil {
				t.Fatalf("the client refuses the options of a valid config: %v", err)
			}
			c.CloseIdleConnections()
		})
	}
}
