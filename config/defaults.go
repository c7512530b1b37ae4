package config

import "time"

// Default returns the built-in defaults, the lowest configuration layer.
// With nothing else loaded it is a valid, empty dry-run configuration.
func Default() *Config {
	return &Config{
		Cachet: CachetConfig{
			Timeout: 10 * time.Second,
			// Cachet's default limit is 300/min; stay at 80% of it so a
			// reconcile burst never trips it.
			RateLimit:            4,
			ResyncInterval:       5 * time.Minute,
			Backoff:              BackoffConfig{Min: time.Second, Max: time.Minute},
			RespectManualChanges: true,
		},
		CloudNS: CloudNSConfig{
			URL:          "https://api.cloudns.net",
			PollInterval: time.Minute,
			Timeout:      10 * time.Second,
			// ClouDNS allows 20/s per IP, shared with anything else the
			// account runs from the same address.
			RateLimit: 5,
		},
		// client-go's leader election defaults.
		HA: HAConfig{
			LeaseName:     "statussync",
			LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second,
			RetryPeriod:   2 * time.Second,
		},
		Defaults: MonitorDefaults{
			Interval:           60 * time.Second,
			Timeout:            10 * time.Second,
			FailuresBeforeDown: 2,
			SuccessesBeforeUp:  2,
		},
	}
}

// applyDefaults fills every monitor's unset fields from the defaults block.
// It runs after decoding and before validation, so validation sees the
// effective values.
func (c *Config) applyDefaults() {
	for i := range c.Monitors {
		m := &c.Monitors[i]
		if m.Interval == 0 && m.Schedule == "" {
			m.Interval = c.Defaults.Interval
		}
		if m.Timeout == 0 {
			m.Timeout = c.Defaults.Timeout
			// A short interval with the default timeout would be invalid;
			// keep blackbox's margin instead of rejecting a config that
			// never chose a timeout.
			if m.Interval > 0 && m.Timeout >= m.Interval {
				m.Timeout = m.Interval * 9 / 10
			}
		}
		if m.FailuresBeforeDown == 0 {
			m.FailuresBeforeDown = c.Defaults.FailuresBeforeDown
		}
		if m.SuccessesBeforeUp == 0 {
			m.SuccessesBeforeUp = c.Defaults.SuccessesBeforeUp
		}
		if m.Outage == "" {
			m.Outage = OutageMajor
		}
	}
	for i := range c.Components {
		if c.Components[i].Rule == "" {
			c.Components[i].Rule = RuleWorst
		}
	}
}
