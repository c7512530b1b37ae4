package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// runCloudNS counts ClouDNS API calls per poll for an account of 1,000
// checks (a few down) watched by 1,000 cloudns monitors, against the
// minimum: every page of the unfiltered list plus every page of the two
// status-filtered lists (docs/cloudns.md).
func runCloudNS(ctx context.Context, e *env) ([]row, []string, error) {
	const checks, down, perPage = 1000, 5, 100
	fake := cloudnstest.NewServer()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer fake.Close()
	fake.AddIdentity(cloudnstest.Identity{AuthID: 4242, Password: "bench-password"})
	ids := fake.Seed(checks)
	for _, id := range ids[:down] {
		fake.SetCheckStatus(id, cloudnstest.StatusDown)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cloudns: {url: %q, auth_id: 4242, poll_interval: 10s, timeout: 5s}\ndefaults: {interval: 10s, timeout: 9s}\nmonitors:\n", srv.URL)
	for i, id := range ids {
		fmt.Fprintf(&b, "  - {name: c%04d, cloudns: {check_id: %d}}\n", i, id)
	}
	d, err := startDaemon(ctx, e, "cloudns", b.String(), "STATUSSYNC_CLOUDNS__PASSWORD=bench-password")
	if err != nil {
		return nil, nil, err
	}
	defer d.stop()
	// Let the first poll finish, then count whole polls.
	polls := func() float64 {
		m, err := d.scrape()
		if err != nil {
			return 0
		}
		h := histogramOf(m, "statussync_cloudns_poll_duration_seconds")
		return h.count
	}
	if err := waitUntil(ctx, 60*time.Second, "the first poll", func() bool { return polls() >= 1 }); err != nil {
		return nil, nil, err
	}
	p0, c0 := polls(), fake.CallCount(cloudnstest.PathGetRecords)+fake.CallCount(cloudnstest.PathGetRecordsPages)
	if err := waitUntil(ctx, 60*time.Second, "three more polls", func() bool { return polls() >= p0+3 }); err != nil {
		return nil, nil, err
	}
	p1, c1 := polls(), fake.CallCount(cloudnstest.PathGetRecords)+fake.CallCount(cloudnstest.PathGetRecordsPages)
	m, err := d.scrape()
	if err != nil {
		return nil, nil, err
	}
	perPoll := float64(c1-c0) / (p1 - p0)
	pages := func(n int) int { return n/perPage + 1 }
	minimum := pages(checks) + pages(down) + pages(checks-down)
	errs := 0.0
	for _, k := range []string{"auth", "permission", "rate_limited", "http_5xx", "http_other", "transport", "canceled", "bad_response", "not_found", "other"} {
		errs += value(m, "statussync_cloudns_poll_errors_total", "kind", k)
	}
	logf("cloudns: %.1f calls per poll over %.0f polls (gauge %v), minimum %d, %v failed polls, %v down",
		perPoll, p1-p0, value(m, "statussync_cloudns_poll_calls"), minimum, errs, value(m, "statussync_monitors", "state", "down"))
	rows := []row{{
		name:     fmt.Sprintf("5. ClouDNS API calls per poll, %d checks (%d down), %d monitors", checks, down, checks),
		measured: fmt.Sprintf("**%.1f** (%.0f polls)", perPoll, p1-p0),
		target:   fmt.Sprintf("%d = pages %d + status filters %d + %d", minimum, pages(checks), pages(down), pages(checks-down)),
		verdict:  verdict(perPoll, float64(minimum), " calls"),
	}}
	var notes []string
	if errs > 0 {
		notes = append(notes, fmt.Sprintf("ClouDNS: %.0f polls failed during the run.", errs))
	}
	return rows, notes, nil
}
