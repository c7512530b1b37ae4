package cloudnsplan

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/statussync/statussync/internal/checksfile"
)

// WriteText prints the plan for people: one block per check, each changed
// field as old → new, then a summary line. It never prints a notification
// value read from an environment variable, nor anything of the
// credentials (the plan holds none).
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ClouDNS checks: %d in %s, %d in the account\n", p.FileChecks, p.Source, p.AccountChecks)
	for _, ch := range p.Changes {
		typ := checksfile.TypeNames[ch.CheckType]
		if typ == "" {
			typ = "type " + strconv.Itoa(ch.CheckType)
		}
		switch {
		case ch.Action == ActionCreate:
			fmt.Fprintf(&b, "\n+ create %q (%s)\n", ch.Name, typ)
			for _, f := range ch.Fields {
				fmt.Fprintf(&b, "    %s: %s\n", f.Key, strconv.Quote(f.New))
			}
		case ch.Action == ActionUpdate:
			fmt.Fprintf(&b, "\n~ update %q (id %d, %s)\n", ch.Name, ch.ID, typ)
			for _, f := range ch.Fields {
				fmt.Fprintf(&b, "    %s: %s → %s\n", f.Key, strconv.Quote(*f.Old), strconv.Quote(f.New))
			}
		case ch.Applies:
			fmt.Fprintf(&b, "\n- delete %q (id %d, %s)\n", ch.Name, ch.ID, typ)
		default:
			fmt.Fprintf(&b, "\n! not in the file: %q (id %d, %s): kept; apply --prune would delete it\n", ch.Name, ch.ID, typ)
		}
		for _, n := range ch.AddNotifications {
			fmt.Fprintf(&b, "    notification + %s\n", n)
		}
		for _, n := range ch.RemoveNotifications {
			fmt.Fprintf(&b, "    notification - %s (id %d)\n", n, n.ID)
		}
	}
	if len(p.Unreported) > 0 {
		fmt.Fprintf(&b, "\nnote: the account does not report %s for some checks; those keys were not compared (docs/cloudns-as-code.md)\n",
			strings.Join(p.Unreported, ", "))
	}
	fmt.Fprintf(&b, "\nPlan: %d to create, %d to update, %d to delete", p.Count(ActionCreate), p.Count(ActionUpdate), p.Count(ActionDelete))
	if k := p.Kept(); k > 0 {
		fmt.Fprintf(&b, ", %d not in the file kept (use --prune to delete)", k)
	}
	if !p.HasChanges() {
		b.WriteString(". Nothing to do")
	}
	b.WriteString(".\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the plan as one JSON object.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p.JSON())
}

// JSON returns the plan as --output json shows it: the plan's fields plus
// has_changes and the counts.
func (p *Plan) JSON() any {
	out := struct {
		*Plan
		HasChanges bool `json:"has_changes"`
		Creates    int  `json:"creates"`
		Updates    int  `json:"updates"`
		Deletes    int  `json:"deletes"`
		Kept       int  `json:"kept"`
	}{p, p.HasChanges(), p.Count(ActionCreate), p.Count(ActionUpdate), p.Count(ActionDelete), p.Kept()}
	if out.Changes == nil {
		c := *p
		c.Changes = []Change{}
		out.Plan = &c
	}
	return out
}

// WriteText prints the report: what was done, what failed and what was not
// done.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, d := range r.Done {
		fmt.Fprintf(&b, "done: %s\n", d)
	}
	if r.Failed != "" {
		fmt.Fprintf(&b, "FAILED: %s\n", r.Failed)
		for _, d := range r.NotDone {
			fmt.Fprintf(&b, "not done: %s\n", d)
		}
		fmt.Fprintf(&b, "Apply stopped: %d steps done, 1 failed, %d not done. Fix the cause and run apply again: it continues from the account's state.\n", len(r.Done), len(r.NotDone))
	} else {
		fmt.Fprintf(&b, "Apply complete: %d steps done.\n", len(r.Done))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
