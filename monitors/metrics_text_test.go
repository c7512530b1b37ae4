package monitors

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/statussync/statussync/config"
)

// textFixture is a Metrics whose records cover what the text writer must
// get exactly right: label values that need escaping, an empty static
// label, a static label the family's own label replaces, every special
// float, and monitors without a result.
func textFixture(t *testing.T) *Metrics {
	t.Helper()
	specs := []config.MonitorSpec{
		{Name: "plain", Kind: "http"},
		{Name: `quo"te\back` + "\nline", Kind: "http", Labels: map[string]string{"team": "a\\b\"c\nd", "version": "static"}},
		{Name: "ünïcode ☃", Kind: "dns", Labels: map[string]string{"team": ""}},
		{Name: "never-checked", Kind: "tcp", Labels: map[string]string{"zone": "z"}},
		{Name: "unknown-only", Kind: "cloudns"},
	}
	m := NewScrapeMetrics(prometheus.NewRegistry())
	m.Init(specs)
	values := []float64{0, 1, -1, 0.5, 1e-7, 1e21, 123456789, 1 << 53, math.NaN(), math.Inf(1), math.Inf(-1), 3.0000000000000004,
		math.Copysign(0, -1), 999999, 1e6, -999999, -1e6, 100000, 200, 1e5 + 0.5, 12345678}
	var pts []point
	for i, f := range probeFamilies {
		v := values[i%len(values)]
		if f.extra == "" {
			pts = append(pts, point{family: f.name, value: v})
			continue
		}
		pts = append(pts, point{family: f.name, extra: "b-" + f.extra, value: v}, point{family: f.name, extra: `a "x"\y`, value: values[(i+1)%len(values)]})
	}
	m.observe(specs[0], observed(specs[0], StatusUp, pts[:5]...), 1500*time.Millisecond)
	m.observe(specs[1], observed(specs[1], StatusDown, pts...), 3*time.Millisecond)
	m.observe(specs[1], observed(specs[1], StatusUp, pts...), 0)
	m.observe(specs[2], observed(specs[2], StatusDegraded, pts[len(pts)-7:]...), time.Duration(math.MaxInt64))
	m.observe(specs[4], observed(specs[4], StatusUnknown), time.Second)
	return m
}

// TestTextWriterMatchesExpfmt renders every family both ways, in both
// text formats: written directly, and built as dto families and encoded by
// expfmt, which is what the direct writer replaces.
func TestTextWriterMatchesExpfmt(t *testing.T) {
	m := textFixture(t)
	snaps := m.snapshotAll()
	for _, format := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics)} {
		var direct, viaDTO bytes.Buffer
		bw := bufio.NewWriter(&direct)
		tw := &textWriter{w: bw, om: format.FormatType() == expfmt.TypeOpenMetrics}
		enc := expfmt.NewEncoder(&viaDTO, format)
		for k := range ownFamilies {
			tw.family(k, snaps)
			if mf := m.family(k, snaps); mf != nil {
				if err := enc.Encode(mf); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if direct.Len() < 2000 {
			t.Fatalf("%s: only %d bytes rendered:\n%s", format, direct.Len(), direct.String())
		}
		if d, e := direct.String(), viaDTO.String(); d != e {
			dl, el := strings.Split(d, "\n"), strings.Split(e, "\n")
			for i := range min(len(dl), len(el)) {
				if dl[i] != el[i] {
					t.Fatalf("%s: line %d differs:\n direct: %q\n expfmt: %q", format, i+1, dl[i], el[i])
				}
			}
			t.Fatalf("%s: %d lines written directly, %d by expfmt", format, len(dl), len(el))
		}
	}
}

// TestHandlerTextFormatsMatchProtobuf: what the handler serves in each
// format it negotiates parses to the same families.
func TestHandlerTextFormatsMatchProtobuf(t *testing.T) {
	m := textFixture(t)
	h := m.Handler(prometheus.NewRegistry(), nil)
	get := func(accept string) (string, []byte) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		return rec.Header().Get("Content-Type"), body
	}
	ctText, text := get("text/plain;version=0.0.4")
	ctOM, om := get("application/openmetrics-text;version=1.0.0")
	if !strings.HasPrefix(ctText, "text/plain") || !strings.HasPrefix(ctOM, "application/openmetrics-text") {
		t.Fatalf("content types %q and %q", ctText, ctOM)
	}
	if !bytes.HasSuffix(om, []byte("# EOF\n")) {
		t.Errorf("OpenMetrics body does not end with # EOF")
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("text body does not parse: %v", err)
	}
	// Every series of the dto path is in the text body.
	snaps := m.snapshotAll()
	series := 0
	for k := range ownFamilies {
		mf := m.family(k, snaps)
		if mf == nil {
			continue
		}
		got := fams[mf.GetName()]
		if got == nil || len(got.GetMetric()) != len(mf.GetMetric()) {
			t.Errorf("%s: %d series in the text body, %d built", mf.GetName(), len(got.GetMetric()), len(mf.GetMetric()))
		}
		series += len(mf.GetMetric())
	}
	if series < 50 {
		t.Errorf("only %d series", series)
	}
}
