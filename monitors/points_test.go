package monitors

import (
	"slices"
	"testing"
)

// TestStorePointsReusesTheLastChecksIndexes: converting a sample with the
// previous check's points gives exactly what converting it alone gives,
// whether the gauges are the same, reordered, fewer, more, with new extra
// label values, or of a family no one renders.
func TestStorePointsReusesTheLastChecksIndexes(t *testing.T) {
	phases := func(v float64, names ...string) []point {
		var out []point
		for _, n := range names {
			out = append(out, point{family: "probe_http_duration_seconds", extra: n, value: v})
		}
		return out
	}
	base := append([]point{{family: "probe_http_status_code", value: 200}}, phases(0.1, "resolve", "connect", "tls")...)
	samples := [][]point{
		base,
		base, // the same gauges, new values below
		append(phases(0.2, "tls", "connect", "resolve"), point{family: "probe_http_status_code", value: 503}),
		base[:2],
		append(slices.Clone(base), point{family: "probe_tls_version_info", extra: "TLS 1.3", value: 1}),
		append([]point{{family: "not_a_family", value: 1}}, base...),
		append(phases(0.3, "resolve", "a-new-phase-"+t.Name()), point{family: "probe_http_status_code", value: 200}),
		nil,
		base,
	}
	var prev []storedPoint
	for i, pts := range samples {
		for j := range pts {
			pts[j].value += float64(i) // values always new
		}
		s := &sample{points: pts}
		want := storePoints(s, nil)
		got := storePoints(s, prev)
		if !slices.Equal(got, want) {
			t.Errorf("sample %d: with the last check's points %v, alone %v", i, got, want)
		}
		prev = got
	}
}
