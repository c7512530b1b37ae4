package cloudnstest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWriteEndpointsWireShapes pins the write endpoints' answers to the
// API's habits (reference §1.5, §1.7, §2.4, §2.8): HTTP 200 for failures
// with a Failed body, every value a string, the new id in create's answer,
// paths stored without their leading slash, notifications as a JSON array
// and [] past the last page.
func TestWriteEndpointsWireShapes(t *testing.T) {
	s := newFake(t)
	code, body := post(t, s, PathCreate, auth(url.Values{"name": {"Flathub API"}, "check_type": {"18"}, "ip": {"flathub.example.org"},
		"port": {"443"}, "path": {"/api/v2/status?full"}, "monitoring_region": {"nam"}}))
	wantBody(t, body, `{"id":"9901","status":"Success","statusDescription":"The monitoring check was created successfully."}`)
	if code != http.StatusOK {
		t.Errorf("create status %d", code)
	}
	_, body = post(t, s, PathGetCheck, auth(url.Values{"id": {"9901"}}))
	for _, want := range []string{`"path":"api/v2/status?full"`, `"port":"443"`, `"check_type":"18"`, `"monitoring_region":"nam"`, `"status_change_checks":"1"`, `"check_period":"60"`} {
		if !strings.Contains(body, want) {
			t.Errorf("check object lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, "http_status_code") {
		t.Errorf("inferred keys echoed without WithExtraFields: %s", body)
	}

	for _, tc := range []struct {
		path string
		form url.Values
		want string
	}{
		{PathCreate, url.Values{"check_type": {"18"}, "ip": {"x"}}, failed(TextMissingName)},
		{PathCreate, url.Values{"name": {"x"}, "check_type": {"11"}, "ip": {"x"}}, failed(TextInvalidType)},
		{PathCreate, url.Values{"name": {"x"}, "check_type": {"18"}}, failed(TextMissingIP)},
		{PathCreate, url.Values{"name": {"x"}, "check_type": {"18"}, "ip": {"x"}, "monitoring_region": {"mars"}}, failed(TextInvalidRegion)},
		{PathUpdate, url.Values{"id": {"1"}, "name": {"x"}, "check_type": {"18"}}, failed(TextInvalidCheck)},
		{PathDelete, url.Values{"id": {"1"}}, failed(TextInvalidCheck)},
		{PathAddNotif, url.Values{"id": {"9901"}, "type": {"pager"}, "value": {"x"}}, failed(TextNotificationType)},
		{PathAddNotif, url.Values{"id": {"9901"}, "type": {"mail"}}, failed(TextInvalidRequest)},
		{PathDeleteNotif, url.Values{"id": {"9901"}, "notification-id": {"77"}}, failed(TextInvalidNotificationID)},
		{PathListNotif, url.Values{"id": {"9901"}, "page": {"1"}}, failed(TextRowsPerPage)},
		{PathAddNotif, url.Values{"id": {"9901"}, "type": {"mail"}, "value": {"ops@example.org"}}, `{"status":"Success","statusDescription":"The notification was added successfully."}`},
		{PathListNotif, url.Values{"id": {"9901"}, "page": {"1"}, "rows-per-page": {"10"}}, `[{"notification_id":"1","type":"mail","value":"ops@example.org"}]`},
		{PathListNotif, url.Values{"id": {"9901"}, "page": {"2"}, "rows-per-page": {"10"}}, `[]`},
		{PathUpdate, url.Values{"id": {"9901"}, "name": {"Flathub API"}, "check_type": {"18"}, "check_period": {"120"}}, `{"status":"Success","statusDescription":"The monitoring check was updated successfully."}`},
		{PathDeleteNotif, url.Values{"id": {"9901"}, "notification-id": {"1"}}, `{"status":"Success","statusDescription":"The notification was deleted successfully."}`},
		{PathDelete, url.Values{"id": {"9901"}}, `{"status":"Success","statusDescription":"The monitoring check was deleted successfully."}`},
		{PathGetRecords, url.Values{"page": {"1"}, "rows-per-page": {"10"}}, `{}`},
	} {
		code, body := post(t, s, tc.path, auth(tc.form))
		if code != http.StatusOK {
			t.Errorf("%s %v: status %d", tc.path, tc.form, code)
		}
		wantBody(t, body, tc.want)
	}
	// Unauthenticated writes fail like reads.
	_, body = post(t, s, PathCreate, url.Values{"auth-id": {"1001"}, "auth-password": {"wrong"}, "name": {"x"}})
	wantBody(t, body, failed(TextAuthFailed))
}
