package cloudns

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOptionsResolve(t *testing.T) {
	valid := Options{AuthID: 1, Password: "pw"}
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
		check   func(testing.TB, settings)
	}{
		{name: "defaults", check: func(tb testing.TB, s settings) {
			if s.baseURL.String() != DefaultBaseURL || s.timeout != DefaultTimeout || s.rateLimit != DefaultRateLimit ||
				s.maxRetries != DefaultMaxRetries || s.retryWaitMin != DefaultRetryWaitMin || s.retryWaitMax != DefaultRetryWaitMax ||
				s.userAgent != DefaultUserAgent || s.logger == nil || s.insecureURL {
				tb.Errorf("unexpected defaults: %+v", s)
			}
			want := url.Values{"auth-id": {"1"}, "auth-password": {"pw"}}
			if s.identity.Encode() != want.Encode() {
				tb.Errorf("identity = %v, want %v", s.identity, want)
			}
		}},
		{name: "sub-auth-id", mutate: func(o *Options) { o.AuthID, o.SubAuthID = 0, 9 }, check: func(tb testing.TB, s settings) {
			if s.identity.Get("sub-auth-id") != "9" || s.identity.Has("auth-id") {
				tb.Errorf("identity = %v", s.identity)
			}
		}},
		{name: "sub-auth-user", mutate: func(o *Options) { o.AuthID, o.SubAuthUser = 0, "ops" }, check: func(tb testing.TB, s settings) {
			if s.identity.Get("sub-auth-user") != "ops" || len(s.identity) != 2 {
				tb.Errorf("identity = %v", s.identity)
			}
		}},
		{name: "trailing slash trimmed", mutate: func(o *Options) { o.BaseURL = "https://example.test/api/" }, check: func(tb testing.TB, s settings) {
			if s.baseURL.String() != "https://example.test/api" {
				tb.Errorf("base url = %s", s.baseURL)
			}
		}},
		{name: "plain http off loopback is flagged", mutate: func(o *Options) { o.BaseURL = "http://example.test" }, check: func(tb testing.TB, s settings) {
			if !s.insecureURL {
				tb.Error("want insecureURL")
			}
		}},
		{name: "plain http on loopback is fine", mutate: func(o *Options) { o.BaseURL = "http://127.0.0.1:1234" }, check: func(tb testing.TB, s settings) {
			if s.insecureURL {
				tb.Error("loopback must not be flagged")
			}
		}},
		{name: "negative retries disable retries", mutate: func(o *Options) { o.MaxRetries = -1 }, check: func(tb testing.TB, s settings) {
			if s.maxRetries != 0 {
				tb.Errorf("maxRetries = %d", s.maxRetries)
			}
		}},
		{name: "no identity", mutate: func(o *Options) { o.AuthID = 0 }, wantErr: "exactly one of"},
		{name: "two identities", mutate: func(o *Options) { o.SubAuthUser = "x" }, wantErr: "got 2"},
		{name: "negative id", mutate: func(o *Options) { o.AuthID = -4 }, wantErr: "positive"},
		{name: "no password", mutate: func(o *Options) { o.Password = "" }, wantErr: "password is empty"},
		{name: "bad scheme", mutate: func(o *Options) { o.BaseURL = "ftp://x" }, wantErr: "scheme"},
		{name: "no host", mutate: func(o *Options) { o.BaseURL = "https://" }, wantErr: "missing host"},
		{name: "query in base url", mutate: func(o *Options) { o.BaseURL = "https://x/?a=b" }, wantErr: "query"},
		{name: "rate above cloudns limit", mutate: func(o *Options) { o.RateLimit = 25 }, wantErr: "rate limit"},
		{name: "negative rate", mutate: func(o *Options) { o.RateLimit = -1 }, wantErr: "rate limit"},
		{name: "negative timeout", mutate: func(o *Options) { o.Timeout = -time.Second }, wantErr: "timeout"},
		{name: "min wait above max", mutate: func(o *Options) { o.RetryWaitMin, o.RetryWaitMax = 2*time.Second, time.Second }, wantErr: "retry waits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			if tt.mutate != nil {
				tt.mutate(&o)
			}
			s, err := o.resolve()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestListParams(t *testing.T) {
	tests := []struct {
		name     string
		opts     ListOptions
		withPage bool
		want     string // url-encoded, sorted by key
		wantErr  string
	}{
		{"defaults", ListOptions{}, true, "page=1&rows-per-page=100", ""},
		{"page count ignores page", ListOptions{Page: 3}, false, "rows-per-page=100", ""},
		{"down filter", ListOptions{Page: 2, Status: Ptr(APIStatusDown)}, true, "page=2&rows-per-page=100&status=0", ""},
		{"up filter", ListOptions{Status: Ptr(APIStatusUp)}, true, "page=1&rows-per-page=100&status=1", ""},
		{"unknown filter", ListOptions{Status: Ptr(APIStatusUnknown)}, false, "rows-per-page=100&status=-1", ""},
		{"state and type", ListOptions{RowsPerPage: 10, State: Ptr(StatePaused), Type: Ptr(CheckTypeWeb)}, true, "check_type=18&page=1&rows-per-page=10&state=0", ""},
		{"bad rows", ListOptions{RowsPerPage: 25}, true, "", "rows per page 25"},
		{"bad page", ListOptions{Page: -1}, true, "", "page -1"},
		{"bad status", ListOptions{Status: Ptr(APIStatus(2))}, true, "", "status filter"},
		{"bad state", ListOptions{State: Ptr(StateUnset)}, true, "", "state filter"},
		{"bad type", ListOptions{Type: Ptr(CheckType(0))}, true, "", "check type filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := listParams(tt.opts, tt.withPage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Encode() != tt.want {
				t.Errorf("params = %s, want %s", got.Encode(), tt.want)
			}
		})
	}
}
