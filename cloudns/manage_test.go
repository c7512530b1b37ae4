package cloudns_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

func TestWriteCalls(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, nil)
	id, err := k.client.CreateCheck(ctx, url.Values{"name": {"Flathub API"}, "check_type": {"18"}, "ip": {"flathub.example.org"},
		"port": {"443"}, "path": {"/api/v2/status?x=1"}, "http_status_code": {"200"}})
	if err != nil || id == 0 {
		t.Fatalf("create = %d, %v", id, err)
	}
	c, ok := k.fake.Check(id)
	if !ok || c.Name != "Flathub API" || c.Path != "api/v2/status?x=1" || c.HTTPStatusCode != "200" {
		t.Fatalf("created %+v", c)
	}
	got, err := k.client.ListAllChecks(ctx, cloudns.ListOptions{})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if f := got[0].Fields(); f["name"] != "Flathub API" || f["check_type"] != "18" || f["path"] != "api/v2/status?x=1" {
		t.Errorf("fields %v", f)
	}
	if err := k.client.UpdateCheck(ctx, id, url.Values{"name": {"Flathub API"}, "check_type": {"18"}, "ip": {"flathub.example.org"}, "check_period": {"120"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := k.fake.Check(id); c.Period != 120 {
		t.Errorf("update not applied: %+v", c)
	}
	// Notifications page past ten.
	for i := range 12 {
		if err := k.client.AddNotification(ctx, id, "mail", "n"+strconv.Itoa(i)+"@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := k.client.ListNotifications(ctx, id)
	if err != nil || len(ns) != 12 || ns[11].Value != "n11@example.org" {
		t.Fatalf("list notifications = %+v, %v", ns, err)
	}
	if err := k.client.DeleteNotification(ctx, id, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if ns, _ := k.client.ListNotifications(ctx, id); len(ns) != 11 {
		t.Errorf("%d notifications after delete", len(ns))
	}
	if err := k.client.DeleteCheck(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.fake.Check(id); ok {
		t.Error("check not deleted")
	}
	for _, c := range k.fake.Calls() {
		if c.CredentialsInURL || c.Method != "POST" {
			t.Errorf("%s %s: credentials in URL %v", c.Method, c.Path, c.CredentialsInURL)
		}
	}
}

func TestWriteFailuresCarryTheDescription(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, nil)
	err := k.client.DeleteCheck(ctx, 12345)
	e := wantKind(t, err, cloudns.KindNotFound)
	if e.Message != cloudnstest.TextInvalidCheck || !strings.Contains(err.Error(), "delete check 12345") {
		t.Errorf("err = %v", err)
	}
	if _, err := k.client.CreateCheck(ctx, url.Values{"name": {"x"}, "auth-password": {"y"}}); err == nil {
		t.Error("credentials accepted from the caller")
	}
	// A lost answer to a write is not retried: the create may have happened.
	k.fake.FailNextHTTP(1, 502)
	before := k.fake.CallCount(cloudnstest.PathCreate)
	if _, err := k.client.CreateCheck(ctx, url.Values{"name": {"x"}, "check_type": {"17"}, "ip": {"x.example.org"}}); err == nil {
		t.Fatal("502 reported as success")
	}
	if n := k.fake.CallCount(cloudnstest.PathCreate) - before; n != 1 {
		t.Errorf("create sent %d times after a 502, want 1", n)
	}
	// A rate-limit refusal is retried: nothing was done.
	k.fake.FailNext(1, cloudnstest.RateLimitText("127.0.0.1", 20))
	if _, err := k.client.CreateCheck(ctx, url.Values{"name": {"x"}, "check_type": {"17"}, "ip": {"x.example.org"}}); err != nil {
		t.Fatalf("create after a rate-limit refusal: %v", err)
	}
	if strings.Contains(k.logs.String(), testPassword) {
		t.Error("logs show the password")
	}
}
