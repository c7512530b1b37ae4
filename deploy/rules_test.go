package deploy

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

const (
	rulesFile     = "prometheus/statussync.rules.yml"
	rulesTestFile = "prometheus/statussync.rules.test.yml"
	ruleManifest  = "kubernetes/prometheusrule.yaml"
	alertsDoc     = "../docs/alerts.md"
	runbookBase   = "https://github.com/statussync/statussync/blob/main/docs/alerts.md#"
)

func parseRules(tb testing.TB, name string, data []byte) *rulefmt.RuleGroups {
	tb.Helper()
	// What `promtool check rules` does: strict YAML, valid names, and
	// every expression and template parsed.
	groups, errs := rulefmt.Parse(data, false, model.LegacyValidation)
	for _, err := range errs {
		tb.Errorf("%s: %v", name, err)
	}
	if len(errs) > 0 {
		tb.FailNow()
	}
	return groups
}

func alertRules(tb testing.TB) []rulefmt.Rule {
	tb.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		tb.Fatal(err)
	}
	var rules []rulefmt.Rule
	for _, g := range parseRules(tb, rulesFile, data).Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// The alerts on-call needs (issue #7, and #9's leader election), each
// complete: severity, summary, description and a runbook section that
// exists in docs/alerts.md.
func TestAlertRules(t *testing.T) {
	rules := alertRules(t)
	var names []string
	for _, r := range rules {
		names = append(names, r.Alert)
	}
	want := []string{
		"StatussyncDown",
		"StatussyncReplicaDown",
		"StatussyncNoLeader",
		"StatussyncMultipleLeaders",
		"StatussyncCachetReconcileFailing",
		"StatussyncCloudNSPollFailing",
		"StatussyncConfigReloadFailed",
		"StatussyncCachetTokenRejected",
		"StatussyncCertificateExpiringSoon",
		"StatussyncComponentMajorOutage",
		"StatussyncPageDiffersFromDesired",
	}
	if !slices.Equal(names, want) {
		t.Errorf("alerts %v, want %v", names, want)
	}

	doc, err := os.ReadFile(alertsDoc)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## +(\S+)\s*$`).FindAllSubmatch(doc, -1) {
		anchors[strings.ToLower(string(m[1]))] = true
	}

	jobMatcher := regexp.MustCompile(`\{[^}]*job="statussync"[^}]*\}`)
	for _, r := range rules {
		t.Run(r.Alert, func(t *testing.T) {
			if r.Record != "" || r.Alert == "" {
				t.Fatal("want alerting rules only")
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("severity %q: want warning or critical", s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("no %s annotation", a)
				}
			}
			anchor := strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != runbookBase+anchor {
				t.Errorf("runbook_url %q, want %s%s", r.Annotations["runbook_url"], runbookBase, anchor)
			}
			if !anchors[anchor] {
				t.Errorf("%s has no section \"## %s\"", alertsDoc, r.Alert)
			}
			unknown, err := unknownMetrics(r.Expr)
			if err != nil {
				t.Fatal(err)
			}
			if len(unknown) > 0 {
				t.Errorf("unknown metrics %v", unknown)
			}
			// Every selector names the job, so the rules never match
			// another exporter's probe_* series.
			expr, err := parser.ParseExpr(r.Expr)
			if err != nil {
				t.Fatal(err)
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && !jobMatcher.MatchString(vs.String()) {
					t.Errorf("selector %s does not select job=\"statussync\"", vs)
				}
				return nil
			})
		})
	}
}

// The rules' unit tests (run by promtool test rules) make every alert fire
// at least once, so none is untested.
func TestRuleUnitTestsCoverEveryAlert(t *testing.T) {
	data, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		RuleFiles []string `json:"rule_files"`
		Tests     []struct {
			Name           string `json:"name"`
			AlertRuleTests []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(suite.RuleFiles, []string{filepath.Base(rulesFile)}) {
		t.Errorf("rule_files %v, want [%s]", suite.RuleFiles, filepath.Base(rulesFile))
	}
	fires := map[string]bool{}
	for _, tc := range suite.Tests {
		for _, a := range tc.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			}
		}
	}
	for _, r := range alertRules(t) {
		if !fires[r.Alert] {
			t.Errorf("%s: no test in %s expects it to fire", r.Alert, rulesTestFile)
		}
	}
}

// prometheusRule renders kubernetes/prometheusrule.yaml from the rules
// file: a header, then the file's groups indented under spec.
func prometheusRule(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(`# Generated from deploy/` + rulesFile + ` by
#   cd deploy && go test -run TestPrometheusRule -update
# Edit that file, not this one; docs/alerts.md is the runbook.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: statussync
  labels:
    app.kubernetes.io/name: statussync
    app.kubernetes.io/instance: statussync
spec:
`)
	inBody := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(line, "groups:") {
			inBody = true
		}
		if !inBody || line == "" {
			continue // the file's own header comment
		}
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + line)
	}
	return b.Bytes()
}

// kubernetes/prometheusrule.yaml carries exactly the rules of the plain
// rules file, and they pass the same checks.
func TestPrometheusRule(t *testing.T) {
	want := prometheusRule(t)
	if *update {
		if err := os.WriteFile(ruleManifest, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(ruleManifest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with %s: run go test -run TestPrometheusRule -update", ruleManifest, rulesFile)
	}

	objs, err := decodeStrict(ruleManifest, got)
	if err != nil {
		t.Fatal(err)
	}
	pr := only[*monitoringv1.PrometheusRule](t, objs)
	groups, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	fromCRD := parseRules(t, ruleManifest, groups)
	plain, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := parseRules(t, rulesFile, plain)
	if len(fromCRD.Groups) != len(fromFile.Groups) {
		t.Fatalf("%d groups, want %d", len(fromCRD.Groups), len(fromFile.Groups))
	}
	for i := range fromFile.Groups {
		a, b := fromCRD.Groups[i], fromFile.Groups[i]
		if a.Name != b.Name || len(a.Rules) != len(b.Rules) {
			t.Fatalf("group %d differs", i)
		}
		for j := range b.Rules {
			ra, rb := a.Rules[j], b.Rules[j]
			if ra.Alert != rb.Alert || ra.Expr != rb.Expr || ra.For != rb.For ||
				!maps.Equal(ra.Labels, rb.Labels) || !maps.Equal(ra.Annotations, rb.Annotations) {
				t.Errorf("rule %s differs between %s and %s", rb.Alert, ruleManifest, rulesFile)
			}
		}
	}
}
