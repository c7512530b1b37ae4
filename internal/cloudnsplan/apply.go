package cloudnsplan

import (
	"context"
	"fmt"

	"github.com/statussync/statussync/cloudns"
)

// Report is what an apply did.
type Report struct {
	// Done lists the steps carried out, in order.
	Done []string `json:"done"`
	// Failed is the step that failed and why; empty when none did.
	Failed string `json:"failed,omitempty"`
	// NotDone lists the steps not attempted after the failure.
	NotDone []string `json:"not_done,omitempty"`
	// Writes counts the write calls made.
	Writes int `json:"writes"`
}

// OK reports whether every step was done.
func (r *Report) OK() bool { return r.Failed == "" }

// step is one write (or, after a create whose answer had no id, one lookup
// and nothing else).
type step struct {
	desc string
	run  func(ctx context.Context) error
}

// Apply carries out p and stops at the first failed call. The order keeps
// every check's alerting intact as long as possible: a new check gets its
// notifications right after it is created; an existing check gets its new
// notifications before its fields change and before its old notifications
// are removed; deletes (with prune) come last. The error is non-nil when a
// step failed; the report says what was and was not done either way.
func Apply(ctx context.Context, api API, p *Plan) (*Report, error) {
	var steps []step
	for i := range p.Changes {
		ch := &p.Changes[i]
		if !ch.Applies {
			continue
		}
		switch ch.Action {
		case ActionCreate:
			id := new(int64)
			steps = append(steps, step{
				desc: fmt.Sprintf("create check %q", ch.Name),
				run: func(ctx context.Context) error {
					n, err := api.CreateCheck(ctx, ch.params)
					if err != nil {
						return err
					}
					if n == 0 {
						// The answer had no id: find the new check by name.
						if n, err = findID(ctx, api, ch.Name); err != nil {
							return fmt.Errorf("created, but could not find its id: %w", err)
						}
					}
					*id = n
					return nil
				},
			})
			for _, n := range ch.AddNotifications {
				steps = append(steps, step{
					desc: fmt.Sprintf("add notification %s to check %q", n, ch.Name),
					run:  func(ctx context.Context) error { return api.AddNotification(ctx, *id, n.Type, n.value) },
				})
			}
		case ActionUpdate:
			for _, n := range ch.AddNotifications {
				steps = append(steps, step{
					desc: fmt.Sprintf("add notification %s to check %q", n, ch.Name),
					run:  func(ctx context.Context) error { return api.AddNotification(ctx, ch.ID, n.Type, n.value) },
				})
			}
			if len(ch.Fields) > 0 {
				keys := make([]string, len(ch.Fields))
				for i, f := range ch.Fields {
					keys[i] = f.Key
				}
				steps = append(steps, step{
					desc: fmt.Sprintf("update check %q (id %d): %v", ch.Name, ch.ID, keys),
					run:  func(ctx context.Context) error { return api.UpdateCheck(ctx, ch.ID, ch.params) },
				})
			}
			for _, n := range ch.RemoveNotifications {
				steps = append(steps, step{
					desc: fmt.Sprintf("remove notification %s from check %q", n, ch.Name),
					run:  func(ctx context.Context) error { return api.DeleteNotification(ctx, ch.ID, n.ID) },
				})
			}
		case ActionDelete:
			steps = append(steps, step{
				desc: fmt.Sprintf("delete check %q (id %d)", ch.Name, ch.ID),
				run:  func(ctx context.Context) error { return api.DeleteCheck(ctx, ch.ID) },
			})
		}
	}
	r := &Report{Done: []string{}}
	for i, s := range steps {
		r.Writes++
		if err := s.run(ctx); err != nil {
			r.Failed = fmt.Sprintf("%s: %s", s.desc, APIMessage(err))
			for _, rest := range steps[i+1:] {
				r.NotDone = append(r.NotDone, rest.desc)
			}
			return r, fmt.Errorf("%s", r.Failed)
		}
		r.Done = append(r.Done, s.desc)
	}
	return r, nil
}

// findID returns the id of the only check named name.
func findID(ctx context.Context, api API, name string) (int64, error) {
	checks, err := api.ListAllChecks(ctx, cloudns.ListOptions{})
	if err != nil {
		return 0, err
	}
	var id int64
	for _, c := range checks {
		if c.Name == name {
			if id != 0 {
				return 0, fmt.Errorf("several checks are named %q", name)
			}
			id = c.ID
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("no check named %q", name)
	}
	return id, nil
}
