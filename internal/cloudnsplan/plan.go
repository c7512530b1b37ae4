// Package cloudnsplan compares a ClouDNS checks file with the account and
// brings the account in line: `statussync cloudns plan` and `apply`. It sits
// beside the engine, not inside it: the daemon only reads ClouDNS, and this
// package is the only code that writes to it.
//
// Comparison is field by field and type-aware: ClouDNS answers numbers as
// strings, stores paths without their leading slash and may not report
// every parameter it accepts. A key the account does not report is not a
// difference (it cannot be seen either way) and is listed as unreported, so
// that a second plan after an apply is empty and a second apply makes no
// write call.
package cloudnsplan

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/internal/checksfile"
)

// API is the part of the ClouDNS client that plans and applies need.
// *cloudns.Client implements it.
type API interface {
	ListAllChecks(ctx context.Context, opts cloudns.ListOptions) ([]cloudns.Check, error)
	ListNotifications(ctx context.Context, id int64) ([]cloudns.Notification, error)
	CreateCheck(ctx context.Context, params url.Values) (int64, error)
	UpdateCheck(ctx context.Context, id int64, params url.Values) error
	DeleteCheck(ctx context.Context, id int64) error
	AddNotification(ctx context.Context, id int64, typ, value string) error
	DeleteNotification(ctx context.Context, id, nid int64) error
}

var _ API = (*cloudns.Client)(nil)

// Options tune a plan.
type Options struct {
	// Prune deletes checks the file does not declare. Without it they are
	// listed but kept.
	Prune bool
}

// Action is what a change does to a check.
type Action string

// Actions.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// FieldChange is one parameter that differs. Old is nil for a create.
type FieldChange struct {
	Key string  `json:"key"`
	Old *string `json:"old,omitempty"`
	New string  `json:"new"`
}

// NotificationChange is one notification to add or remove. Value is what
// may be shown: the environment variable's name for values read from one.
type NotificationChange struct {
	ID    int64  `json:"id,omitempty"`
	Type  string `json:"type"`
	Value string `json:"value"`
	// value is the real value to send; never printed.
	value string
}

func (n NotificationChange) String() string { return n.Type + " " + n.Value }

// Change is what happens to one check.
type Change struct {
	Action Action `json:"action"`
	Name   string `json:"name"`
	// ID is the check's id in the account (0 for a create).
	ID        int64 `json:"id,omitempty"`
	CheckType int   `json:"check_type"`
	// Fields are the parameters a create sends or an update changes.
	Fields              []FieldChange        `json:"fields,omitempty"`
	AddNotifications    []NotificationChange `json:"add_notifications,omitempty"`
	RemoveNotifications []NotificationChange `json:"remove_notifications,omitempty"`
	// Applies is false for a delete without prune: shown, not done.
	Applies bool `json:"applies"`

	params url.Values
}

// Plan is the difference between a checks file and the account.
type Plan struct {
	// Source is the checks file.
	Source string `json:"source"`
	// FileChecks and AccountChecks count the checks on each side.
	FileChecks    int  `json:"file_checks"`
	AccountChecks int  `json:"account_checks"`
	Prune         bool `json:"prune"`
	// Changes lists creates and updates in file order, then deletes by
	// name.
	Changes []Change `json:"changes"`
	// Unreported lists the parameters the account did not report for some
	// check, so that the plan could not compare them.
	Unreported []string `json:"unreported_fields,omitempty"`
	// ReadCalls counts the API reads the plan made.
	ReadCalls int `json:"-"`
}

// Count returns how many changes of action apply.
func (p *Plan) Count(a Action) (n int) {
	for _, c := range p.Changes {
		if c.Action == a && c.Applies {
			n++
		}
	}
	return n
}

// Kept counts the checks not in the file that are kept (no prune).
func (p *Plan) Kept() (n int) {
	for _, c := range p.Changes {
		if c.Action == ActionDelete && !c.Applies {
			n++
		}
	}
	return n
}

// HasChanges reports whether apply (with the same prune setting) would make
// any write call.
func (p *Plan) HasChanges() bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Applies })
}

