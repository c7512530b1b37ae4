package cloudns

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// DefaultRowsPerPage is the page size used when ListOptions.RowsPerPage is
// zero: the largest ClouDNS accepts, so that a poll needs the fewest calls.
const DefaultRowsPerPage = 100

// maxPages stops a pagination loop that never reaches a short page (100,000
// checks at 100 per page).
const maxPages = 1000

// ListOptions selects checks for the list and page-count calls. Nil filters
// are not sent.
type ListOptions struct {
	// Page is the 1-based page for ListChecks; zero means 1. ListAllChecks
	// and PageCount ignore it.
	Page int
	// RowsPerPage is 10, 20, 30, 50 or 100; zero means DefaultRowsPerPage.
	RowsPerPage int
	// Status filters by ClouDNS status (documented filter).
	Status *APIStatus
	// State filters by state, paused or active (documented filter).
	State *State
	// Type filters by check type (documented filter).
	Type *CheckType
}

// Ptr returns a pointer to v, for the filters in ListOptions.
func Ptr[T any](v T) *T { return &v }

// listParams builds the form parameters of a list or page-count call.
func listParams(o ListOptions, withPage bool) (url.Values, error) {
	rows := cmp.Or(o.RowsPerPage, DefaultRowsPerPage)
	switch rows {
	case 10, 20, 30, 50, 100:
	default:
		return nil, fmt.Errorf("rows per page %d is not one of 10, 20, 30, 50, 100", rows)
	}
	v := url.Values{"rows-per-page": {strconv.Itoa(rows)}}
	if withPage {
		page := cmp.Or(o.Page, 1)
		if page < 1 {
			return nil, fmt.Errorf("page %d is not positive", page)
		}
		v.Set("page", strconv.Itoa(page))
	}
	if o.Status != nil {
		switch *o.Status {
		case APIStatusUnknown, APIStatusDown, APIStatusUp:
		default:
			return nil, fmt.Errorf("status filter %d is not -1, 0 or 1", int(*o.Status))
		}
		v.Set("status", strconv.Itoa(int(*o.Status)))
	}
	if o.State != nil {
		if *o.State != StatePaused && *o.State != StateActive {
			return nil, fmt.Errorf("state filter %d is not 0 or 1", int(*o.State))
		}
		v.Set("state", strconv.Itoa(int(*o.State)))
	}
	if o.Type != nil {
		if *o.Type <= 0 {
			return nil, fmt.Errorf("check type filter %d is not positive", int(*o.Type))
		}
		v.Set("check_type", strconv.Itoa(int(*o.Type)))
	}
	return v, nil
}

// LoginTest checks the credentials with login/login.json, falling back to
// the older dns/login.json if the first path answers 404.
func (c *Client) LoginTest(ctx context.Context) error {
	err := c.call(ctx, epLogin, nil, decodeLogin, nil)
	var e *Error
	if errors.As(err, &e) && e.Kind == KindHTTP && e.HTTPStatus == http.StatusNotFound {
		c.logger.Debug("cloudns login path not found, trying the legacy path", "path", epLoginLegacy.path)
		err = c.call(ctx, epLoginLegacy, nil, decodeLogin, nil)
	}
	if err != nil {
		return fmt.Errorf("cloudns: login test: %w", err)
	}
	return nil
}

// decodeLogin accepts only an explicit success envelope; failures were
// already turned into errors by the caller.
func decodeLogin(body []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("decode login response: %w", err)
	}
	if s, _ := parseString(m["status"]); !strings.EqualFold(s, "success") {
		return fmt.Errorf("login response status is %q, not Success", s)
	}
	return nil
}

// ListChecks returns one page of checks, sorted by id. A page shorter than
// the page size is the last one. Status is StatusUnknown (or StatusPaused):
// one list call cannot determine status; use Snapshot.
func (c *Client) ListChecks(ctx context.Context, opts ListOptions) ([]Check, error) {
	checks, err := c.listPage(ctx, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("cloudns: list checks page %d: %w", cmp.Or(opts.Page, 1), err)
	}
	return checks, nil
}

func (c *Client) listPage(ctx context.Context, opts ListOptions, attempts *int) ([]Check, error) {
	params, err := listParams(opts, true)
	if err != nil {
		return nil, err
	}
	var checks []Check
	err = c.call(ctx, epGetRecords, params, func(body []byte) error {
		checks, err = decodeCheckList(body)
		return err
	}, attempts)
	return checks, err
}

// ListAllChecks follows the pages of the list call until a short or empty
// page, and returns the checks sorted by id. opts.Page is ignored.
func (c *Client) ListAllChecks(ctx context.Context, opts ListOptions) ([]Check, error) {
	checks, err := c.listAll(ctx, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("cloudns: list all checks: %w", err)
	}
	return checks, nil
}

// listAll stops at the first page with fewer checks than the page size, so a
// poll costs one call per page (plus one when the count is an exact multiple
// of the page size, or zero). A page that brings no new check means ClouDNS
// is not paginating as documented; that is an error rather than a loop.
func (c *Client) listAll(ctx context.Context, opts ListOptions, attempts *int) ([]Check, error) {
	rows := cmp.Or(opts.RowsPerPage, DefaultRowsPerPage)
	seen := make(map[int64]bool)
	var all []Check
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, &Error{Kind: KindBadResponse, Operation: opListChecks,
				Err: fmt.Errorf("more than %d pages", maxPages)}
		}
		opts.Page = page
		checks, err := c.listPage(ctx, opts, attempts)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		added := 0
		for _, ch := range checks {
			if !seen[ch.ID] {
				seen[ch.ID] = true
				all = append(all, ch)
				added++
			}
		}
		if len(checks) < rows {
			break
		}
		if added == 0 {
			return nil, &Error{Kind: KindBadResponse, Operation: opListChecks,
				Err: fmt.Errorf("page %d repeats earlier checks: pagination is not advancing", page)}
		}
	}
	slices.SortFunc(all, func(a, b Check) int { return cmp.Compare(a.ID, b.ID) })
	return all, nil
}

// PageCount returns the number of pages the list call would return for opts
// (monitoring/get-records-pages.json). opts.Page is ignored.
func (c *Client) PageCount(ctx context.Context, opts ListOptions) (int, error) {
	params, err := listParams(opts, false)
	if err != nil {
		return 0, fmt.Errorf("cloudns: page count: %w", err)
	}
	var n int
	err = c.call(ctx, epPages, params, func(body []byte) error {
		n, err = decodePageCount(body)
		return err
	}, nil)
	if err != nil {
		return 0, fmt.Errorf("cloudns: page count: %w", err)
	}
	return n, nil
}

// GetCheck returns one check (monitoring/get-monitoring-check.json). An
// unknown id is an *Error of KindNotFound. Status is not determined (see
// ListChecks).
func (c *Client) GetCheck(ctx context.Context, id int64) (Check, error) {
	if id <= 0 {
		return Check{}, fmt.Errorf("cloudns: get check %d: id must be positive", id)
	}
	var (
		check Check
		found bool
	)
	err := c.call(ctx, epGetCheck, url.Values{"id": {strconv.FormatInt(id, 10)}}, func(body []byte) error {
		var err error
		check, found, err = decodeSingleCheck(body, id)
		return err
	}, nil)
	if err == nil && !found {
		err = &Error{Kind: KindNotFound, Operation: opGetCheck, HTTPStatus: http.StatusOK,
			Err: errors.New("empty response")}
	}
	if err != nil {
		return Check{}, fmt.Errorf("cloudns: get check %d: %w", id, err)
	}
	return check, nil
}
