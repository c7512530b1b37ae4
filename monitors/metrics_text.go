package monitors

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// textWriter writes the records' families straight in the Prometheus text
// format (0.0.4) or OpenMetrics 1.0.0, byte for byte as expfmt's encoders
// write the equivalent dto families (TestTextWriterMatchesExpfmt), but
// without building ~250,000 dto.Metrics per scrape at 10,000 monitors.
// Every name written is a valid legacy Prometheus name (config checks the
// static label names), so no escaping scheme ever applies to names.
type textWriter struct {
	w   *bufio.Writer
	om  bool // OpenMetrics
	num []byte
}

// family writes ownFamilies[k] from the snapshots; nothing when no
// monitor has a series of it, as family does.
func (t *textWriter) family(k int, snaps []recSnap) {
	f := ownFamilies[k]
	var gf *family
	if f.gauge >= 0 {
		gf = &probeFamilies[f.gauge]
	}
	header := false
	sample := f.name
	writeHeader := func() {
		header = true
		t.header(f.name, f.help, f.counter)
	}
	for i := range snaps {
		s := &snaps[i]
		switch {
		case f.name == "probe_success":
			if s.last.hasSuccess {
				if !header {
					writeHeader()
				}
				t.series(sample, s.pairs, "", "", s.last.success)
			}
		case f.name == "probe_duration_seconds":
			if s.last.hasResult {
				if !header {
					writeHeader()
				}
				t.series(sample, s.pairs, "", "", s.last.duration)
			}
		case f.counter:
			if !header {
				writeHeader()
			}
			for j, c := range s.last.checks {
				t.series(sample, s.pairs, resultLabel, statusNames[j], float64(c))
			}
		default:
			for _, sp := range s.last.points {
				if int(sp.family) != f.gauge {
					continue
				}
				p := sp.point()
				if !header {
					writeHeader()
				}
				t.series(sample, s.pairs, gf.extra, p.extra, p.value)
			}
		}
	}
}

// header writes a family's HELP and TYPE lines; an OpenMetrics counter is
// named without its _total suffix, as expfmt does.
func (t *textWriter) header(name, help string, counter bool) {
	typ := "gauge"
	if counter {
		typ = "counter"
		if t.om {
			name = strings.TrimSuffix(name, "_total")
		}
	}
	t.w.WriteString("# HELP ")
	t.w.WriteString(name)
	t.w.WriteByte(' ')
	t.escaped(help, t.om)
	t.w.WriteString("\n# TYPE ")
	t.w.WriteString(name)
	t.w.WriteByte(' ')
	t.w.WriteString(typ)
	t.w.WriteByte('\n')
}

// source writes a source's family; nothing when it has no series, as a
// Registry drops an empty family. An OpenMetrics counter's samples end in
// _total whatever its name, as expfmt writes them.
func (t *textWriter) source(f *Family) {
	sample := f.Name
	if f.Counter && t.om && !strings.HasSuffix(sample, "_total") {
		sample += "_total"
	}
	header := false
	f.Each(func(values []string, v float64) {
		if !header {
			header = true
			t.header(f.Name, f.Help, f.Counter)
		}
		w := t.w
		w.WriteString(sample)
		for i, n := range f.LabelNames {
			if i == 0 {
				w.WriteByte('{')
			} else {
				w.WriteByte(',')
			}
			w.WriteString(n)
			w.WriteString(`="`)
			t.escaped(values[i], true)
			w.WriteByte('"')
		}
		if len(f.LabelNames) > 0 {
			w.WriteByte('}')
		}
		w.WriteByte(' ')
		t.float(v)
		w.WriteByte('\n')
	})
}

// series writes one sample line: the pairs (sorted by name) with the extra
// label, if any, in its place (replacing a pair of the same name, as
// appendWithPair does).
func (t *textWriter) series(name string, pairs []*dto.LabelPair, extraName, extraValue string, v float64) {
	w := t.w
	w.WriteString(name)
	sep := byte('{')
	label := func(n, v string) {
		w.WriteByte(sep)
		sep = ','
		w.WriteString(n)
		w.WriteString(`="`)
		t.escaped(v, true)
		w.WriteByte('"')
	}
	added := extraName == ""
	for _, p := range pairs {
		n := p.GetName()
		if !added {
			if n == extraName {
				continue
			}
			if n > extraName {
				label(extraName, extraValue)
				added = true
			}
		}
		label(n, p.GetValue())
	}
	if !added {
		label(extraName, extraValue)
	}
	if sep == ',' {
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	t.float(v)
	w.WriteByte('\n')
}

// escaped writes s escaped as expfmt does: backslash and newline, and with
// quoted also the double quote.
func (t *textWriter) escaped(s string, quoted bool) {
	for {
		i := 0
		for ; i < len(s); i++ {
			if c := s[i]; c == '\\' || c == '\n' || (quoted && c == '"') {
				break
			}
		}
		t.w.WriteString(s[:i])
		if i == len(s) {
			return
		}
		switch s[i] {
		case '\\':
			t.w.WriteString(`\\`)
		case '\n':
			t.w.WriteString(`\n`)
		case '"':
			t.w.WriteString(`\"`)
		}
		s = s[i+1:]
	}
}

// float writes v as expfmt's writeFloat (text) or writeOpenMetricsFloat.
func (t *textWriter) float(v float64) {
	switch {
	case v == 0: // -0 too, as expfmt
		if t.om {
			t.w.WriteString("0.0")
		} else {
			t.w.WriteByte('0')
		}
	case math.IsNaN(v):
		t.w.WriteString("NaN")
	case math.IsInf(v, 1):
		t.w.WriteString("+Inf")
	case math.IsInf(v, -1):
		t.w.WriteString("-Inf")
	case v == math.Trunc(v) && v > -1e6 && v < 1e6:
		// Most values are small integers (status codes, lengths, counts),
		// which 'g' prints without exponent below 1e6: format them as
		// integers, several times faster.
		t.num = strconv.AppendInt(t.num[:0], int64(v), 10)
		if t.om {
			t.num = append(t.num, '.', '0')
		}
		t.w.Write(t.num)
	default:
		t.num = strconv.AppendFloat(t.num[:0], v, 'g', -1, 64)
		if t.om && !bytes.ContainsAny(t.num, "e.") {
			t.num = append(t.num, '.', '0')
		}
		t.w.Write(t.num)
	}
}
