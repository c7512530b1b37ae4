package cloudns

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOptionsResolve(t *testing.T) {
	valid := DefaultOptions()
	valid.AuthID, valid.Password = 1, "pw"
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
		check   func(testing.TB, settings)
	}{
		// DefaultOptions gives what New used to fill in for zero fields.
		{name: "defaults", check: func(tb testing.TB, s settings) {
			if s.baseURL.String() != "https://api.cloudns.net" || s.timeout != 10*time.Second || s.rateLimit != 5 ||
				s.maxRetries != 2 || s.retryWaitMin != time.Second || s.retryWaitMax != 10*time.Second ||
				s.userAgent != "statussync-cloudns" || s.logger == nil || s.insecureURL {
				tb.Errorf("unexpected defaults: base %s, timeout %v, rate %v, retries %d, waits %v..%v, agent %q, insecure %v",
					s.baseURL, s.timeout, s.rateLimit, s.maxRetries, s.retryWaitMin, s.retryWaitMax, s.userAgent, s.insecureURL)
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
		{name: "zero retries are zero retries", mutate: func(o *Options) { o.MaxRetries = 0 }, check: func(tb testing.TB, s settings) {
			if s.maxRetries != 0 {
				tb.Errorf("maxRetries = %d", s.maxRetries)
			}
		}},
		{name: "explicit values are kept", mutate: func(o *Options) {
			o.Timeout, o.RateLimit, o.MaxRetries, o.UserAgent = 3*time.Second, 12, 5, "probe/1"
			o.RetryWaitMin, o.RetryWaitMax = 7*time.Millisecond, 7*time.Millisecond
		}, check: func(tb testing.TB, s settings) {
			if s.timeout != 3*time.Second || s.rateLimit != 12 || s.maxRetries != 5 || s.userAgent != "probe/1" ||
				s.retryWaitMin != 7*time.Millisecond || s.retryWaitMax != 7*time.Millisecond {
				tb.Errorf("timeout %v, rate %v, retries %d, agent %q, waits %v..%v",
					s.timeout, s.rateLimit, s.maxRetries, s.userAgent, s.retryWaitMin, s.retryWaitMax)
			}
		}},
		{name: "no identity", mutate: func(o *Options) { o.AuthID = 0 }, wantErr: "exactly one of AuthID, SubAuthID and SubAuthUser"},
		{name: "two identities", mutate: func(o *Options) { o.SubAuthUser = "x" }, wantErr: "got 2"},
		{name: "negative id", mutate: func(o *Options) { o.AuthID = -4 }, wantErr: "AuthID -4 must be positive"},
		{name: "negative sub id", mutate: func(o *Options) { o.AuthID, o.SubAuthID = 0, -3 }, wantErr: "SubAuthID -3 must be positive"},
		{name: "no password", mutate: func(o *Options) { o.Password = "" }, wantErr: "Password is empty"},
		{name: "empty base url", mutate: func(o *Options) { o.BaseURL = "" }, wantErr: "BaseURL is empty"},
		{name: "bad scheme", mutate: func(o *Options) { o.BaseURL = "ftp://x" }, wantErr: `BaseURL "ftp://x": scheme`},
		{name: "no host", mutate: func(o *Options) { o.BaseURL = "https://" }, wantErr: `BaseURL "https:": missing host`},
		{name: "query in base url", mutate: func(o *Options) { o.BaseURL = "https://x/?a=b" }, wantErr: "BaseURL \"https://x/?a=b\": must not have a query"},
		{name: "rate above cloudns limit", mutate: func(o *Options) { o.RateLimit = 25 }, wantErr: "RateLimit 25/s is outside (0, 20]"},
		{name: "negative rate", mutate: func(o *Options) { o.RateLimit = -1 }, wantErr: "RateLimit -1/s"},
		{name: "zero rate", mutate: func(o *Options) { o.RateLimit = 0 }, wantErr: "RateLimit 0/s"},
		{name: "zero timeout", mutate: func(o *Options) { o.Timeout = 0 }, wantErr: "Timeout 0s must be positive"},
		{name: "negative timeout", mutate: func(o *Options) { o.Timeout = -time.Second }, wantErr: "Timeout -1s must be positive"},
		{name: "empty user agent", mutate: func(o *Options) { o.UserAgent = "" }, wantErr: "UserAgent is empty"},
		{name: "user agent with newline", mutate: func(o *Options) { o.UserAgent = "a\r\nX: y" }, wantErr: "UserAgent \"a\\r\\nX: y\" contains control characters"},
		{name: "negative retries", mutate: func(o *Options) { o.MaxRetries = -1 }, wantErr: "MaxRetries -1 must not be negative"},
		{name: "zero min wait", mutate: func(o *Options) { o.RetryWaitMin = 0 }, wantErr: "RetryWaitMin 0s must be positive"},
		{name: "min wait above max", mutate: func(o *Options) { o.RetryWaitMin, o.RetryWaitMax = 2*time.Second, time.Second },
			wantErr: "RetryWaitMax 1s must not be below RetryWaitMin 2s"},
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
