package cloudns

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/statussync/statussync/internal/apiclient"
)

// Write operations, for the checks-as-code commands: create, update and
// delete checks, and list, add and delete their notifications. Operation
// labels of these calls.
const (
	opCreateCheck        = "create_check"
	opUpdateCheck        = "update_check"
	opDeleteCheck        = "delete_check"
	opListNotifications  = "list_notifications"
	opAddNotification    = "add_notification"
	opDeleteNotification = "delete_notification"
)

var (
	epCreate             = endpoint{opCreateCheck, "monitoring/create.json"}
	epUpdate             = endpoint{opUpdateCheck, "monitoring/update.json"}
	epDelete             = endpoint{opDeleteCheck, "monitoring/delete.json"}
	epListNotifications  = endpoint{opListNotifications, "monitoring/list-notifications.json"}
	epAddNotification    = endpoint{opAddNotification, "monitoring/add-notification.json"}
	epDeleteNotification = endpoint{opDeleteNotification, "monitoring/delete-notification.json"}
)

// notificationRows is the page size of list-notifications. GNOME's script
// uses 10 against the live API; larger sizes are not verified for this call.
const notificationRows = 10

// Notification is one notification of a check
// (monitoring/list-notifications.json).
type Notification struct {
	// ID is notification_id.
	ID int64
	// Type is mail, webhook-up, webhook-down, sms, telegram or discord.
	Type string
	// Value is the address, URL, number or message.
	Value string
}

// Fields returns the check object's keys as strings, exactly as received
// except that numbers become their decimal text. Keys whose value is null,
// an object or an array are left out: a key that is absent was not reported
// by ClouDNS, which is not the same as reported empty.
func (c Check) Fields() map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.Raw, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		if s, ok := parseString(raw); ok {
			out[k] = s
		}
	}
	return out
}

// credentialKeys may never come from the caller: the client adds them.
var credentialKeys = []string{"auth-id", "sub-auth-id", "sub-auth-user", "auth-password"}

func checkParams(params url.Values) error {
	for _, k := range credentialKeys {
		if params.Has(k) {
			return fmt.Errorf("parameter %s is the client's to set", k)
		}
	}
	return nil
}

// CreateCheck creates a check (monitoring/create.json) from params, the
// documented create parameters (name, check_type, ip, ...), and returns the
// new check's id. ClouDNS is expected to return the id in the success body;
// when it does not, the id is 0 and the caller must find the check by name.
//
// Write calls are retried only after a rate-limit refusal, which means the
// request was not carried out: retrying a create whose answer was lost
// could create the check twice.
func (c *Client) CreateCheck(ctx context.Context, params url.Values) (int64, error) {
	if err := checkParams(params); err != nil {
		return 0, fmt.Errorf("cloudns: create check: %w", err)
	}
	var id int64
	err := c.write(ctx, epCreate, params, func(body []byte) error {
		var err error
		id, err = decodeWriteResult(body, "id")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cloudns: create check %q: %w", params.Get("name"), err)
	}
	return id, nil
}

// UpdateCheck updates check id (monitoring/update.json) with params, which
// must carry the full parameter set: ClouDNS's own scripts re-send every
// parameter, and unsent ones are not known to be kept.
func (c *Client) UpdateCheck(ctx context.Context, id int64, params url.Values) error {
	if err := checkParams(params); err != nil {
		return fmt.Errorf("cloudns: update check %d: %w", id, err)
	}
	p := cloneValues(params)
	p.Set("id", strconv.FormatInt(id, 10))
	if err := c.write(ctx, epUpdate, p, decodeSuccess); err != nil {
		return fmt.Errorf("cloudns: update check %d: %w", id, err)
	}
	return nil
}

// DeleteCheck deletes check id (monitoring/delete.json).
func (c *Client) DeleteCheck(ctx context.Context, id int64) error {
	p := url.Values{"id": {strconv.FormatInt(id, 10)}}
	if err := c.write(ctx, epDelete, p, decodeSuccess); err != nil {
		return fmt.Errorf("cloudns: delete check %d: %w", id, err)
	}
	return nil
}

// ListNotifications returns every notification of check id, following the
// pages of monitoring/list-notifications.json until a short or empty page.
func (c *Client) ListNotifications(ctx context.Context, id int64) ([]Notification, error) {
	var all []Notification
	seen := map[int64]bool{}
	err := apiclient.Pages(maxPages, func(page int) (int, error) {
		p := url.Values{
			"id":            {strconv.FormatInt(id, 10)},
			"page":          {strconv.Itoa(page)},
			"rows-per-page": {strconv.Itoa(notificationRows)},
		}
		var batch []Notification
		err := c.call(ctx, epListNotifications, p, func(body []byte) error {
			var err error
			batch, err = decodeNotifications(body)
			return err
		}, nil)
		if err != nil {
			return 0, fmt.Errorf("page %d: %w", page, err)
		}
		added := 0
		for _, n := range batch {
			if !seen[n.ID] {
				seen[n.ID] = true
				all = append(all, n)
				added++
			}
		}
		if len(batch) < notificationRows {
			return 0, nil
		}
		if added == 0 {
			return 0, fmt.Errorf("page %d repeats earlier ones", page)
		}
		return page + 1, nil
	})
	if err != nil {
		return nil, fmt.Errorf("cloudns: list notifications of check %d: %w", id, err)
	}
	return all, nil
}

// AddNotification adds a notification of typ with value to check id
// (monitoring/add-notification.json).
func (c *Client) AddNotification(ctx context.Context, id int64, typ, value string) error {
	p := url.Values{"id": {strconv.FormatInt(id, 10)}, "type": {typ}, "value": {value}}
	if err := c.write(ctx, epAddNotification, p, decodeSuccess); err != nil {
		return fmt.Errorf("cloudns: add %s notification to check %d: %w", typ, id, err)
	}
	return nil
}

// DeleteNotification deletes notification nid of check id
// (monitoring/delete-notification.json).
func (c *Client) DeleteNotification(ctx context.Context, id, nid int64) error {
	p := url.Values{"id": {strconv.FormatInt(id, 10)}, "notification-id": {strconv.FormatInt(nid, 10)}}
	if err := c.write(ctx, epDeleteNotification, p, decodeSuccess); err != nil {
		return fmt.Errorf("cloudns: delete notification %d of check %d: %w", nid, id, err)
	}
	return nil
}

// write performs one write call. Unlike reads it is retried only when
// ClouDNS refused it for the rate limit: after a transport error or a 5xx
// the write may have happened, and repeating a create would duplicate it.
func (c *Client) write(ctx context.Context, ep endpoint, params url.Values, decode decodeFunc) error {
	form := c.form(params)
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, ep, form, decode, nil)
		if err == nil || KindOf(err) != KindRateLimited || attempt >= c.maxRetries {
			return err
		}
		wait := backoff(c.waitMin, c.waitMax, attempt)
		c.logger.Warn("retrying cloudns write after a rate-limit refusal", "operation", ep.op, "attempt", attempt+1, "wait", wait)
		if apiclient.Sleep(ctx, wait) != nil {
			return err
		}
	}
}

