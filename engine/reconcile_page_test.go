package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// memPage is an in-memory status page with Cachet's semantics as the
// reconciler relies on them: an incident's status is that of its newest
// update, resolved incidents are not "open", deleted ones answer not
// found, components under maintenance show no state. People act on it
// through its human* methods; faults are injected through fail and lose.
type memPage struct {
	mu       sync.Mutex
	comps    map[int]*PageComponent
	maint    map[int]time.Time
	maintErr error
	// records makes the page keep statussync's record of its last status
	// write (component metadata on current Cachet).
	records   bool
	incidents []*memIncident // oldest first
	deleted   map[int]bool
	metrics   []PageMetric
	points    map[int][]float64
	nextID    int
	writes    []string
	reads     int
	calls     map[string]int
	// fail, when it returns an error for (operation, id), makes the call
	// fail before it does anything; lose makes a write apply and then
	// fail, like a response lost on the way back.
	fail func(op string, id int) error
	lose func(op string, id int) bool
}

type memIncident struct {
	PageIncident
	occurredAt time.Time
	notify     bool
	updates    []string
}

func newMemPage() *memPage {
	return &memPage{comps: map[int]*PageComponent{}, maint: map[int]time.Time{}, deleted: map[int]bool{},
		points: map[int][]float64{}, nextID: 100, calls: map[string]int{}}
}

func (p *memPage) addComponent(id int, name string, s ComponentState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.comps[id] = &PageComponent{ID: id, Name: name, State: s, Raw: int(s)}
}

// enter checks the injected failure of a call; the lock is held.
func (p *memPage) enter(op string, id int) error {
	p.calls[op]++
	if p.fail != nil {
		if err := p.fail(op, id); err != nil {
			return err
		}
	}
	return nil
}

func (p *memPage) lost(op string, id int) error {
	if p.lose != nil && p.lose(op, id) {
		return fmt.Errorf("%s %d: response lost", op, id)
	}
	return nil
}

func (p *memPage) ListComponents(context.Context) ([]PageComponent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("list-components", 0); err != nil {
		return nil, err
	}
	p.reads++
	var out []PageComponent
	for _, id := range slices.Sorted(mapKeys(p.comps)) {
		out = append(out, *p.comps[id])
	}
	return out, nil
}

func mapKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (p *memPage) GetComponent(_ context.Context, id int) (PageComponent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("get-component", id); err != nil {
		return PageComponent{}, err
	}
	p.reads++
	c, ok := p.comps[id]
	if !ok {
		return PageComponent{}, fmt.Errorf("component %d: %w", id, ErrNotFound)
	}
	return *c, nil
}

func (p *memPage) SetComponentState(_ context.Context, pc PageComponent, s ComponentState) error {
	id := pc.ID
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("set-component", id); err != nil {
		return err
	}
	c, ok := p.comps[id]
	if !ok {
		return fmt.Errorf("component %d: %w", id, ErrNotFound)
	}
	c.State, c.Raw, c.Maintenance = s, int(s), false
	c.UpdatedAt = time.Now() // Cachet touches updated_at on every update
	if p.records {
		c.Written, c.Episode = s, pc.Episode
	}
	p.writes = append(p.writes, fmt.Sprintf("status %d=%d", id, s))
	return p.lost("set-component", id)
}

func (p *memPage) Maintenance(context.Context) (map[int]time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("maintenance", 0); err != nil {
		return nil, err
	}
	p.reads++
	if p.maintErr != nil {
		return nil, p.maintErr
	}
	out := map[int]time.Time{}
	for id, end := range p.maint {
		out[id] = end
	}
	return out, nil
}

func (p *memPage) OpenIncidents(_ context.Context, componentID int) ([]PageIncident, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("open-incidents", componentID); err != nil {
		return nil, err
	}
	p.reads++
	var out []PageIncident
	for _, in := range slices.Backward(p.incidents) {
		if !p.deleted[in.ID] && in.Status != IncidentFixed && (componentID == 0 || in.About(componentID)) {
			out = append(out, in.PageIncident)
		}
	}
	return out, nil
}

func (p *memPage) find(id int) (*memIncident, error) {
	for _, in := range p.incidents {
		if in.ID == id && !p.deleted[id] {
			return in, nil
		}
	}
	return nil, fmt.Errorf("incident %d: %w", id, ErrNotFound)
}

func (p *memPage) GetIncident(_ context.Context, id int) (PageIncident, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("get-incident", id); err != nil {
		return PageIncident{}, err
	}
	p.reads++
	in, err := p.find(id)
	if err != nil {
		return PageIncident{}, err
	}
	return in.PageIncident, nil
}

func (p *memPage) EpisodeRecorded(_ context.Context, k IncidentKey, episode string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("episode-recorded", k.ComponentID); err != nil {
		return false, err
	}
	return slices.ContainsFunc(p.incidents, func(in *memIncident) bool { return in.Episode == episode && !p.deleted[in.ID] }), nil
}

