package cloudns

import (
	"log/slog"
	"testing"
)

// chk builds a decoded check; reported < -1 means no status field.
func chk(id int64, state State, reported APIStatus) Check {
	c := Check{ID: id, State: state, StatusReason: ReasonNotDetermined}
	if reported >= -1 {
		c.ReportedStatus, c.HasReportedStatus = reported, true
	}
	return c
}

const noField = APIStatus(-99)

func TestDetermine(t *testing.T) {
	tests := []struct {
		name          string
		all, down, up []Check
		want          Status
		wantReason    StatusReason
		wantConflicts int
	}{
		{"up by filter, field agrees", []Check{chk(1, StateActive, APIStatusUp)}, nil, []Check{chk(1, StateActive, APIStatusUp)},
			StatusUp, ReasonUpFilter, 0},
		{"down by filter, field agrees", []Check{chk(1, StateActive, APIStatusDown)}, []Check{chk(1, StateActive, APIStatusDown)}, nil,
			StatusDown, ReasonDownFilter, 0},
		{"up by filter, no field", []Check{chk(1, StateActive, noField)}, nil, []Check{chk(1, StateActive, noField)},
			StatusUp, ReasonUpFilter, 0},
		{"down by filter, no field", []Check{chk(1, StateUnset, noField)}, []Check{chk(1, StateUnset, noField)}, nil,
			StatusDown, ReasonDownFilter, 0},
		{"down filter but field says up: never invent an outage", []Check{chk(1, StateActive, APIStatusUp)}, []Check{chk(1, StateActive, APIStatusUp)}, nil,
			StatusUnknown, ReasonFieldDisagrees, 1},
		{"down filter but field says unknown", []Check{chk(1, StateActive, APIStatusUnknown)}, []Check{chk(1, StateActive, APIStatusUnknown)}, nil,
			StatusUnknown, ReasonFieldDisagrees, 1},
		{"up filter but field says down", []Check{chk(1, StateActive, APIStatusDown)}, nil, []Check{chk(1, StateActive, APIStatusDown)},
			StatusUnknown, ReasonFieldDisagrees, 1},
		{"in both filters", []Check{chk(1, StateActive, noField)}, []Check{chk(1, StateActive, noField)}, []Check{chk(1, StateActive, noField)},
			StatusUnknown, ReasonBothFilters, 1},
		{"in no filter, field says down: not trusted alone", []Check{chk(1, StateActive, APIStatusDown)}, nil, nil,
			StatusUnknown, ReasonNoFilter, 0},
		{"in no filter, field says up: not trusted alone", []Check{chk(1, StateActive, APIStatusUp)}, nil, nil,
			StatusUnknown, ReasonNoFilter, 0},
		{"paused wins over the down filter", []Check{chk(1, StatePaused, APIStatusDown)}, []Check{chk(1, StatePaused, APIStatusDown)}, nil,
			StatusPaused, ReasonPaused, 0},
		{"paused in no filter", []Check{chk(1, StatePaused, noField)}, nil, nil,
			StatusPaused, ReasonPaused, 0},
		{"only in the down filter (created mid-poll)", nil, []Check{chk(1, StateActive, noField)}, nil,
			StatusDown, ReasonDownFilter, 0},
		{"catalog copy races, filter copy agrees", []Check{chk(1, StateActive, APIStatusUp)}, []Check{chk(1, StateActive, APIStatusDown)}, nil,
			StatusDown, ReasonDownFilter, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, conflicts := determine(tt.all, tt.down, tt.up, slog.New(slog.DiscardHandler))
			if len(got) != 1 {
				t.Fatalf("got %d checks, want 1", len(got))
			}
			if got[0].Status != tt.want || got[0].StatusReason != tt.wantReason || conflicts != tt.wantConflicts {
				t.Errorf("status %v reason %v conflicts %d; want %v %v %d",
					got[0].Status, got[0].StatusReason, conflicts, tt.want, tt.wantReason, tt.wantConflicts)
			}
		})
	}
}

func TestDetermineSortsAndMerges(t *testing.T) {
	all := []Check{chk(30, StateActive, noField), chk(10, StateActive, noField)}
	down := []Check{chk(20, StateActive, noField)}
	up := []Check{chk(10, StateActive, noField)}
	got, _ := determine(all, down, up, slog.New(slog.DiscardHandler))
	want := []struct {
		id int64
		st Status
	}{{10, StatusUp}, {20, StatusDown}, {30, StatusUnknown}}
	if len(got) != len(want) {
		t.Fatalf("got %d checks", len(got))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Status != w.st {
			t.Errorf("checks[%d] = %d %v, want %d %v", i, got[i].ID, got[i].Status, w.id, w.st)
		}
	}
	s := newSnapshot(got)
	if c, ok := s.ByID(20); !ok || c.Status != StatusDown {
		t.Errorf("ByID(20) = %+v, %v", c, ok)
	}
	if _, ok := s.ByID(99); ok {
		t.Error("ByID(99) found a check")
	}
	if s.Count(StatusUp) != 1 || s.Count(StatusDown) != 1 || s.Count(StatusUnknown) != 1 || s.Count(StatusPaused) != 0 {
		t.Error("wrong counts")
	}
}
