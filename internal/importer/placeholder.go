package importer

import (
	"regexp"
	"strings"
)

// A cachet-monitor configuration deployed with Ansible is a Jinja template:
// values such as "{{ cachet_url }}/api" or "{{ cachet_token }}" are filled
// in when the file is rendered. Imported as they are, they would become a
// URL that does not resolve or a token that Cachet refuses, so they are
// recognised and reported instead. Go template actions (cachet-monitor's
// incident templates, "{{ .Monitor.Name }}") start with a dot or a dollar
// and are not placeholders.
var (
	jinjaExpr  = regexp.MustCompile(`\{\{-?\s*([A-Za-z_][^{}]*?)\s*-?\}\}`)
	jinjaBlock = regexp.MustCompile(`\{%-?\s*(.*?)\s*-?%\}`)
)

// placeholders returns the Jinja placeholders in s, as written
// ("{{ cachet_url }}"), or nil when s has none.
func placeholders(s string) []string {
	return append(jinjaExpr.FindAllString(s, -1), jinjaBlock.FindAllString(s, -1)...)
}

// placeholderNames lists the variables the placeholders of s name
// (cachet_url for "{{ cachet_url | default('x') }}"), for messages.
func placeholderNames(s string) string {
	var names []string
	for _, m := range jinjaExpr.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(m[1])
		if i := strings.IndexAny(name, " |(["); i > 0 {
			name = name[:i]
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "the template's variables"
	}
	return strings.Join(names, ", ")
}

// placeholder reports (and consumes) key when its value holds a Jinja
// placeholder, with what to set instead; the caller then leaves the key
// out. It reads nothing when the value is an ordinary one.
func (o *object) placeholder(key, instead string) bool {
	k, ok := o.lookup(key)
	if !ok {
		return false
	}
	s, ok := o.m[k].(string)
	if !ok || len(placeholders(s)) == 0 {
		return false
	}
	o.take(key, true)
	o.warn(k, "%s is a Jinja placeholder filled in when Ansible rendered the file; not imported: %s (with the value of %s)", quote(s), instead, placeholderNames(s))
	return true
}
