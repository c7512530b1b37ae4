package cachet

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/statussync/statussync/cachet/cachettest"
)

var updateSeeds = flag.Bool("update-seeds", false, "re-record the fuzz seed corpora under testdata/fuzz from cachettest")

// The fuzzers feed arbitrary response bodies to the pure decoders that sit
// between Cachet's bytes and statussync's decisions. A body is whatever a
// proxy, an old Cachet or a broken one sends; none of it may panic, loop
// or leak the token into an error. Seeds live in testdata/fuzz/<Fuzzer>/
// (bodies recorded from cachettest, in both shapes, plus regressions);
// scripts/fuzz-smoke.sh runs each fuzzer for a short fixed time in CI.

// fuzzClient is a Client with just what the decoders use.
func fuzzClient() *Client {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.FixedZone("CET", 3600)
	}
	return &Client{log: slog.New(slog.DiscardHandler), loc: loc}
}

// FuzzDecodeDocument decodes a body as a JSON:API (or flat legacy) document
// and every resource in it as each kind of resource the client reads.
func FuzzDecodeDocument(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"id":"1","type":"components","attributes":{"id":1,"name":"GitLab","status":{"human":"Operational","value":1},"latest_status":{"value":4},"enabled":true,"meta":{"statussync_component":"GitLab"},"created":{"human":"now","string":"2025-01-02 03:04:05"}},"relationships":{"group":{"data":{"type":"componentGroups","id":"2"}}}}],"links":{"next":"https://x/api/components?page=2"}}`,
		`{"data":{"id":1,"name":"GitLab","status":1,"enabled":1,"group_id":"3","created_at":"2025-01-02 03:04:05"}}`,
		`{"data":[{"id":"7","type":"incidents","attributes":{"id":7,"name":"x","message":"m","status":{"value":4},"visible":1,"occurred_at":{"string":"2025-01-02 03:04:05"},"meta":{"k":1}},"relationships":{"components":{"data":[{"type":"components","id":"1"}]}}}],"included":[{"type":"components","id":"1","attributes":{"id":1,"pivot":{"component_status":{"value":4}}}}]}`,
		`{"data":[],"meta":{"pagination":{"links":{"next_page":"?page=3"}}}}`,
		`{"data":null}`,
		`{"data":[{"id":"x"}]}`,
		`{"data":{"attributes":"s","id":{"a":1}}}`,
	} {
		f.Add([]byte(s))
	}
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := decodeDocument(body)
		if err != nil {
			return
		}
		if doc.Single && len(doc.Data) != 1 {
			t.Fatalf("a single document with %d resources", len(doc.Data))
		}
		if doc.NextPage < 0 {
			t.Fatalf("next page %d", doc.NextPage)
		}
		for _, r := range doc.Data {
			_, _ = c.decodeComponent(r)
			_, _ = c.decodeComponentGroup(r)
			_, _ = c.decodeIncident(r, doc.Included)
			_, _ = c.decodeIncidentUpdate(r, r.ID)
			_, _ = c.decodeMetric(r)
			_, _ = c.decodeMetricPoint(r, r.ID)
			_, _ = c.decodeSchedule(r, doc.Included)
			for _, rel := range []string{"group", "components", "incident", "metric"} {
				_, _ = r.relatedIDs(rel)
			}
		}
	})
}

// fuzzToken is the token FuzzAPIError must never find in an error; the
// part after "|" is what Cachet checks, so it alone must not leak either.
const fuzzToken = "42|fuzzTokenSecretPart0123456789"

// FuzzAPIError builds the error for a non-2xx answer from an arbitrary body
// and Retry-After. The error text is bounded and never holds the token,
// even when a proxy echoes it back.
func FuzzAPIError(f *testing.F) {
	f.Add(422, []byte(`{"message":"The name field is required.","errors":{"name":["The name field is required."]}}`), "")
	f.Add(401, []byte(`{"message":"Unauthenticated."}`), "")
	f.Add(429, []byte(`{"message":"Too Many Attempts."}`), "60")
	f.Add(503, []byte(`<html>Service Unavailable</html>`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(500, []byte(`{"message":"Bearer `+fuzzToken+`"}`), "")
	f.Add(422, []byte(`{"message":"x","errors":{"`+fuzzToken+`":["fuzzTokenSecretPart0123456789"]}}`), "-1")
	f.Add(302, []byte(``), "")
	c := &Client{token: fuzzToken}
	op := operation{name: "update_component", ability: "components.manage"}
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := newAPIError(op, http.MethodPut, "/components/1", status, h, body, c.redact)
		msg := e.Error()
		for _, secret := range []string{fuzzToken, "fuzzTokenSecretPart0123456789"} {
			if strings.Contains(msg, secret) {
				t.Fatalf("error text holds the token: %q", msg)
			}
		}
		if len(e.Message) > maxMessageLen+len("…") {
			t.Fatalf("message of %d bytes", len(e.Message))
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(e.Message) {
			t.Fatalf("valid UTF-8 in, invalid message out: %q", e.Message)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.RetryAfter)
		}
	})
}

// FuzzParseTime reads a Cachet timestamp in every shape the decoders see:
// the {"human","string"} object, a bare string, null or junk.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		`"2025-01-02 03:04:05"`, `{"human":"1 minute ago","string":"2025-01-02 03:04:05"}`,
		`"2025-01-02T03:04:05.000000Z"`, `"2025-03-30 02:30:00"`, `null`, `""`, `17`, `{"string":null}`,
	} {
		f.Add([]byte(s))
	}
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, b []byte) {
		var w wireTime
		if err := w.UnmarshalJSON(b); err != nil {
			return
		}
		_ = c.time(w)
		_, _ = parseTime(string(w), time.UTC)
		var n flexInt
		_ = n.UnmarshalJSON(b)
		var fl flexFloat
		_ = fl.UnmarshalJSON(b)
		var bo flexBool
		_ = bo.UnmarshalJSON(b)
		var m metaMap
		_ = m.UnmarshalJSON(b)
		_, _ = decodeEnumValue(b)
		_ = pageOf(string(b))
		if s := truncate(string(b), 16); len(s) > 16+len("…") {
			t.Fatalf("truncate to 16 gave %d bytes", len(s))
		}
	})
}

// recordedSeeds are the fake's answers to the reads statussync makes, in
// the JSON:API and the legacy shapes, and to failing requests.
func recordedSeeds(tb testing.TB) (docs map[string][]byte, errs map[string]apiErrorSeed) {
	tb.Helper()
	docs, errs = map[string][]byte{}, map[string]apiErrorSeed{}
	for _, shape := range []string{"jsonapi", "legacy"} {
		opts := []cachettest.Option{cachettest.WithToken(fuzzToken, "*"), cachettest.WithLocation(fuzzClient().loc)}
		if shape == "legacy" {
			opts = append(opts, cachettest.WithLegacyShapes())
		}
		srv := cachettest.New(tb, opts...)
		c1 := srv.AddComponent("GitLab", cachettest.StatusOperational)
		c2 := srv.AddComponent("Docs", cachettest.StatusMajorOutage)
		srv.AddComponentGroup("Services", cachettest.VisibleGuest, c1.ID, c2.ID)
		occurred := time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC)
		in := srv.AddIncident(cachettest.Incident{
			Name: "GitLab is down", Message: "Investigating", Status: cachettest.IncidentInvestigating,
			Visible: cachettest.VisibleGuest, OccurredAt: &occurred,
			Components: []cachettest.Impact{{ComponentID: c1.ID, Status: cachettest.StatusMajorOutage}},
			Meta:       map[string]any{"statussync_component": "GitLab", "statussync_episode": "GitLab@1743298200"},
		})
		srv.AddIncidentUpdate(in.ID, cachettest.IncidentFixed, "Resolved")
		m := srv.AddMetric("GitLab response time", "ms", 5)
		srv.AddSchedule(cachettest.Schedule{
			Name: "Upgrade", ScheduledAt: occurred,
			Components: []cachettest.Impact{{ComponentID: c2.ID}},
		})
		type call struct{ method, path, body, token string }
		calls := []call{
			{"GET", "/components?include=group,meta&per_page=1", "", fuzzToken},
			{"GET", "/components/" + strconv.Itoa(c1.ID), "", fuzzToken},
			{"GET", "/component-groups?include=components", "", fuzzToken},
			{"GET", "/incidents?include=components,updates,meta&filter[status]=1", "", fuzzToken},
			{"GET", "/incidents/" + strconv.Itoa(in.ID) + "/updates", "", fuzzToken},
			{"GET", "/metrics", "", fuzzToken},
			{"GET", "/metrics/" + strconv.Itoa(m.ID) + "/points", "", fuzzToken},
			{"GET", "/schedules?include=components", "", fuzzToken},
			{"GET", "/components/999", "", fuzzToken},
			{"GET", "/components?include=updates", "", fuzzToken},
			{"POST", "/components", `{"status":9}`, fuzzToken},
			{"PUT", "/components/" + strconv.Itoa(c1.ID), `{"status":4}`, "wrong"},
		}
		for _, cl := range calls {
			req, err := http.NewRequest(cl.method, srv.URL()+cl.path, strings.NewReader(cl.body))
			if err != nil {
				tb.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+cl.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				tb.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				tb.Fatal(err)
			}
			name := fmt.Sprintf("recorded-%s-%s-%s", shape, strings.ToLower(cl.method), strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_", ",", "_", "[", "", "]", "").Replace(strings.TrimPrefix(cl.path, "/")))
			if resp.StatusCode == http.StatusOK {
				docs[name] = body
			} else {
				errs[name] = apiErrorSeed{resp.StatusCode, body, resp.Header.Get("Retry-After")}
			}
		}
		srv.FailNext(1, http.StatusTooManyRequests)
		resp, err := http.Get(srv.URL() + "/components")
		if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		errs["recorded-"+shape+"-429"] = apiErrorSeed{resp.StatusCode, body, resp.Header.Get("Retry-After")}
	}
	return docs, errs
}

type apiErrorSeed struct {
	status     int
	body       []byte
	retryAfter string
}

// TestRecordedSeedsDecode keeps the recorded seeds honest: every answer
// the fake gives to statussync's reads must decode. With -update-seeds it
// re-records them.
func TestRecordedSeedsDecode(t *testing.T) {
	docs, errs := recordedSeeds(t)
	if *updateSeeds {
		for name, body := range docs {
			writeSeed(t, "FuzzDecodeDocument", name, "[]byte("+strconv.Quote(string(body))+")")
		}
		for name, e := range errs {
			writeSeed(t, "FuzzAPIError", name, fmt.Sprintf("int(%d)\n[]byte(%s)\nstring(%s)", e.status, strconv.Quote(string(e.body)), strconv.Quote(e.retryAfter)))
		}
	}
	c := fuzzClient()
	for name, body := range docs {
		doc, err := decodeDocument(body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, r := range doc.Data {
			if r.ID == 0 {
				t.Errorf("%s: a resource without id", name)
			}
		}
		if strings.Contains(name, "components_") && strings.Contains(name, "per_page") {
			if !doc.HasNext {
				t.Errorf("%s: no next page", name)
			}
			for _, r := range doc.Data {
				if _, err := c.decodeComponent(r); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}
	if len(errs) == 0 {
		t.Error("no error answers recorded")
	}
}

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
