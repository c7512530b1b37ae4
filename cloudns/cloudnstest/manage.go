package cloudnstest

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"net/url"
)

// The write endpoints: create, update and delete checks, and list, add and
// delete notifications (reference §2.4 and §2.8). Their success texts and
// most failure texts are not documented; the ones below are marked as
// inferred. What is documented and modelled: HTTP 200 for failures with
// {"status":"Failed","statusDescription":...}, every value a string in
// answers, the id of a new check in create's answer, notifications listed
// as a JSON array with [] past the last page, paths stored without their
// leading slash, and documented defaults filled in for unsent parameters.

// Notification is one notification of a check.
type Notification struct {
	ID    int64
	Type  string
	Value string
}

// Texts of write failures. TextInvalidRequest and TextNotificationType are
// documented for add-notification; the others are inferred.
const (
	TextInvalidRequest   = "Invalid request."
	TextNotificationType = "Invalid notification type."
	TextInvalidCheck     = "Invalid monitoring check."
	// TextMissingName and TextInvalidType are inferred.
	TextMissingName = "Missing or invalid required parameter 'name'."
	TextInvalidType = "Invalid check type."
	// TextMissingIP is inferred.
	TextMissingIP = "Missing required parameter 'ip'."
	// TextInvalidRegion is inferred.
	TextInvalidRegion = "Invalid monitoring region."
	// TextInvalidNotificationID is inferred.
	TextInvalidNotificationID = "Invalid notification id."
)

// validTypes are the check types of both numbering generations (§2.12).
var validTypes = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15, 16, 17, 18}

var validRegions = strings.Fields("global eur nam asi at bg br ca de es fi fr hk hu il in it jp kr mx nl pe pl ro ru sg tr tw uk us za")

// notificationTypes are add-notification's documented types.
var notificationTypes = []string{"webhook-up", "webhook-down", "mail", "sms", "telegram", "discord"}

// WithExtraFields adds the inferred per-type keys (http_status_code,
// timeout, http_request_type, content_match, ip_type, connection_security)
// to check objects. By default they are left out: the reference infers, but
// has not seen, that the API returns them.
func WithExtraFields() Option { return func(c *config) { c.extras = true } }

// WithoutCreateID leaves the new check's id out of create's answer, which
// the reference has from client code only.
func WithoutCreateID() Option { return func(c *config) { c.noCreateID = true } }

// Checks returns copies of every check, sorted by id.
func (s *Server) Checks() []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Check, 0, len(s.checks))
	for _, id := range slices.Sorted(maps.Keys(s.checks)) {
		c := *s.checks[id]
		c.Notifications = slices.Clone(c.Notifications)
		out = append(out, c)
	}
	return out
}

// AddNotification adds a notification to a check and returns its id, or 0
// if the check does not exist.
func (s *Server) AddNotification(checkID int64, typ, value string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.checks[checkID]
	if !ok {
		return 0
	}
	return s.addNotificationLocked(c, typ, value)
}

func (s *Server) addNotificationLocked(c *Check, typ, value string) int64 {
	s.nextNotification++
	c.Notifications = append(c.Notifications, Notification{ID: s.nextNotification, Type: typ, Value: value})
	return s.nextNotification
}

func successBody(desc string, extra map[string]string) string {
	m := map[string]string{"status": "Success", "statusDescription": desc}
	maps.Copy(m, extra)
	b, _ := json.Marshal(m)
	return string(b)
}

