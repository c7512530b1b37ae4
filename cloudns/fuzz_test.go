package cloudns

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// The fuzzers feed arbitrary bodies to the lenient decoders between
// ClouDNS's bytes and a check's status. Beyond "never panic", they hold
// the rule the whole kind rests on: a check is down only when the down
// filter lists it; no odd body can make a check down. Seeds live in
// testdata/fuzz/<Fuzzer>/ (bodies recorded from cloudnstest in each of
// its shapes, plus regressions); scripts/fuzz-smoke.sh runs each fuzzer
// for a short fixed time in CI.

var updateSeeds = flag.Bool("update-seeds", false, "re-record the fuzz seed corpora under testdata/fuzz from cloudnstest")

const fuzzPassword = "fuzzPasswordCanary-9f3c"

// FuzzDecodeCheckList decodes one page of monitoring/get-records.
func FuzzDecodeCheckList(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, ` { } `,
		`{"1":{"id":"1","name":"web","check_type":"18","state":"1","status":"1"}}`,
		`{"2":{"name":2,"state":0,"status":-1,"check_period":"60"}}`,
		`[{"id":3,"status":"0"},{"id":"4","state":"1"}]`,
		`{"5":{"id":"6"}}`, `{"x":{"name":"no id"}}`, `[{"id":1},{"id":"1"}]`,
		`{"status":"Failed","statusDescription":"Invalid authentication, incorrect auth-id or auth-password."}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checks, err := decodeCheckList(body)
		if err != nil {
			return
		}
		for i, c := range checks {
			if c.ID <= 0 {
				t.Fatalf("check with id %d", c.ID)
			}
			if i > 0 && checks[i-1].ID >= c.ID {
				t.Fatalf("ids not strictly increasing: %d then %d", checks[i-1].ID, c.ID)
			}
			if c.Status == StatusDown || c.Status == StatusUp {
				t.Fatalf("one list decided check %d is %v; only a snapshot may", c.ID, c.Status)
			}
		}
	})
}

// FuzzDecodeSingleCheck decodes monitoring/get-monitoring-check.
func FuzzDecodeSingleCheck(f *testing.F) {
	f.Add([]byte(`{"id":"7","name":"a","state":"1"}`), int64(7))
	f.Add([]byte(`{"7":{"id":"7"}}`), int64(7))
	f.Add([]byte(`{"7":{"name":"x"}}`), int64(7))
	f.Add([]byte(`[]`), int64(1))
	f.Add([]byte(`{"id":"8"}`), int64(7))
	f.Fuzz(func(t *testing.T, body []byte, id int64) {
		c, found, err := decodeSingleCheck(body, id)
		if err == nil && found && c.ID != id {
			t.Fatalf("asked for %d, got %d", id, c.ID)
		}
	})
}

// FuzzDecodePageCount decodes monitoring/get-records-pages.
func FuzzDecodePageCount(f *testing.F) {
	for _, s := range []string{`3`, `"3"`, ` 0 `, `{}`, `[]`, `-1`, `1e3`, `"2.0"`, `9999999999999`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := decodePageCount(body)
		if err == nil && n < 0 {
			t.Fatalf("page count %d", n)
		}
	})
}

// FuzzFailure classifies a body as ClouDNS's failure envelope and maps its
// text to an error kind; the error built from it never shows the password,
// even when the text echoes it.
func FuzzFailure(f *testing.F) {
	for _, s := range []string{
		cloudnstest.FailedBody(cloudnstest.TextAuthFailed),
		cloudnstest.FailedBody(cloudnstest.RateLimitText("127.0.0.1", 20)),
		cloudnstest.FailedBody("auth-password " + fuzzPassword + " is wrong"),
		`{"status":"0","statusDescription":"Invalid monitoring check."}`,
		`{"status":"0","id":"5"}`, `{"status":"Success","statusDescription":"Success login."}`,
		`{"status":{"a":1}}`, `"Failed"`,
	} {
		f.Add([]byte(s))
	}
	c := &Client{password: fuzzPassword}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = decodeLogin(body)
		if failed, desc := parseFailure(body); failed && kindFromDescription(desc).String() == "" {
			t.Fatalf("failure %q maps to a kind without a name", desc)
		}
		for _, status := range []int{200, 404, 503} {
			err := c.classify(context.Background(), "list_checks", status, body, nil)
			if err != nil && strings.Contains(err.Error(), fuzzPassword) {
				t.Fatalf("error shows the password: %q", err.Error())
			}
		}
	})
}

// FuzzSnapshot decodes the three listings of a poll (all checks, the
// status=0 set, the status=1 set) and determines every check's status.
// Whatever the bodies, a check is down only if the down set lists it, and
// never when the up set lists it too.
func FuzzSnapshot(f *testing.F) {
	f.Add([]byte(`{"1":{"id":"1","state":"1"},"2":{"id":"2","state":"1"}}`), []byte(`{"2":{"id":"2","status":"0"}}`), []byte(`{"1":{"id":"1","status":"1"}}`))
	f.Add([]byte(`{}`), []byte(`{"3":{"id":"3"}}`), []byte(`{"3":{"id":"3"}}`))
	f.Add([]byte(`{"4":{"id":"4","state":"0"}}`), []byte(`{"4":{"id":"4","status":"0"}}`), []byte(`[]`))
	f.Add([]byte(`[{"id":5}]`), []byte(`[{"id":5,"status":1}]`), []byte(`{}`))
	logger := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, allBody, downBody, upBody []byte) {
		all, err1 := decodeCheckList(allBody)
		down, err2 := decodeCheckList(downBody)
		up, err3 := decodeCheckList(upBody)
		if err1 != nil || err2 != nil || err3 != nil {
			return
		}
		checks, conflicts := determine(all, down, up, logger)
		snap := newSnapshot(checks)
		inDown, inUp := indexByID(down), indexByID(up)
		if conflicts < 0 || conflicts > len(checks) {
			t.Fatalf("%d conflicts among %d checks", conflicts, len(checks))
		}
		for i, c := range checks {
			if i > 0 && checks[i-1].ID >= c.ID {
				t.Fatalf("ids not strictly increasing: %d then %d", checks[i-1].ID, c.ID)
			}
			if got, ok := snap.ByID(c.ID); !ok || got.ID != c.ID {
				t.Fatalf("snapshot lost check %d", c.ID)
			}
			_, d := inDown[c.ID]
			_, u := inUp[c.ID]
			if c.Status == StatusDown && (!d || u) {
				t.Fatalf("check %d is down, listed by the down filter %v, by the up filter %v", c.ID, d, u)
			}
			if c.Status == StatusUp && (!u || d) {
				t.Fatalf("check %d is up, listed by the up filter %v, by the down filter %v", c.ID, u, d)
			}
		}
		for _, c := range all {
			if _, ok := snap.ByID(c.ID); !ok {
				t.Fatalf("check %d of the full list missing from the snapshot", c.ID)
			}
		}
		total := 0
		for _, st := range []Status{StatusUp, StatusDown, StatusPaused, StatusUnknown} {
			total += snap.Count(st)
		}
		if total != len(checks) {
			t.Fatalf("status counts add up to %d for %d checks", total, len(checks))
		}
	})
}

// TestRecordedSeedsDecode keeps the recorded seeds honest: every answer
// cloudnstest gives to the calls a poll makes decodes, in every shape the
// fake can serve. With -update-seeds it re-records them under testdata.
func TestRecordedSeedsDecode(t *testing.T) {
	shapes := map[string][]cloudnstest.Option{
		"objects-strings":   nil,
		"arrays-numbers":    {cloudnstest.WithArrayPages(), cloudnstest.WithNumbers(cloudnstest.NumbersAsNumbers)},
		"no-status-field":   {cloudnstest.WithoutStatusField(), cloudnstest.WithEmptyPage("[]")},
		"filters-ignored":   nil,
		"status-field-odd":  nil,
		"paused-and-shared": nil,
	}
	for shape, opts := range shapes {
		srv := cloudnstest.New(t, append(opts, cloudnstest.WithRateLimit(0))...)
		srv.AddIdentity(cloudnstest.Identity{AuthID: 1234, Password: fuzzPassword})
		ids := srv.Seed(23)
		srv.SetCheckStatus(ids[3], cloudnstest.StatusDown)
		srv.SetCheckStatus(ids[4], cloudnstest.StatusUnknown)
		switch shape {
		case "filters-ignored":
			srv.IgnoreFilters(true)
		case "status-field-odd":
			srv.SetStatusField(ids[5], `200`)
			srv.SetStatusField(ids[6], `"0"`)
		case "paused-and-shared":
			srv.PauseCheck(ids[7])
			srv.AddCheck(cloudnstest.Check{Name: "check-0001", Host: "dup.example.org"})
		}
		post := func(path string, params url.Values) []byte {
			t.Helper()
			form := url.Values{"auth-id": {"1234"}, "auth-password": {fuzzPassword}}
			for k, v := range params {
				form[k] = v
			}
			resp, err := http.PostForm(srv.URL()+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return body
		}
		var lists [3][]Check
		for i, status := range []string{"", "0", "1"} {
			for page := 1; page <= 4; page++ {
				params := url.Values{"rows-per-page": {"10"}, "page": {strconv.Itoa(page)}}
				if status != "" {
					params.Set("status", status)
				}
				body := post(cloudnstest.PathGetRecords, params)
				checks, err := decodeCheckList(body)
				if err != nil {
					t.Fatalf("%s: status %q page %d: %v\n%s", shape, status, page, err, body)
				}
				lists[i] = append(lists[i], checks...)
				if *updateSeeds && page <= 2 && status != "1" {
					writeSeed(t, "FuzzDecodeCheckList", fmt.Sprintf("recorded-%s-status%s-page%d", shape, status, page), quoteBytes(body))
				}
			}
			if *updateSeeds && shape != "objects-strings" {
				writeSeed(t, "FuzzDecodePageCount", fmt.Sprintf("recorded-%s-status%s", shape, status),
					quoteBytes(post(cloudnstest.PathGetRecordsPages, url.Values{"rows-per-page": {"10"}, "status": {status}})))
			}
		}
		if *updateSeeds {
			writeSeed(t, "FuzzSnapshot", "recorded-"+shape, strings.Join([]string{
				quoteBytes(post(cloudnstest.PathGetRecords, url.Values{"rows-per-page": {"100"}, "page": {"1"}})),
				quoteBytes(post(cloudnstest.PathGetRecords, url.Values{"rows-per-page": {"100"}, "page": {"1"}, "status": {"0"}})),
				quoteBytes(post(cloudnstest.PathGetRecords, url.Values{"rows-per-page": {"100"}, "page": {"1"}, "status": {"1"}})),
			}, "\n"))
			writeSeed(t, "FuzzDecodeSingleCheck", "recorded-"+shape,
				quoteBytes(post(cloudnstest.PathGetCheck, url.Values{"id": {strconv.FormatInt(ids[3], 10)}}))+"\nint64("+strconv.FormatInt(ids[3], 10)+")")
		}
		checks, _ := determine(lists[0], lists[1], lists[2], slog.New(slog.DiscardHandler))
		if shape == "objects-strings" {
			down := slices.IndexFunc(checks, func(c Check) bool { return c.Status == StatusDown })
			if down < 0 || checks[down].ID != ids[3] {
				t.Errorf("%s: the down check was not determined down", shape)
			}
		}
		if shape == "filters-ignored" {
			for _, c := range checks {
				if c.Status == StatusDown {
					t.Errorf("%s: check %d down although the filters were ignored", shape, c.ID)
				}
			}
		}
	}
	if *updateSeeds {
		srv := cloudnstest.New(t)
		for name, body := range map[string]string{
			"recorded-auth":       cloudnstest.FailedBody(cloudnstest.TextAuthFailed),
			"recorded-subauth":    cloudnstest.FailedBody(cloudnstest.TextSubAuthFailed),
			"recorded-permission": cloudnstest.FailedBody(cloudnstest.TextPermission),
			"recorded-rate-limit": cloudnstest.FailedBody(cloudnstest.RateLimitText("127.0.0.1", 20)),
			"recorded-invalid-id": cloudnstest.FailedBody(cloudnstest.TextInvalidID),
			"recorded-rows":       cloudnstest.FailedBody(cloudnstest.TextRowsPerPage),
		} {
			writeSeed(t, "FuzzFailure", name, quoteBytes([]byte(body)))
		}
		_ = srv
	}
}

func quoteBytes(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }

func writeSeed(tb testing.TB, fuzzer, name, values string) {
	tb.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzzer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+values+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
}
