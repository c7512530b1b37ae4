package config

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// ConnectivityConfig is the self-connectivity guard: when every one of
// these monitors is down, statussync's own network is presumed broken and
// the other monitors' failures count as unknown (no information) instead of
// down, so a local problem never paints the whole page red.
type ConnectivityConfig struct {
	Monitors []string `koanf:"monitors"`
}

// IncidentSpec opts a component into incidents. Components without it get
// status updates only.
type IncidentSpec struct {
	Enabled bool `koanf:"enabled"`
	// Visible makes incidents public (default true); a non-public incident
	// does not raise the component's status on the page.
	Visible *bool `koanf:"visible"`
	// Notify e-mails Cachet's subscribers.
	Notify    bool              `koanf:"notify"`
	Templates IncidentTemplates `koanf:"templates"`

	compiled map[string]*template.Template
}

// IsVisible reports whether incidents are public.
func (s IncidentSpec) IsVisible() bool { return s.Visible == nil || *s.Visible }

// IncidentTemplates are text/template sources; empty ones use the defaults
// (DefaultIncidentTemplates). Their data is IncidentData.
type IncidentTemplates struct {
	Name          string `koanf:"name"`
	Investigating string `koanf:"investigating"`
	Update        string `koanf:"update"`
	Resolved      string `koanf:"resolved"`
	// Missed is used for an outage that began and ended while Cachet was
	// unreachable, recorded afterwards as an already fixed incident.
	Missed string `koanf:"missed"`
}

// DefaultIncidentTemplates are deliberately plain: they name the component
// and times only. Monitor names and reasons are available to templates that
// ask for them (.Monitors, .Reasons), but are not published by default
// since they can name internal hosts.
var DefaultIncidentTemplates = IncidentTemplates{
	Name:          `{{.Component}}: {{.Status}}`,
	Investigating: `{{.Component}} is experiencing a {{.Status}} since {{.Start.Format "15:04 MST"}}. We are investigating.`,
	Update:        `{{.Component}} is now experiencing a {{.Status}}.`,
	Resolved:      `{{.Component}} is operating normally again since {{.End.Format "15:04 MST"}}, after {{.Duration}}.`,
	Missed:        `{{.Component}} had a {{.Status}} from {{.Start.Format "2006-01-02 15:04 MST"}} to {{.End.Format "15:04 MST"}} ({{.Duration}}). It is recorded after the fact because the status page could not be updated at the time.`,
}

// IncidentData is what incident templates see.
type IncidentData struct {
	Component string
	// Status is human text: "major outage", "partial outage".
	Status string
	// Start is when the outage began; End when it ended (zero while open).
	Start, End time.Time
	// Duration is End-Start (or so far), rounded to the minute.
	Duration time.Duration
	// Monitors are the names of the component's failing monitors, Reasons
	// their publishable reasons by monitor name.
	Monitors []string
	Reasons  map[string]string
}

// Render executes the named template (name, investigating, update,
// resolved, missed). Templates were compiled and trial-rendered at load, so
// an error here means data the trial did not cover.
func (s IncidentSpec) Render(which string, d IncidentData) (string, error) {
	t, ok := s.compiled[which]
	if !ok {
		return "", fmt.Errorf("no incident template %q", which)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s template: %w", which, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// compiledTemplates shares compiled incident templates between the
// components of one load that use the same texts (usually all of them use
// the defaults): a compiled set is ~12 KB, which at 1,000 components was
// 12 MB of identical trees. Compiled templates are read-only and safe to
// execute concurrently.
type compiledTemplates map[IncidentTemplates]map[string]*template.Template

func (s *IncidentSpec) compile(p *problems, path, object string, shared compiledTemplates) {
	if !s.Enabled {
		return
	}
	if c, ok := shared[s.Templates]; ok {
		s.compiled = c
		return
	}
	failed := len(p.errs)
	defer func() {
		if len(p.errs) == failed && shared != nil {
			shared[s.Templates] = s.compiled
		}
	}()
	sample := IncidentData{
		Component: "Example", Status: "major outage",
		Start: time.Unix(1_700_000_000, 0).UTC(), End: time.Unix(1_700_003_600, 0).UTC(), Duration: time.Hour,
		Monitors: []string{"example"}, Reasons: map[string]string{"example": "HTTP 503"},
	}
	s.compiled = map[string]*template.Template{}
	for _, t := range []struct{ name, src, def string }{
		{"name", s.Templates.Name, DefaultIncidentTemplates.Name},
		{"investigating", s.Templates.Investigating, DefaultIncidentTemplates.Investigating},
		{"update", s.Templates.Update, DefaultIncidentTemplates.Update},
		{"resolved", s.Templates.Resolved, DefaultIncidentTemplates.Resolved},
		{"missed", s.Templates.Missed, DefaultIncidentTemplates.Missed},
	} {
		src := t.src
		if src == "" {
			src = t.def
		}
		tmpl, err := template.New(t.name).Option("missingkey=error").Parse(src)
		if err != nil {
			p.add(path+".templates."+t.name, object, "%v", err)
			continue
		}
		// A trial render catches references to fields that do not exist,
		// which Parse cannot see.
		if err := tmpl.Execute(&bytes.Buffer{}, sample); err != nil {
			p.add(path+".templates."+t.name, object, "%v", err)
			continue
		}
		s.compiled[t.name] = tmpl
	}
}

// MetricSpec pushes a monitor's latency to a Cachet metric, by id or by
// name (created when missing), averaged per the metric's threshold window.
type MetricSpec struct {
	ID   int    `koanf:"id"`
	Name string `koanf:"name"`
	// Suffix and Threshold (minutes, a factor of 60) are used only when
	// statussync creates the metric.
	Suffix    string `koanf:"suffix"`
	Threshold int    `koanf:"threshold"`
}

func (m *MetricSpec) validate(p *problems, path, object string) {
	if (m.ID == 0) == (m.Name == "") {
		p.add(path, object, "set exactly one of id and name")
	}
	if m.ID < 0 {
		p.add(path+".id", object, "must not be negative")
	}
	if m.Threshold < 1 || m.Threshold > 60 || 60%m.Threshold != 0 {
		p.add(path+".threshold", object, "%d must be a factor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)", m.Threshold)
	}
}

// statusMapKeys are the component states a status_map may override, and
// the values it may map them to.
var statusMapKeys = []string{"operational", "performance_issues", "partial_outage", "major_outage"}

func validStatusName(s string) bool {
	for _, k := range statusMapKeys {
		if s == k {
			return true
		}
	}
	return false
}