// manageLocked answers the write and notification endpoints.
func (s *Server) manageLocked(path string, p url.Values) string {
	switch path {
	case PathCreate:
		c := &Check{}
		if failure := s.applyParamsLocked(c, p, true); failure != "" {
			return FailedBody(failure)
		}
		id := s.addCheckLocked(*c)
		extra := map[string]string{"id": strconv.FormatInt(id, 10)}
		if s.cfg.noCreateID {
			extra = nil
		}
		// Success text inferred.
		return successBody("The monitoring check was created successfully.", extra)
	case PathUpdate:
		c, failure := s.checkParamLocked(p)
		if failure != "" {
			return FailedBody(failure)
		}
		updated := *c
		if failure := s.applyParamsLocked(&updated, p, false); failure != "" {
			return FailedBody(failure)
		}
		*c = updated
		return successBody("The monitoring check was updated successfully.", nil)
	case PathDelete:
		c, failure := s.checkParamLocked(p)
		if failure != "" {
			return FailedBody(failure)
		}
		delete(s.checks, c.ID)
		delete(s.statusField, c.ID)
		return successBody("The monitoring check was deleted successfully.", nil)
	case PathListNotif:
		c, failure := s.checkParamLocked(p)
		if failure != "" {
			return FailedBody(failure)
		}
		rows, page, failure := pageParams(p)
		if failure != "" {
			return failure
		}
		from := (page - 1) * rows
		if from >= len(c.Notifications) {
			return "[]"
		}
		type wire struct {
			ID    string `json:"notification_id"`
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		var out []wire
		for _, n := range c.Notifications[from:min(from+rows, len(c.Notifications))] {
			out = append(out, wire{strconv.FormatInt(n.ID, 10), n.Type, n.Value})
		}
		b, _ := json.Marshal(out)
		return string(b)
	case PathAddNotif:
		c, failure := s.checkParamLocked(p)
		if failure != "" {
			return FailedBody(failure)
		}
		typ, value := p.Get("type"), p.Get("value")
		if !slices.Contains(notificationTypes, typ) {
			return FailedBody(TextNotificationType)
		}
		if value == "" {
			return FailedBody(TextInvalidRequest)
		}
		s.addNotificationLocked(c, typ, value)
		return successBody("The notification was added successfully.", nil)
	case PathDeleteNotif:
		c, failure := s.checkParamLocked(p)
		if failure != "" {
			return FailedBody(failure)
		}
		nid, err := strconv.ParseInt(p.Get("notification-id"), 10, 64)
		i := slices.IndexFunc(c.Notifications, func(n Notification) bool { return n.ID == nid })
		if err != nil || i < 0 {
			return FailedBody(TextInvalidNotificationID)
		}
		c.Notifications = slices.Delete(c.Notifications, i, i+1)
		return successBody("The notification was deleted successfully.", nil)
	}
	return FailedBody(TextInvalidRequest)
}

func (s *Server) checkParamLocked(p url.Values) (*Check, string) {
	id, err := strconv.ParseInt(p.Get("id"), 10, 64)
	if err != nil {
		return nil, TextInvalidCheck
	}
	c, ok := s.checks[id]
	if !ok {
		return nil, TextInvalidCheck
	}
	return c, ""
}

// applyParamsLocked sets c from create/update parameters. For a create,
// unsent parameters take the documented defaults (status_change_checks 1,
// state active) or the fake's (region global, period 60); an update keeps
// what it does not send (not verified; clients re-send everything).
func (s *Server) applyParamsLocked(c *Check, p url.Values, create bool) string {
	name := p.Get("name")
	if strings.TrimSpace(name) == "" {
		return TextMissingName
	}
	t, err := strconv.Atoi(p.Get("check_type"))
	if err != nil || !slices.Contains(validTypes, t) {
		return TextInvalidType
	}
	if p.Get("ip") == "" && t != 12 && (create || c.IP == "") {
		return TextMissingIP
	}
	if r := p.Get("monitoring_region"); r != "" && !slices.Contains(validRegions, r) {
		if _, err := strconv.Atoi(r); err != nil {
			return TextInvalidRegion
		}
	}
	ints := map[string]*int{"port": &c.Port, "check_period": &c.Period, "status_change_checks": &c.StatusChangeChecks}
	for k, dst := range ints {
		if !p.Has(k) || p.Get(k) == "" {
			continue
		}
		n, err := strconv.Atoi(p.Get(k))
		if err != nil {
			// Inferred text.
			return "Invalid " + k + " param."
		}
		*dst = n
	}
	c.Name, c.Type = name, t
	strs := map[string]*string{
		"ip": &c.IP, "host": &c.Host, "monitoring_region": &c.Region, "content": &c.Content,
		"open_port": &c.OpenPort, "query_type": &c.QueryType, "query_response": &c.QueryResponse,
		"http_status_code": &c.HTTPStatusCode, "timeout": &c.Timeout, "http_request_type": &c.HTTPRequestType,
		"content_match": &c.ContentMatch, "ip_type": &c.IPType, "connection_security": &c.ConnectionSecurity,
	}
	for k, dst := range strs {
		if p.Has(k) {
			*dst = p.Get(k)
		}
	}
	if p.Has("path") {
		// Stored without the leading slash (reference §2.1).
		c.Path = strings.TrimPrefix(p.Get("path"), "/")
	}
	if p.Has("state") {
		c.Paused = p.Get("state") == "0"
	}
	if create {
		c.Region = cmp.Or(c.Region, "global")
		c.Status = StatusUnknown
	}
	return ""
}