// decodeSuccess accepts a body whose status is Success (failures were
// already turned into errors). Anything else is a bad response: a write
// whose outcome is unclear must not be reported as done.
func decodeSuccess(body []byte) error {
	_, err := decodeWriteResult(body, "")
	return err
}

// decodeWriteResult checks a write's success envelope and returns the
// integer in idKey, if asked for and present.
func decodeWriteResult(body []byte, idKey string) (int64, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &m); err != nil || m == nil {
		return 0, fmt.Errorf("write response is not a json object: %.60q", bytes.TrimSpace(body))
	}
	if s, _ := parseString(m["status"]); !strings.EqualFold(strings.TrimSpace(s), "success") {
		return 0, fmt.Errorf("write response status is %q, not Success", s)
	}
	if idKey == "" {
		return 0, nil
	}
	id, ok := parseInt(m[idKey])
	if !ok || id <= 0 {
		// Not verified that create always returns the id; the caller
		// falls back to finding the check by name.
		return 0, nil
	}
	return id, nil
}

// decodeNotifications decodes a list-notifications page: a JSON array of
// objects with notification_id, type and value; [] (or {}) past the last
// page. An object keyed by id is accepted too, as for check lists.
func decodeNotifications(body []byte) ([]Notification, error) {
	b := bytes.TrimSpace(body)
	if isEmptyData(b) {
		return nil, nil
	}
	var items []json.RawMessage
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fmt.Errorf("decode notifications: %w", err)
		}
	case len(b) > 0 && b[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode notifications: %w", err)
		}
		for _, v := range m {
			items = append(items, v)
		}
	default:
		return nil, errors.New("notification list is neither an array nor an object")
	}
	out := make([]Notification, 0, len(items))
	for i, raw := range items {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			return nil, fmt.Errorf("notification %d is not an object", i)
		}
		id, ok := parseInt(m["notification_id"])
		if !ok {
			id, ok = parseInt(m["id"])
		}
		if !ok || id <= 0 {
			return nil, fmt.Errorf("notification %d has no usable notification_id", i)
		}
		typ, _ := parseString(m["type"])
		val, _ := parseString(m["value"])
		out = append(out, Notification{ID: id, Type: typ, Value: val})
	}
	slices.SortFunc(out, func(a, b Notification) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// form is the POST form of a call: the credentials and params.
func (c *Client) form(params url.Values) url.Values {
	form := url.Values{}
	for k, v := range c.identity {
		form[k] = v
	}
	for k, v := range params {
		form[k] = v
	}
	return form
}
