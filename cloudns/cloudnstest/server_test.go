package cloudnstest

// Fidelity tests: raw HTTP against the fake, pinned to the shapes and texts of
// shared/reference/cloudns-api.md. They do not use package cloudns, so a
// client bug cannot hide a fake bug.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const password = "fake-pw-123"

func newFake(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(tb, append([]Option{WithRateLimit(0)}, opts...)...)
	s.AddIdentity(Identity{AuthID: 1001, Password: password})
	return s
}

func auth(extra url.Values) url.Values {
	v := url.Values{"auth-id": {"1001"}, "auth-password": {password}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// post sends a form POST and returns status and body.
func post(tb testing.TB, s *Server, path string, form url.Values) (int, string) {
	tb.Helper()
	resp, err := http.PostForm(s.URL()+path, form)
	if err != nil {
		tb.Fatalf("post %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func wantBody(tb testing.TB, got, want string) {
	tb.Helper()
	if got != want {
		tb.Errorf("body = %s\nwant   %s", got, want)
	}
}

func failed(desc string) string {
	return `{"status":"Failed","statusDescription":"` + desc + `"}`
}

func TestLogin(t *testing.T) {
	s := newFake(t)
	s.AddIdentity(Identity{SubAuthID: 77, Password: "sub-pw"})
	s.AddIdentity(Identity{SubAuthUser: "ops", Password: "user-pw"})
	ok := `{"status":"Success","statusDescription":"Success login."}`
	tests := []struct {
		name string
		path string
		form url.Values
		want string
	}{
		{"auth-id", PathLogin, auth(nil), ok},
		{"auth-id on the legacy path", PathLoginLegacy, auth(nil), ok},
		{"sub-auth-id", PathLogin, url.Values{"sub-auth-id": {"77"}, "auth-password": {"sub-pw"}}, ok},
		{"sub-auth-user", PathLogin, url.Values{"sub-auth-user": {"ops"}, "auth-password": {"user-pw"}}, ok},
		{"auth-id wrong password", PathLogin, url.Values{"auth-id": {"1001"}, "auth-password": {"nope"}}, failed(TextAuthFailed)},
		{"auth-id unknown", PathLogin, url.Values{"auth-id": {"1"}, "auth-password": {password}}, failed(TextAuthFailed)},
		{"auth-id with a sub-user's password", PathLogin, url.Values{"auth-id": {"77"}, "auth-password": {"sub-pw"}}, failed(TextAuthFailed)},
		{"sub-auth-id wrong password", PathLogin, url.Values{"sub-auth-id": {"77"}, "auth-password": {"nope"}}, failed(TextSubAuthFailed)},
		{"sub-auth-user unknown", PathLogin, url.Values{"sub-auth-user": {"dev"}, "auth-password": {"user-pw"}}, failed(TextSubAuthFailed)},
		{"no identity", PathLogin, url.Values{"auth-password": {password}}, failed(TextAuthFailed)},
		{"no password", PathLogin, url.Values{"auth-id": {"1001"}}, failed(TextAuthFailed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, s, tt.path, tt.form)
			if code != http.StatusOK {
				t.Errorf("status = %d, want 200 (ClouDNS answers failures with 200)", code)
			}
			wantBody(t, body, tt.want)
		})
	}
}

func TestFailureTextsAreTheReferenceTexts(t *testing.T) {
	// Pinned literally so that an edit to the constants cannot drift from
	// the reference unnoticed.
	pins := map[string]string{
		TextAuthFailed:                 "Invalid authentication, incorrect auth-id or auth-password.",
		TextSubAuthFailed:              "Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password.",
		TextPermission:                 "You don't have permission to do that.",
		TextRowsPerPage:                "Wrong or missing required parameter 'rows-per-page'.",
		TextPage:                       "Missing or invalid required parameter 'page'.",
		TextInvalidID:                  "Invalid id param.",
		RateLimitText("192.0.2.1", 20): "Request blocked, 192.0.2.1 is sending more than 20 requests per second.",
	}
	for got, want := range pins {
		if got != want {
			t.Errorf("text %q, want %q", got, want)
		}
	}
}

func TestRequestEncodings(t *testing.T) {
	s := newFake(t)
	ok := `{"status":"Success","statusDescription":"Success login."}`
	t.Run("get with query", func(t *testing.T) {
		resp, err := http.Get(s.URL() + PathLogin + "?" + auth(nil).Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		wantBody(t, string(b), ok)
		calls := s.Calls()
		last := calls[len(calls)-1]
		if !last.CredentialsInURL {
			t.Error("credentials in the query must be flagged")
		}
		if last.Query.Get("auth-password") != "<redacted>" || last.Params.Get("auth-password") != "<redacted>" {
			t.Errorf("password not redacted in the record: %+v", last)
		}
	})
	t.Run("post json", func(t *testing.T) {
		resp, err := http.Post(s.URL()+PathLogin, "application/json",
			strings.NewReader(`{"auth-id":1001,"auth-password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		wantBody(t, string(b), ok)
	})
	t.Run("post form", func(t *testing.T) {
		_, body := post(t, s, PathLogin, auth(nil))
		wantBody(t, body, ok)
		calls := s.Calls()
		last := calls[len(calls)-1]
		if last.CredentialsInURL || last.ContentType != "application/x-www-form-urlencoded" || last.Method != http.MethodPost {
			t.Errorf("record = %+v", last)
		}
	})
	t.Run("unknown endpoint", func(t *testing.T) {
		code, _ := post(t, s, "/monitoring/list.json", auth(nil))
		if code != http.StatusNotFound {
			t.Errorf("status = %d", code)
		}
	})
}

func TestGetRecordsParameters(t *testing.T) {
	s := newFake(t)
	s.Seed(3)
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"missing rows-per-page", auth(url.Values{"page": {"1"}}), failed(TextRowsPerPage)},
		{"rows-per-page not allowed", auth(url.Values{"page": {"1"}, "rows-per-page": {"25"}}), failed(TextRowsPerPage)},
		{"missing page", auth(url.Values{"rows-per-page": {"10"}}), failed(TextPage)},
		{"page zero", auth(url.Values{"rows-per-page": {"10"}, "page": {"0"}}), failed(TextPage)},
		{"page not a number", auth(url.Values{"rows-per-page": {"10"}, "page": {"x"}}), failed(TextPage)},
		{"bad status filter", auth(url.Values{"rows-per-page": {"10"}, "page": {"1"}, "status": {"2"}}), failed("Invalid status param.")},
		{"past the end", auth(url.Values{"rows-per-page": {"10"}, "page": {"2"}}), `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := post(t, s, PathGetRecords, tt.form)
			wantBody(t, body, tt.want)
		})
	}
}

// page fetches one get-records page and decodes the keyed object.
func page(tb testing.TB, s *Server, p, rows int, extra url.Values) map[string]map[string]any {
	tb.Helper()
	form := auth(extra)
	form.Set("page", strconv.Itoa(p))
	form.Set("rows-per-page", strconv.Itoa(rows))
	_, body := post(tb, s, PathGetRecords, form)
	var m map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		tb.Fatalf("page %d is not an object of objects: %v: %s", p, err, body)
	}
	return m
}

func TestPagesKeyedByID(t *testing.T) {
	s := newFake(t)
	ids := s.Seed(25)
	seen := map[string]bool{}
	for p, want := range []int{10, 10, 5} {
		m := page(t, s, p+1, 10, nil)
		if len(m) != want {
			t.Fatalf("page %d has %d checks, want %d", p+1, len(m), want)
		}
		for k, c := range m {
			if c["id"] != k {
				t.Errorf("key %s holds check id %v", k, c["id"])
			}
			seen[k] = true
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("saw %d distinct checks, want %d", len(seen), len(ids))
	}
	// Pages follow numeric id order: the first page holds the ten smallest.
	first := page(t, s, 1, 10, nil)
	for _, id := range ids[:10] {
		if _, ok := first[strconv.FormatInt(id, 10)]; !ok {
			t.Errorf("check %d missing from page 1", id)
		}
	}
}

func TestCheckObjectShape(t *testing.T) {
	s := newFake(t)
	id := s.AddCheck(Check{Name: "www.gnome.org", Type: 18, IP: "www.gnome.org", Host: "www.gnome.org",
		Port: 443, Region: "nam", Period: 60, StatusChangeChecks: 2, Status: StatusUp})
	key := strconv.FormatInt(id, 10)
	// The reference's suggested fixture (§2.1), every value a string.
	want := `{"` + key + `":{"id":"` + key + `","name":"www.gnome.org","check_type":"18","ip":"www.gnome.org",` +
		`"host":"www.gnome.org","port":"443","path":"","content":"","open_port":"","query_type":"",` +
		`"query_response":"","monitoring_region":"nam","check_period":"60","status_change_checks":"2",` +
		`"state":"1","status":"1"}}`
	_, body := post(t, s, PathGetRecords, auth(url.Values{"page": {"1"}, "rows-per-page": {"10"}}))
	wantBody(t, body, want)

	t.Run("get-monitoring-check returns the bare object", func(t *testing.T) {
		_, body := post(t, s, PathGetCheck, auth(url.Values{"id": {key}}))
		wantBody(t, body, strings.TrimSuffix(strings.TrimPrefix(want, `{"`+key+`":`), "}"))
	})
	t.Run("unknown id", func(t *testing.T) {
		_, body := post(t, s, PathGetCheck, auth(url.Values{"id": {"1"}}))
		wantBody(t, body, failed(TextInvalidID))
	})
	t.Run("missing id", func(t *testing.T) {
		_, body := post(t, s, PathGetCheck, auth(nil))
		wantBody(t, body, failed(TextInvalidID))
	})
}

func TestNumberAndPageStyles(t *testing.T) {
	t.Run("numbers as numbers", func(t *testing.T) {
		s := newFake(t, WithNumbers(NumbersAsNumbers))
		s.AddCheck(Check{ID: 5, Name: "a", Status: StatusDown, Paused: true})
		_, body := post(t, s, PathGetCheck, auth(url.Values{"id": {"5"}}))
		for _, frag := range []string{`"id":5,`, `"check_type":18,`, `"port":""`, `"state":0,`, `"status":0}`} {
			if !strings.Contains(body, frag) {
				t.Errorf("body lacks %s: %s", frag, body)
			}
		}
	})
	t.Run("array pages", func(t *testing.T) {
		s := newFake(t, WithArrayPages())
		s.Seed(2)
		_, body := post(t, s, PathGetRecords, auth(url.Values{"page": {"1"}, "rows-per-page": {"10"}}))
		var a []map[string]any
		if err := json.Unmarshal([]byte(body), &a); err != nil || len(a) != 2 {
			t.Errorf("want an array of 2 checks, got %s", body)
		}
	})
	t.Run("empty page as array", func(t *testing.T) {
		s := newFake(t, WithEmptyPage("[]"))
		_, body := post(t, s, PathGetRecords, auth(url.Values{"page": {"1"}, "rows-per-page": {"10"}}))
		wantBody(t, body, `[]`)
	})
	t.Run("without status field", func(t *testing.T) {
		s := newFake(t, WithoutStatusField())
		s.AddCheck(Check{ID: 5})
		_, body := post(t, s, PathGetCheck, auth(url.Values{"id": {"5"}}))
		if strings.Contains(body, `"status"`) {
			t.Errorf("status field present: %s", body)
		}
	})
	t.Run("status field override", func(t *testing.T) {
		s := newFake(t)
		s.AddCheck(Check{ID: 5, Status: StatusDown})
		s.SetStatusField(5, `"1"`)
		_, body := post(t, s, PathGetCheck, auth(url.Values{"id": {"5"}}))
		if !strings.HasSuffix(body, `"status":"1"}`) {
			t.Errorf("override not served: %s", body)
		}
		// The filter keeps using the real status.
		if m := page(t, s, 1, 10, url.Values{"status": {"0"}}); len(m) != 1 {
			t.Errorf("down filter lists %d checks, want 1", len(m))
		}
	})
}

func TestFilters(t *testing.T) {
	s := newFake(t)
	ids := s.Seed(6)
	s.SetCheckStatus(ids[0], StatusDown)
	s.SetCheckStatus(ids[1], StatusDown)
	s.SetCheckStatus(ids[2], StatusUnknown)
	s.PauseCheck(ids[3])
	s.AddCheck(Check{ID: 50000, Type: 8, Status: StatusUp})
	tests := []struct {
		name  string
		extra url.Values
		want  []int64
	}{
		{"down", url.Values{"status": {"0"}}, ids[:2]},
		{"unknown", url.Values{"status": {"-1"}}, ids[2:3]},
		{"up", url.Values{"status": {"1"}}, append(ids[3:6:6], 50000)},
		{"paused", url.Values{"state": {"0"}}, ids[3:4]},
		{"active and up", url.Values{"state": {"1"}, "status": {"1"}}, append(ids[4:6:6], 50000)},
		{"tcp", url.Values{"check_type": {"8"}}, []int64{50000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := page(t, s, 1, 100, tt.extra)
			if len(m) != len(tt.want) {
				t.Fatalf("got %d checks, want %d", len(m), len(tt.want))
			}
			for _, id := range tt.want {
				if _, ok := m[strconv.FormatInt(id, 10)]; !ok {
					t.Errorf("check %d missing", id)
				}
			}
			form := auth(tt.extra)
			form.Set("rows-per-page", "10")
			_, body := post(t, s, PathGetRecordsPages, form)
			wantBody(t, body, "1")
		})
	}
	t.Run("ignored filters", func(t *testing.T) {
		s.IgnoreFilters(true)
		t.Cleanup(func() { s.IgnoreFilters(false) })
		if m := page(t, s, 1, 100, url.Values{"status": {"0"}}); len(m) != 7 {
			t.Errorf("got %d checks, want all 7", len(m))
		}
	})
	t.Run("removed", func(t *testing.T) {
		if !s.RemoveCheck(ids[0]) || s.RemoveCheck(ids[0]) {
			t.Fatal("RemoveCheck must report existence")
		}
		if m := page(t, s, 1, 100, url.Values{"status": {"0"}}); len(m) != 1 {
			t.Errorf("got %d down checks, want 1", len(m))
		}
	})
}

func TestPageCount(t *testing.T) {
	s := newFake(t)
	tests := []struct {
		seed int
		rows string
		want string
	}{
		{0, "100", "0"}, // unverified in the real API
		{100, "100", "1"},
		{150, "100", "2"},
		{250, "100", "3"},
		{250, "50", "5"},
		{250, "30", "9"},
		{250, "7", failed(TextRowsPerPage)},
	}
	total := 0
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.seed)+" checks by "+tt.rows, func(t *testing.T) {
			s.Seed(tt.seed - total)
			total = tt.seed
			_, body := post(t, s, PathGetRecordsPages, auth(url.Values{"rows-per-page": {tt.rows}}))
			wantBody(t, body, tt.want)
		})
	}
}

func TestPermission(t *testing.T) {
	s := newFake(t)
	s.AddIdentity(Identity{SubAuthUser: "limited", Password: "p", NoMonitoring: true})
	form := url.Values{"sub-auth-user": {"limited"}, "auth-password": {"p"}, "rows-per-page": {"10"}, "page": {"1"}}
	_, body := post(t, s, PathLogin, form)
	wantBody(t, body, `{"status":"Success","statusDescription":"Success login."}`)
	for _, path := range []string{PathGetRecords, PathGetRecordsPages, PathGetCheck} {
		_, body := post(t, s, path, form)
		wantBody(t, body, failed(TextPermission))
	}
}

func TestRateLimit(t *testing.T) {
	s := New(t, WithRateLimit(3))
	s.AddIdentity(Identity{AuthID: 1001, Password: password})
	var bodies []string
	for range 5 {
		_, body := post(t, s, PathLogin, auth(nil))
		bodies = append(bodies, body)
	}
	ok := `{"status":"Success","statusDescription":"Success login."}`
	for i, b := range bodies[:3] {
		if b != ok {
			t.Errorf("request %d: %s", i+1, b)
		}
	}
	for _, b := range bodies[3:] {
		wantBody(t, b, failed(RateLimitText("127.0.0.1", 3)))
	}
	time.Sleep(1100 * time.Millisecond)
	_, body := post(t, s, PathLogin, auth(nil))
	wantBody(t, body, ok)
}

func TestFaults(t *testing.T) {
	ok := `{"status":"Success","statusDescription":"Success login."}`
	t.Run("failed bodies then recovery", func(t *testing.T) {
		s := newFake(t)
		s.FailNext(2, "Something broke.")
		for range 2 {
			_, body := post(t, s, PathLogin, auth(nil))
			wantBody(t, body, failed("Something broke."))
		}
		_, body := post(t, s, PathLogin, auth(nil))
		wantBody(t, body, ok)
	})
	t.Run("http status", func(t *testing.T) {
		s := newFake(t)
		s.FailNextHTTP(1, http.StatusBadGateway)
		if code, _ := post(t, s, PathLogin, auth(nil)); code != http.StatusBadGateway {
			t.Errorf("status = %d", code)
		}
		if code, _ := post(t, s, PathLogin, auth(nil)); code != http.StatusOK {
			t.Errorf("status = %d after the fault", code)
		}
	})
	t.Run("path-specific raw body, in order", func(t *testing.T) {
		s := newFake(t)
		s.Inject(Fault{Path: PathGetRecordsPages, Body: `{"status":"0","statusDescription":"Invalid period."}`})
		s.FailNext(1, "first")
		_, body := post(t, s, PathLogin, auth(nil))
		wantBody(t, body, failed("first"))
		_, body = post(t, s, PathGetRecordsPages, auth(url.Values{"rows-per-page": {"10"}}))
		wantBody(t, body, `{"status":"0","statusDescription":"Invalid period."}`)
	})
	t.Run("clear", func(t *testing.T) {
		s := newFake(t)
		s.FailNext(3, "x")
		s.ClearFaults()
		_, body := post(t, s, PathLogin, auth(nil))
		wantBody(t, body, ok)
	})
	t.Run("dropped connection", func(t *testing.T) {
		s := newFake(t)
		s.DropNext(1)
		if _, err := http.PostForm(s.URL()+PathLogin, auth(nil)); err == nil {
			t.Error("want a transport error")
		}
		_, body := post(t, s, PathLogin, auth(nil))
		wantBody(t, body, ok)
		if n := s.CallCount(PathLogin); n != 2 {
			t.Errorf("CallCount = %d, want 2 (dropped requests count)", n)
		}
	})
	t.Run("latency", func(t *testing.T) {
		s := newFake(t)
		s.SetLatency(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+PathLogin, strings.NewReader(auth(nil).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := http.DefaultClient.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a deadline", err)
		}
		start := time.Now()
		post(t, s, PathLogin, auth(nil))
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("answered after %s, want >= 300ms", d)
		}
	})
}

func TestCallsAndCounts(t *testing.T) {
	s := newFake(t)
	post(t, s, PathLogin, auth(nil))
	post(t, s, PathGetRecords, auth(url.Values{"rows-per-page": {"10"}, "page": {"1"}}))
	post(t, s, PathGetRecords, auth(url.Values{"rows-per-page": {"10"}, "page": {"2"}}))
	if s.CallCount(PathGetRecords) != 2 || s.CallCount(PathLogin) != 1 || s.CallCount("") != 3 {
		t.Errorf("counts: records %d login %d all %d", s.CallCount(PathGetRecords), s.CallCount(PathLogin), s.CallCount(""))
	}
	calls := s.Calls()
	if calls[2].Params.Get("page") != "2" || calls[2].Params.Get("auth-password") != "<redacted>" {
		t.Errorf("call = %+v", calls[2])
	}
	s.ResetCalls()
	if s.CallCount("") != 0 {
		t.Error("ResetCalls kept calls")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := newFake(t)
	ids := s.Seed(20)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				s.SetCheckStatus(ids[(i+j)%len(ids)], Status(j%3-1))
				resp, err := http.PostForm(s.URL()+PathGetRecords, auth(url.Values{"rows-per-page": {"10"}, "page": {"1"}}))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				_ = s.Calls()
			}
		})
	}
	wg.Wait()
	if n := s.CallCount(PathGetRecords); n != 40 {
		t.Errorf("CallCount = %d, want 40", n)
	}
}
