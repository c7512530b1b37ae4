package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// knownMetrics are the metric names statussync exports (docs/metrics.md,
// issue #7), plus what Prometheus and client_golang's Go and process
// collectors add. The alert rules and the dashboard may use only these, so a
// misspelt name fails here instead of making a panel or an alert silently
// empty. Histograms are listed by base name.
var knownMetrics = map[string]bool{
	// Build and configuration.
	"statussync_build_info":                                   true,
	"statussync_config_last_reload_successful":                true,
	"statussync_config_last_reload_success_timestamp_seconds": true,
	// Engine.
	"statussync_component_desired_status":                 true,
	"statussync_component_observed_status":                true,
	"statussync_component_transitions_total":              true,
	"statussync_monitor_transitions_total":                true,
	"statussync_monitors":                                 true,
	"statussync_cachet_writes_total":                      true,
	"statussync_reconcile_errors_total":                   true,
	"statussync_reconcile_last_success_timestamp_seconds": true,
	"statussync_monitor_panics_total":                     true,
	"statussync_monitor_runs_skipped_total":               true,
	// Cachet client.
	"statussync_cachet_requests_total":                     true,
	"statussync_cachet_token_state":                        true,
	"statussync_cachet_token_last_check_timestamp_seconds": true,
	// ClouDNS.
	"statussync_cloudns_requests_total":                      true,
	"statussync_cloudns_poll_errors_total":                   true,
	"statussync_cloudns_last_poll_success_timestamp_seconds": true,
	"statussync_cloudns_checks":                              true,
	// HA.
	"statussync_leader":                              true,
	"statussync_leader_transitions_total":            true,
	"statussync_leader_last_renew_timestamp_seconds": true,
	// Monitors: statussync's own and blackbox_exporter's probe_* names.
	"statussync_monitor_checks_total":               true,
	"probe_success":                                 true,
	"probe_duration_seconds":                        true,
	"probe_dns_lookup_time_seconds":                 true,
	"probe_ip_protocol":                             true,
	"probe_ip_addr_hash":                            true,
	"probe_failed_due_to_regex":                     true,
	"probe_http_duration_seconds":                   true,
	"probe_http_status_code":                        true,
	"probe_http_content_length":                     true,
	"probe_http_uncompressed_body_length":           true,
	"probe_http_redirects":                          true,
	"probe_http_ssl":                                true,
	"probe_http_version":                            true,
	"probe_http_last_modified_timestamp_seconds":    true,
	"probe_ssl_earliest_cert_expiry":                true,
	"probe_ssl_last_chain_expiry_timestamp_seconds": true,
	"probe_tls_version_info":                        true,
	"probe_tls_cipher_info":                         true,
	"probe_dns_duration_seconds":                    true,
	"probe_dns_answer_rrs":                          true,
	"probe_dns_authority_rrs":                       true,
	"probe_dns_additional_rrs":                      true,
	"probe_dns_query_succeeded":                     true,
	"probe_dns_serial":                              true,
	// Prometheus and client_golang's collectors.
	"up":                            true,
	"process_start_time_seconds":    true,
	"process_resident_memory_bytes": true,
	"process_cpu_seconds_total":     true,
	"go_goroutines":                 true,
}

// knownHistograms are queried through their _bucket, _sum and _count
// series.
var knownHistograms = map[string]bool{
	"statussync_scheduler_lateness_seconds":       true,
	"statussync_cachet_request_duration_seconds":  true,
	"statussync_cloudns_request_duration_seconds": true,
	"statussync_monitor_check_duration_seconds":   true,
	"statussync_cloudns_poll_duration_seconds":    true,
}

// metricNames returns the metric names an expression selects.
func metricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			bad = fmt.Errorf("selector %s has no metric name", vs)
		}
		names = append(names, name)
		return nil
	})
	return names, bad
}

// unknownMetrics returns the names in expr that are not known.
func unknownMetrics(expr string) ([]string, error) {
	names, err := metricNames(expr)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, n := range names {
		if knownMetrics[n] {
			continue
		}
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if base != n && knownHistograms[base] {
			continue
		}
		if !slices.Contains(unknown, n) {
			unknown = append(unknown, n)
		}
	}
	return unknown, nil
}

func TestUnknownMetrics(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`probe_success{monitor="x"} == 0`, nil},
		{`histogram_quantile(0.9, rate(statussync_cachet_request_duration_seconds_bucket[5m]))`, nil},
		{`probe_sucess == 0 or statussync_leaders`, []string{"probe_sucess", "statussync_leaders"}},
		// Only histograms have _bucket series.
		{`rate(statussync_cachet_requests_total_count[5m])`, []string{"statussync_cachet_requests_total_count"}},
		{`{__name__="statussync_leader"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := unknownMetrics(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
