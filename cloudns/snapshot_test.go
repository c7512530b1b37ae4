package cloudns_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

func TestSnapshot(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	ids := k.fake.Seed(250)
	down := ids[:4]
	for _, id := range down {
		k.fake.SetCheckStatus(id, cloudnstest.StatusDown)
	}
	k.fake.SetCheckStatus(ids[10], cloudnstest.StatusUnknown)
	k.fake.PauseCheck(ids[20])
	k.fake.PauseCheck(ids[0]) // paused and down: paused wins

	before := time.Now()
	s, err := k.client.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 250 checks: 3 pages of 100; the down set (4, one paused) 1 page; the
	// up set (245, one paused) 3 pages.
	if s.Calls != 7 || k.fake.CallCount("") != 7 {
		t.Errorf("Snapshot.Calls = %d, fake saw %d; want 7", s.Calls, k.fake.CallCount(""))
	}
	if len(s.Checks) != 250 {
		t.Fatalf("%d checks", len(s.Checks))
	}
	if s.TakenAt.Before(before) || s.TakenAt.After(time.Now()) || s.Duration <= 0 {
		t.Errorf("TakenAt %v Duration %v", s.TakenAt, s.Duration)
	}
	tests := []struct {
		id         int64
		want       cloudns.Status
		wantReason cloudns.StatusReason
	}{
		{ids[0], cloudns.StatusPaused, cloudns.ReasonPaused},
		{ids[1], cloudns.StatusDown, cloudns.ReasonDownFilter},
		{ids[3], cloudns.StatusDown, cloudns.ReasonDownFilter},
		{ids[4], cloudns.StatusUp, cloudns.ReasonUpFilter},
		{ids[10], cloudns.StatusUnknown, cloudns.ReasonNoFilter},
		{ids[20], cloudns.StatusPaused, cloudns.ReasonPaused},
		{ids[249], cloudns.StatusUp, cloudns.ReasonUpFilter},
	}
	for _, tt := range tests {
		c, ok := s.ByID(tt.id)
		if !ok || c.Status != tt.want || c.StatusReason != tt.wantReason {
			t.Errorf("check %d: %v %v (found %v), want %v %v", tt.id, c.Status, c.StatusReason, ok, tt.want, tt.wantReason)
		}
	}
	if s.Count(cloudns.StatusDown) != 3 || s.Count(cloudns.StatusUp) != 244 || s.Count(cloudns.StatusPaused) != 2 ||
		s.Count(cloudns.StatusUnknown) != 1 || s.Conflicts != 0 {
		t.Errorf("counts: down %d up %d paused %d unknown %d conflicts %d", s.Count(cloudns.StatusDown),
			s.Count(cloudns.StatusUp), s.Count(cloudns.StatusPaused), s.Count(cloudns.StatusUnknown), s.Conflicts)
	}
	if byName := s.ByName("check-0002"); len(byName) != 1 || byName[0].ID != ids[1] || byName[0].Status != cloudns.StatusDown {
		t.Errorf("ByName = %+v", byName)
	}
	if len(s.ByName("nope")) != 0 {
		t.Error("ByName found a missing check")
	}
	if _, ok := s.ByID(1); ok {
		t.Error("ByID found a missing check")
	}
	// The three calls use the documented filters, and only them.
	var filters []string
	for _, c := range k.fake.Calls() {
		if c.Params.Get("page") == "1" {
			filters = append(filters, "status="+c.Params.Get("status"))
		}
	}
	if strings.Join(filters, " ") != "status= status=0 status=1" {
		t.Errorf("first pages used filters %v", filters)
	}
}

func TestSnapshotCallsPerPoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		seed      int
		down      int
		wantCalls int
	}{
		{"empty account", 0, 0, 3},                // one empty page each
		{"250 checks, all up", 250, 0, 3 + 1 + 3}, // down set empty: one call
		{"250 checks, 150 down", 250, 150, 3 + 2 + 2},
		{"200 checks: exact multiples", 200, 100, 3 + 2 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKit(t, nil)
			ids := k.fake.Seed(tt.seed)
			for _, id := range ids[:tt.down] {
				k.fake.SetCheckStatus(id, cloudnstest.StatusDown)
			}
			s, err := k.client.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.Calls != tt.wantCalls || k.fake.CallCount(cloudnstest.PathGetRecords) != tt.wantCalls {
				t.Errorf("calls %d (fake %d), want %d", s.Calls, k.fake.CallCount(""), tt.wantCalls)
			}
			if s.Count(cloudns.StatusDown) != tt.down || s.Count(cloudns.StatusUp) != tt.seed-tt.down {
				t.Errorf("down %d up %d", s.Count(cloudns.StatusDown), s.Count(cloudns.StatusUp))
			}
		})
	}
}

