// Package cloudns is a client for the monitoring part of the ClouDNS HTTP API
// (https://api.cloudns.net/monitoring/*), built to mirror ClouDNS checks onto
// a status page without ever inventing an outage: a failing or odd API is
// not a down service. Its fake is package cloudnstest. The reference for
// every shape below is shared/reference/cloudns-api.md.
//
// # Options
//
// [New] uses every [Options] value as given and fills nothing in: start
// from [DefaultOptions], which holds the Default* constants, set the
// identity and password, and change what differs. A value that cannot work
// (a zero timeout or rate, waits in the wrong order) is an error naming
// the field.
//
// # Calls
//
// [Client.LoginTest] (login/login.json, falling back to dns/login.json on
// 404), [Client.ListChecks] and [Client.ListAllChecks]
// (monitoring/get-records.json), [Client.PageCount]
// (monitoring/get-records-pages.json), [Client.GetCheck]
// (monitoring/get-monitoring-check.json) and [Client.Snapshot], a full poll
// of the account that determines every check's status.
//
// For checks as code (statussync cloudns plan|apply): [Client.CreateCheck],
// [Client.UpdateCheck], [Client.DeleteCheck] (monitoring/create.json,
// update.json, delete.json), [Client.ListNotifications],
// [Client.AddNotification] and [Client.DeleteNotification]
// (monitoring/list-notifications.json, add-notification.json,
// delete-notification.json). Writes are retried only after a rate-limit
// refusal: after a lost answer or a 5xx the write may have happened, and a
// repeated create would duplicate the check.
//
// # Status determination
//
// The API documents a status filter on the list call (-1 unknown, 0 down,
// 1 up) but not the field that carries a check's current status in the list
// response: a "status" key is only inferred. Snapshot therefore takes status
// from the documented filter, and uses the field only to veto:
//
//   - an unfiltered listing of all pages gives the catalogue: every check,
//     its name and its state (paused or active), whatever its status;
//   - the status=0 listing is the down set, the status=1 listing the up set;
//   - a paused check is StatusPaused;
//   - a check in both sets is StatusUnknown (it changed between the calls,
//     or the API ignored the filter);
//   - a check in one set whose own status field, in that same response, says
//     otherwise is StatusUnknown: the filter is documented and the field is
//     not, but the disagreement means one of them is not what we think, and
//     an unknown is safe where a wrong "down" is not;
//   - otherwise the set decides: StatusDown or StatusUp;
//   - a check in neither set is StatusUnknown, even if its field says up or
//     down, because the field alone is unverified.
//
// Contradictions are counted in [Snapshot.Conflicts], logged at debug per
// check and at warning level per poll. Fetching both sets rather than only
// the down set is what makes an ignored filter visible: with the down set
// alone, an API that silently dropped the filter would mark every check
// down. The unfiltered listing costs one call per page on top, and is kept
// because it is the only source that does not depend on filter semantics: it
// tells a check with an unknown status apart from a check that does not exist
// (a misconfigured monitor), and it carries the state of paused checks.
//
// # Calls per poll
//
// Pages are requested at 100 rows (the maximum) until a page comes back
// shorter than that, so a listing of n checks costs floor(n/100)+1 calls. A
// poll costs the sum for the catalogue, the down set and the up set, and does
// not depend on how many checks a caller looks at: 250 checks with a few down
// cost 3 + 1 + 3 = 7 calls. [Snapshot.Calls] reports the number, retries
// included. Callers should share one Snapshot per poll interval between all
// the checks they watch.
//
// # Unverified behaviour and the defences against it
//
//   - Value types: numbers arrive as strings, numbers or "" (both seen).
//     Every field is decoded leniently; an unreadable field is left at its
//     zero value (State at StateUnset) instead of failing the call. Only a
//     check without an id fails its page, since guessing would mix checks up.
//   - Check types: unknown check_type numbers are kept as [CheckType] values.
//   - List shape: an object keyed by check id is expected; an array of checks
//     is accepted too, and {}, [] and null are all empty pages.
//   - Pagination: a page that brings no new check ends the listing with a
//     KindBadResponse error instead of looping, and listings stop after 1,000
//     pages.
//   - get-monitoring-check: a bare object is expected; one wrapped like a list
//     entry is accepted; an empty answer or "Invalid id param." (inferred
//     text) is KindNotFound; a check with another id is KindBadResponse.
//   - Page count for zero checks (0 or 1) is not verified; both are accepted.
//   - Failure envelope: {"status":"Failed",...} with HTTP 200, with the text
//     in statusDescription or statusMessage; the documented {"status":"0",...}
//     variant is recognised only when it has a description and no id, so that
//     a down check object is never mistaken for a failure.
//   - Failure texts map to kinds on the exact documented texts first, then on
//     fragments ("invalid authentication", "permission", "Request blocked",
//     "requests per second"), so a rewording degrades to the right kind or to
//     KindOther, never to a wrong retry. The text returned to a
//     non-whitelisted IP is unknown and lands in KindOther.
//
// # Authentication
//
// Exactly one identity is used: auth-id (API user), sub-auth-id or
// sub-auth-user (sub-user), with auth-password. Credentials travel only as
// POST application/x-www-form-urlencoded fields, never in a URL, so no proxy
// or access log records them. Redirects are not followed (a 307 would resend
// the form elsewhere). Request bodies are never logged, and failure texts and
// transport errors are scrubbed of the password as a second line of defence.
//
// # Rate limits and retries
//
// ClouDNS allows 20 requests per second per source IP (and 600 per minute)
// and answers excess with a Failed body, not HTTP 429. The client's limiter
// runs at Options.RateLimit without bursts (5 requests per second in
// DefaultOptions) and refuses to be set above 20. Transport errors, HTTP
// 5xx and rate-limit failures are retried with exponential backoff from
// Options.RetryWaitMin, at most Options.MaxRetries times (DefaultOptions:
// from one second, twice; 0 sends each request once), never past the
// caller's deadline; authentication, permission and other failures
// are not retried, since repeating them cannot help and repeated bad
// credentials invite a block.
//
// # Metrics
//
// statussync_cloudns_requests_total{operation,result} counts HTTP requests
// (retries included) by operation (login, list_checks, page_count,
// get_check) and result (ok or an [ErrorKind] name);
// statussync_cloudns_request_duration_seconds{operation} times them. Label
// values come from these fixed sets only.
package cloudns