// Compute reads the account (all pages of checks, and the notifications of
// each check the file manages notifications for) and compares it with f,
// whose notifications must be resolved. Duplicate names in the account are
// an error: a name is the only link between the file and a check.
func Compute(ctx context.Context, api API, f *checksfile.File, opts Options) (*Plan, error) {
	checks, err := api.ListAllChecks(ctx, cloudns.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the account's checks: %w", err)
	}
	if opts.Prune && len(f.Entries) == 0 && len(checks) > 0 {
		// An empty or truncated file (a bad merge, a template that
		// rendered nothing) would otherwise wipe the account.
		return nil, fmt.Errorf("the checks file %s declares no checks: with prune, apply would delete all %d checks of the account; refusing (delete them in the ClouDNS panel if that is really meant)", f.Source, len(checks))
	}
	p := &Plan{Source: f.Source, FileChecks: len(f.Entries), AccountChecks: len(checks), Prune: opts.Prune, ReadCalls: 1}
	byName := map[string][]cloudns.Check{}
	for _, c := range checks {
		byName[c.Name] = append(byName[c.Name], c)
	}
	var dups []string
	for name, cs := range byName {
		if len(cs) > 1 {
			ids := make([]string, len(cs))
			for i, c := range cs {
				ids[i] = strconv.FormatInt(c.ID, 10)
			}
			dups = append(dups, fmt.Sprintf("%q (ids %s)", name, strings.Join(ids, ", ")))
		}
	}
	if len(dups) > 0 {
		slices.Sort(dups)
		return nil, fmt.Errorf("the account has several checks with the same name, so the file cannot say which one it means: %s; rename or delete all but one in the ClouDNS panel", strings.Join(dups, "; "))
	}
	mask := newMasker(f)
	unreported := map[string]bool{}
	for i := range f.Entries {
		e := &f.Entries[i]
		params := e.APIParams()
		existing, ok := byName[e.Name]
		if !ok {
			ch := Change{Action: ActionCreate, Name: e.Name, CheckType: e.Type, Applies: true, params: params}
			for _, k := range orderedKeys(params) {
				ch.Fields = append(ch.Fields, FieldChange{Key: k, New: params.Get(k)})
			}
			if e.NotificationsManaged {
				for _, n := range e.Notifications {
					ch.AddNotifications = append(ch.AddNotifications, NotificationChange{Type: n.Type, Value: mask.desired(n), value: n.Value})
				}
			}
			p.Changes = append(p.Changes, ch)
			continue
		}
		acc := existing[0]
		ch := Change{Action: ActionUpdate, Name: e.Name, ID: acc.ID, CheckType: e.Type, Applies: true, params: params}
		have := acc.Fields()
		for _, k := range orderedKeys(params) {
			want := params.Get(k)
			got, reported := have[k]
			kind, _ := checksfile.FieldKind(k)
			switch same, known := equal(k, kind, got, want); {
			case !reported || !known:
				unreported[k] = true
			case !same:
				old := got
				ch.Fields = append(ch.Fields, FieldChange{Key: k, Old: &old, New: want})
			}
		}
		if e.NotificationsManaged {
			ns, err := api.ListNotifications(ctx, acc.ID)
			p.ReadCalls++
			if err != nil {
				return nil, fmt.Errorf("read the notifications of check %q (id %d): %w", e.Name, acc.ID, err)
			}
			ch.AddNotifications, ch.RemoveNotifications = diffNotifications(e.Notifications, ns, mask)
		}
		if len(ch.Fields) > 0 || len(ch.AddNotifications) > 0 || len(ch.RemoveNotifications) > 0 {
			p.Changes = append(p.Changes, ch)
		}
	}
	var deletes []Change
	for _, c := range checks {
		if !f.Has(c.Name) {
			deletes = append(deletes, Change{Action: ActionDelete, Name: c.Name, ID: c.ID, CheckType: int(c.Type), Applies: opts.Prune})
		}
	}
	slices.SortFunc(deletes, func(a, b Change) int { return strings.Compare(a.Name, b.Name) })
	p.Changes = append(p.Changes, deletes...)
	for k := range unreported {
		p.Unreported = append(p.Unreported, k)
	}
	slices.Sort(p.Unreported)
	return p, nil
}