// The central promise: whatever goes wrong on the ClouDNS side, Snapshot
// never reports a check as down unless the down filter lists it and nothing
// contradicts that.
func TestSnapshotNeverInventsAnOutage(t *testing.T) {
	t.Parallel()
	for _, variant := range []struct {
		name string
		opts []cloudnstest.Option
	}{
		{"api ignores the status filter", nil},
		// Without the field only the overlap of the two sets can tell.
		{"api ignores the status filter, no status field", []cloudnstest.Option{cloudnstest.WithoutStatusField()}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			k := newKit(t, nil, variant.opts...)
			k.fake.Seed(120)
			k.fake.IgnoreFilters(true)
			s, err := k.client.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.Count(cloudns.StatusDown) != 0 || s.Count(cloudns.StatusUnknown) != 120 || s.Conflicts != 120 {
				t.Errorf("down %d unknown %d conflicts %d", s.Count(cloudns.StatusDown), s.Count(cloudns.StatusUnknown), s.Conflicts)
			}
			if !strings.Contains(k.logs.String(), "cloudns status sources disagree") {
				t.Error("conflicts not logged")
			}
		})
	}
	t.Run("status field contradicts the down filter", func(t *testing.T) {
		k := newKit(t, nil)
		ids := k.fake.Seed(5)
		k.fake.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		k.fake.SetStatusField(ids[0], `"1"`)
		s, err := k.client.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c, _ := s.ByID(ids[0])
		if c.Status != cloudns.StatusUnknown || c.StatusReason != cloudns.ReasonFieldDisagrees || s.Conflicts != 1 {
			t.Errorf("check = %v %v, conflicts %d", c.Status, c.StatusReason, s.Conflicts)
		}
	})
	t.Run("status field says down but no filter does", func(t *testing.T) {
		k := newKit(t, nil)
		ids := k.fake.Seed(5)
		k.fake.SetCheckStatus(ids[0], cloudnstest.StatusUnknown)
		k.fake.SetStatusField(ids[0], `"0"`)
		s, err := k.client.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := s.ByID(ids[0]); c.Status != cloudns.StatusUnknown {
			t.Errorf("status %v: an unverified field alone must not make a check down", c.Status)
		}
	})
	t.Run("status field that is not a status is ignored", func(t *testing.T) {
		k := newKit(t, nil)
		ids := k.fake.Seed(3)
		k.fake.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		for _, id := range ids {
			k.fake.SetStatusField(id, `200`)
		}
		s, err := k.client.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Count(cloudns.StatusDown) != 1 || s.Count(cloudns.StatusUp) != 2 || s.Conflicts != 0 {
			t.Errorf("down %d up %d conflicts %d", s.Count(cloudns.StatusDown), s.Count(cloudns.StatusUp), s.Conflicts)
		}
	})
	t.Run("no status field at all", func(t *testing.T) {
		k := newKit(t, nil, cloudnstest.WithoutStatusField())
		ids := k.fake.Seed(3)
		k.fake.SetCheckStatus(ids[2], cloudnstest.StatusDown)
		s, err := k.client.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := s.ByID(ids[2]); c.Status != cloudns.StatusDown || c.HasReportedStatus {
			t.Errorf("check = %+v", c)
		}
	})
	t.Run("a failing call fails the whole poll", func(t *testing.T) {
		k := newKit(t, nil)
		ids := k.fake.Seed(150)
		k.fake.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		// The last call of the poll, page 2 of the up set, fails for good.
		k.fake.Inject(cloudnstest.Fault{Path: cloudnstest.PathGetRecords, Times: 10,
			Params: url.Values{"status": {"1"}, "page": {"2"}}, HTTPStatus: http.StatusBadGateway})
		s, err := k.client.Snapshot(context.Background())
		if err == nil || s != nil {
			t.Fatalf("snapshot %v, err %v; want no snapshot", s, err)
		}
		if cloudns.KindOf(err) != cloudns.KindServer ||
			!strings.HasPrefix(err.Error(), "cloudns: snapshot: list up checks: page 2: ") {
			t.Errorf("err = %v", err)
		}
		if n := k.fake.CallCount(""); n != 2+1+1+3 {
			t.Errorf("%d calls, want 7 (4 pages, then 3 attempts at the failing one)", n)
		}
	})
}

func TestSnapshotConcurrentUse(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	k.fake.Seed(30)
	done := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := k.client.Snapshot(context.Background())
			done <- err
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := k.fake.CallCount(""); n != 9 {
		t.Errorf("%d calls, want 9", n)
	}
}
