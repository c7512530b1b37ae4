package apiclient

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestBackoff(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name     string
		backoff  func(retry int, minWait, maxWait time.Duration) time.Duration
		retry    int
		min, max time.Duration
		lo, hi   time.Duration
	}{
		// Backoff: the jitter above the doubling, never below it.
		{"Backoff", Backoff, 0, s, 10 * s, s, 1500 * time.Millisecond},
		{"Backoff", Backoff, 1, s, 10 * s, 2 * s, 3 * s},
		{"Backoff", Backoff, 2, s, 10 * s, 4 * s, 6 * s},
		{"Backoff", Backoff, 3, s, 10 * s, 8 * s, 10 * s},
		{"Backoff", Backoff, 40, s, 10 * s, 10 * s, 10 * s},
		{"Backoff", Backoff, 0, 0, 0, 0, 0},
		// BackoffBelow: from half the minimum up to the doubling.
		{"BackoffBelow", BackoffBelow, 0, s, 10 * s, s / 2, s},
		{"BackoffBelow", BackoffBelow, 1, s, 10 * s, s / 2, 2 * s},
		{"BackoffBelow", BackoffBelow, 2, s, 10 * s, s / 2, 4 * s},
		{"BackoffBelow", BackoffBelow, 3, s, 10 * s, s / 2, 8 * s},
		{"BackoffBelow", BackoffBelow, 40, s, 10 * s, s / 2, 10 * s},
		{"BackoffBelow", BackoffBelow, 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s retry %d min %s", tt.name, tt.retry, tt.min), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			var top time.Duration
			for range 400 {
				got := tt.backoff(tt.retry, tt.min, tt.max)
				if got < tt.lo || got > tt.hi {
					t.Fatalf("%s = %s, want within [%s, %s]", tt.name, got, tt.lo, tt.hi)
				}
				seen[got] = true
				top = max(top, got)
			}
			if tt.lo != tt.hi && len(seen) < 10 {
				t.Errorf("no jitter: %d distinct values", len(seen))
			}
			// The waits spread over the whole range: the largest come
			// near its top.
			if tt.hi > tt.lo && top < tt.hi-(tt.hi-tt.lo)/4 {
				t.Errorf("largest of 400 waits %s, want near the top %s", top, tt.hi)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 60 ", time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestRegisterOrReuse(t *testing.T) {
	reg := prometheus.NewRegistry()
	mk := func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"a"})
	}
	first, err := RegisterOrReuse(reg, mk())
	if err != nil {
		t.Fatal(err)
	}
	second, err := RegisterOrReuse(reg, mk())
	if err != nil || second != first {
		t.Fatalf("second registration: %v, reused %v", err, second == first)
	}
	clash := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "x_total", Help: "other"}, []string{"b"})
	if _, err := RegisterOrReuse(reg, clash); err == nil {
		t.Error("a different collector under the same name was accepted")
	}
	if c, err := RegisterOrReuse(nil, mk()); err != nil || c == nil {
		t.Errorf("nil registry: %v", err)
	}
}

func TestPages(t *testing.T) {
	tests := []struct {
		name  string
		next  func(page int) int
		want  []int
		isErr bool
	}{
		{"three pages", func(p int) int { return map[int]int{1: 2, 2: 3}[p] }, []int{1, 2, 3}, false},
		{"jump ahead", func(p int) int { return map[int]int{1: 5}[p] }, []int{1, 5}, false},
		{"repeated page number moves on", func(p int) int {
			if p < 3 {
				return 1
			}
			return 0
		}, []int{1, 2, 3}, false},
		{"never ends", func(p int) int { return p + 1 }, []int{1, 2, 3, 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			err := Pages(4, func(page int) (int, error) {
				got = append(got, page)
				return tt.next(page), nil
			})
			if (err != nil) != tt.isErr || tt.isErr && !errors.Is(err, ErrTooManyPages) {
				t.Fatalf("err = %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("pages = %v, want %v", got, tt.want)
			}
		})
	}
	boom := errors.New("boom")
	if err := Pages(4, func(int) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("fetch error lost: %v", err)
	}
}

func TestRestyLoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	l := RestyLogger{Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Redact: func(s string) string { return strings.ReplaceAll(s, "s3cret", "<redacted>") }}
	l.Errorf("POST with password=%s failed", "s3cret")
	l.Debugf("retrying %s", "s3cret")
	if strings.Contains(buf.String(), "s3cret") || strings.Count(buf.String(), "<redacted>") != 2 {
		t.Errorf("log = %s", buf.String())
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "level=DEBUG") {
		t.Errorf("levels: %s", buf.String())
	}
}