func (p *memPage) CreateIncident(_ context.Context, n NewIncident) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("create-incident", n.Key.ComponentID); err != nil {
		return 0, err
	}
	p.nextID++
	st := IncidentInvestigating
	if n.Resolved {
		st = IncidentFixed
	}
	in := &memIncident{
		PageIncident: PageIncident{ID: p.nextID, Components: []int{n.Key.ComponentID}, Component: n.Key.Component, Episode: n.Episode, Status: st},
		occurredAt:   n.OccurredAt, notify: n.Notify, updates: []string{n.Message},
	}
	p.incidents = append(p.incidents, in)
	p.writes = append(p.writes, fmt.Sprintf("create %d for %d", in.ID, n.Key.ComponentID))
	return in.ID, p.lost("create-incident", n.Key.ComponentID)
}

func (p *memPage) UpdateIncident(_ context.Context, id int, status IncidentStatus, message string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("update-incident", id); err != nil {
		return err
	}
	in, err := p.find(id)
	if err != nil {
		return err
	}
	in.Status = status
	in.updates = append(in.updates, message)
	p.writes = append(p.writes, fmt.Sprintf("update %d status %d", id, status))
	return p.lost("update-incident", id)
}

func (p *memPage) LatestIncidentUpdate(_ context.Context, id int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("latest-update", id); err != nil {
		return "", err
	}
	in, err := p.find(id)
	if err != nil {
		return "", err
	}
	return in.updates[len(in.updates)-1], nil
}

func (p *memPage) ListMetrics(context.Context) ([]PageMetric, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("list-metrics", 0); err != nil {
		return nil, err
	}
	return slices.Clone(p.metrics), nil
}

func (p *memPage) CreateMetric(_ context.Context, name, _ string, threshold int) (PageMetric, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("create-metric", 0); err != nil {
		return PageMetric{}, err
	}
	p.nextID++
	m := PageMetric{ID: p.nextID, Name: name, Threshold: threshold}
	p.metrics = append(p.metrics, m)
	p.writes = append(p.writes, "create metric "+name)
	return m, nil
}

func (p *memPage) PostMetricPoint(_ context.Context, id int, value float64, _ time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enter("post-point", id); err != nil {
		return err
	}
	if !slices.ContainsFunc(p.metrics, func(m PageMetric) bool { return m.ID == id }) {
		return fmt.Errorf("metric %d: %w", id, ErrNotFound)
	}
	p.points[id] = append(p.points[id], value)
	return nil
}

// Human actions.

func (p *memPage) humanIncidentStatus(id int, s IncidentStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.find(id)
	if err != nil {
		panic(err)
	}
	in.Status = s
	in.updates = append(in.updates, "a person's update")
}

func (p *memPage) humanDeleteIncident(id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted[id] = true
}

func (p *memPage) humanDeleteMetric(id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.metrics = slices.DeleteFunc(p.metrics, func(m PageMetric) bool { return m.ID == id })
}

func (p *memPage) setMaintenance(id int, on bool, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.maint[id] = end
	} else {
		delete(p.maint, id)
	}
}

// humanStatus sets a component's status as a person would (the record
// of statussync's last write stays); with wipe, as a restore or
// reinstall would (the record goes).
func (p *memPage) humanStatus(id int, s ComponentState, wipe bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.comps[id]
	c.State, c.Raw = s, int(s)
	c.UpdatedAt = time.Now()
	if wipe {
		c.Written, c.Episode = ComponentUnknown, ""
	}
}

// changedAt sets when the page says component id last changed; the zero
// time is a page that does not say.
func (p *memPage) changedAt(id int, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.comps[id].UpdatedAt = at
}

// Views.

func (p *memPage) status(id int) ComponentState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.comps[id].State
}

func (p *memPage) allIncidents() []memIncident {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []memIncident
	for _, in := range p.incidents {
		if !p.deleted[in.ID] {
			c := *in
			c.updates = slices.Clone(in.updates)
			out = append(out, c)
		}
	}
	return out
}

func (p *memPage) open(componentID int) []memIncident {
	var out []memIncident
	for _, in := range p.allIncidents() {
		if in.Status != IncidentFixed && in.About(componentID) {
			out = append(out, in)
		}
	}
	return out
}

func (p *memPage) writeLog() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.writes)
}

func (p *memPage) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

var errDown = errors.New("page unavailable")

// failOnly fails op for one id (0: every id).
func failOnly(op string, id int) func(string, int) error {
	return func(o string, i int) error {
		if o == op && (id == 0 || i == id) {
			return fmt.Errorf("%s %d: %w", o, i, errDown)
		}
		return nil
	}
}

func hasPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}
