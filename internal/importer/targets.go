package importer

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// bbTarget is one target of the targets file with the module to probe it.
type bbTarget struct {
	path   string // for messages: "targets:3" (line 3) or "targets[0].targets[2]"
	module string
	target string
	labels map[string]string // a file_sd group's labels
}

// parseTargets reads the targets file in either format:
//
//   - text: one target per line, "TARGET" or "MODULE TARGET"; blank lines
//     and lines starting with # are skipped;
//   - Prometheus file_sd (JSON or YAML): a list of {targets: [...],
//     labels: {...}}, the module in the label module (or __param_module).
//
// Targets without a module get defaultModule; the caller reports those
// that still have none.
func parseTargets(c *collector, anchor *yaml.Node, data []byte, defaultModule string) ([]bbTarget, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))
	if len(trimmed) == 0 {
		return nil, nil
	}
	if trimmed[0] == '[' || trimmed[0] == '-' {
		v, err := decode(trimmed)
		if err != nil {
			return nil, fmt.Errorf("targets file (file_sd): %w", err)
		}
		groups, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("targets file (file_sd): must be a list of {targets, labels}, not %s", describe(v))
		}
		return fileSDTargets(c, anchor, groups, defaultModule), nil
	}
	return textTargets(c, anchor, trimmed, defaultModule), nil
}

func textTargets(c *collector, anchor *yaml.Node, data []byte, defaultModule string) []bbTarget {
	var out []bbTarget
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		path := fmt.Sprintf("targets:%d", i+1)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c.consumed[path] = true
		fields := strings.Fields(line)
		switch len(fields) {
		case 1:
			out = append(out, bbTarget{path: path, module: defaultModule, target: fields[0]})
		case 2:
			out = append(out, bbTarget{path: path, module: fields[0], target: fields[1]})
		default:
			c.warn(anchor, path, "%s: expected \"TARGET\" or \"MODULE TARGET\"; skipped", quote(line))
		}
	}
	return out
}

func fileSDTargets(c *collector, anchor *yaml.Node, groups []any, defaultModule string) []bbTarget {
	var out []bbTarget
	for i, g := range groups {
		path := indexPath("targets", i)
		o, ok := newObject(c, path, g, anchor)
		if !ok {
			c.consumed[path] = true
			c.warn(anchor, path, "must be {targets, labels}, not %s; skipped", describe(g))
			continue
		}
		module := defaultModule
		labels := map[string]string{}
		if l, ok := o.child("labels"); ok {
			for _, key := range []string{"module", "__param_module"} {
				if m, ok := l.str(key); ok && m != "" {
					module = m
				}
			}
			for _, k := range l.keys() {
				switch {
				case l.taken[k]:
				case strings.HasPrefix(k, "__"):
					l.drop(k, "Prometheus-internal label; not imported")
				case !labelName.MatchString(k):
					l.drop(k, "not a valid label name; not imported")
				case slices.Contains(reservedLabels, k):
					l.drop(k, "statussync sets this label itself; not imported")
				default:
					if v, ok := l.str(k); ok {
						labels[k] = v
					}
				}
			}
		}
		list, lpath, _ := o.list("targets")
		for j, t := range list {
			tpath := indexPath(lpath, j)
			c.consumed[tpath] = true
			s, ok := asString(t)
			if !ok || strings.TrimSpace(s) == "" {
				c.warn(anchor, tpath, "must be a target, not %s; skipped", describe(t))
				continue
			}
			out = append(out, bbTarget{path: tpath, module: module, target: strings.TrimSpace(s), labels: labels})
		}
		if len(list) == 0 {
			c.warn(anchor, path, "has no targets")
		}
		o.rest("")
	}
	return out
}

// labelName and reservedLabels are statussync's rules for static labels
// (config/validate.go).
var (
	labelName      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	reservedLabels = []string{"monitor", "kind", "phase", "result", "le", "quantile", "job", "instance"}
)