// orderedKeys returns params' keys in checksfile.Keys order.
func orderedKeys(params url.Values) []string {
	var out []string
	for _, k := range checksfile.Keys {
		if params.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// equal compares an account value with the file's. known is false when the
// account value cannot be read as the field's type (a number field sent
// back as ""), which says nothing either way.
func equal(key string, kind checksfile.Kind, got, want string) (same, known bool) {
	got = strings.TrimSpace(got)
	switch kind {
	case checksfile.KindNumber:
		g, err := strconv.ParseFloat(got, 64)
		if err != nil {
			return false, false
		}
		w, _ := strconv.ParseFloat(want, 64)
		if key == "check_type" && g == 18 && w >= 4 && w <= 7 {
			// ClouDNS renumbered its HTTP(S) checks as "web" (18): a file
			// that still says 5 describes the same check.
			return true, true
		}
		return g == w, true
	case checksfile.KindPath:
		return strings.TrimLeft(got, "/") == strings.TrimLeft(want, "/"), true
	case checksfile.KindHost:
		return strings.EqualFold(strings.TrimSuffix(got, "."), strings.TrimSuffix(want, ".")), true
	case checksfile.KindLower:
		return strings.EqualFold(got, want), true
	}
	return got == want, true
}

// diffNotifications returns the notifications to add and to remove so that
// the account has exactly want. Types the file format cannot express
// (telegram, discord) are never removed.
func diffNotifications(want []checksfile.Notification, have []cloudns.Notification, mask *masker) (add, remove []NotificationChange) {
	matched := make([]bool, len(have))
	for _, n := range want {
		i := slices.IndexFunc(have, func(h cloudns.Notification) bool {
			return h.Type == n.Type && sameValue(n.Type, h.Value, n.Value)
		})
		for i >= 0 && matched[i] {
			j := slices.IndexFunc(have[i+1:], func(h cloudns.Notification) bool {
				return h.Type == n.Type && sameValue(n.Type, h.Value, n.Value)
			})
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i >= 0 {
			matched[i] = true
			continue
		}
		add = append(add, NotificationChange{Type: n.Type, Value: mask.desired(n), value: n.Value})
	}
	for i, h := range have {
		if matched[i] || !slices.Contains(checksfile.NotificationTypes, h.Type) {
			continue
		}
		remove = append(remove, NotificationChange{ID: h.ID, Type: h.Type, Value: mask.shown(h.Type, h.Value)})
	}
	return add, remove
}

func sameValue(typ, a, b string) bool {
	if typ == "mail" {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// masker decides how notification values are shown. Values read from
// environment variables are secrets of the CI job: wherever they appear,
// even in a notification to remove, the variable's name is shown instead.
// Webhook URLs lose their user info and query, where tokens live. A webhook
// that the file does not spell out (one set by hand in the panel, about to
// be removed) shows only its scheme and host: services such as Slack and
// Discord put the token in the path, and the plan is a CI job's public log.
type masker struct {
	env     map[string]string // value → variable name
	literal map[string]bool   // values written in the file itself
}

func newMasker(f *checksfile.File) *masker {
	m := &masker{env: map[string]string{}, literal: map[string]bool{}}
	for _, e := range f.Entries {
		for _, n := range e.Notifications {
			switch {
			case n.EnvVar != "" && n.Value != "":
				m.env[strings.ToLower(strings.TrimSpace(n.Value))] = n.EnvVar
			case n.EnvVar == "":
				m.literal[strings.TrimSpace(n.Value)] = true
			}
		}
	}
	return m
}

func (m *masker) desired(n checksfile.Notification) string {
	if n.EnvVar != "" {
		return "$" + n.EnvVar
	}
	return m.shown(n.Type, n.Value)
}

func (m *masker) shown(typ, v string) string {
	if name, ok := m.env[strings.ToLower(strings.TrimSpace(v))]; ok {
		return "$" + name
	}
	if strings.HasPrefix(typ, "webhook") {
		u, err := url.Parse(strings.TrimSpace(v))
		if err != nil || u.Host == "" {
			return "<webhook>"
		}
		if !m.literal[strings.TrimSpace(v)] {
			return u.Scheme + "://" + u.Host + "/…"
		}
		u.User = nil
		if u.RawQuery != "" {
			u.RawQuery = "REDACTED"
		}
		return u.String()
	}
	return v
}

// APIMessage returns ClouDNS's own failure text (statusDescription) from an
// error, or the error's text when the failure was not ClouDNS's answer.
func APIMessage(err error) string {
	var e *cloudns.Error
	if errors.As(err, &e) && e.Message != "" {
		return fmt.Sprintf("ClouDNS said %q", e.Message)
	}
	return err.Error()
}
