// Package cachet is a client for the Cachet 3.x REST API, the status page
// statussync publishes to. It speaks Cachet 3 only: bearer-token auth and
// paths without a version segment. The 2.x API (X-Cachet-Token, /api/v1)
// is not supported. The wire details follow
// /work/shared/reference/cachet3-api.md, cited below as "reference §N".
//
// # Usage
//
// Build one Client per Cachet instance with New and pass a
// context.Context to every call. Options.BaseURL includes any path
// prefix: "https://status.example.org/api" for a default install,
// "https://example.org/status/api" when CACHET_PATH is "status".
// New uses every Options value as given and fills nothing in: start from
// DefaultOptions, which holds the Default* constants, and change what
// differs. A value that cannot work is an error naming the field.
//
// The operations are the ones statussync needs: Ping and Version;
// components (ListComponents, GetComponent, CreateComponent,
// UpdateComponent, UpdateComponentStatus); component groups
// (ListComponentGroups, CreateComponentGroup); incidents (ListIncidents,
// GetIncident, CreateIncident, UpdateIncident); incident updates
// (CreateIncidentUpdate, ListIncidentUpdates); metrics (ListMetrics,
// CreateMetric, PostMetricPoint, ListMetricPoints); and maintenance
// schedules (ListSchedules). List operations follow every page.
//
// # Token abilities
//
// Cachet 3 tokens are created in the dashboard (Settings, Manage API Keys)
// with a list of abilities; a token created with none ticked has all of
// them. Reads need no token unless the API is protected. statussync needs:
//
//   - components.manage: to set each component's baseline status
//     (UpdateComponent), and to create components when asked to.
//   - incidents.manage: to open incidents (CreateIncident) and edit them
//     (UpdateIncident). It also lets reads return unpublished incidents,
//     which is how statussync finds an embargoed incident it opened.
//   - incident-updates.manage: to post progress and to resolve incidents
//     (CreateIncidentUpdate); an update with IncidentFixed closes one.
//   - metric-points.manage: to push response times (PostMetricPoint).
//   - metrics.manage: only when statussync creates its metrics itself.
//   - component-groups.manage: only when statussync creates groups itself.
//
// No *.delete ability is needed: statussync never deletes. A token lacking
// an ability gets 403; the returned *APIError names the missing ability.
// Note that Cachet validates the body before checking the ability, so a
// bad body gets 422 even from a token without the ability.
//
// # Errors
//
// Non-2xx responses become *APIError (status code, Cachet's message, the
// per-field errors of a 422, the operation and the ability it needs); use
// errors.As, IsNotFound or IsStatus. A 404 means an unknown id, a
// resource the token may not see, or an API disabled in Cachet's settings.
// The token never appears in errors, log records or metrics: it only
// travels in the Authorization header, headers are never logged, and any
// server-provided text that would reach an error is scrubbed of it.
//
// # Retries, idempotency and rate limits
//
// Each attempt waits for a client-side token bucket (Options.RateLimit and
// RateBurst; DefaultRateLimit stays under Cachet's default 300 requests per
// minute per token user, and replicas sharing a token share that budget). Every answer's X-RateLimit-Limit
// lowers that rate to 80% of the limit the server states (the app shell's
// published config adds a 60 a minute limit), and a low
// X-RateLimit-Remaining pauses the client until the window turns.
// Retries (at most Options.MaxRetries; 0 sends each request once) happen
// only after transport errors, 5xx and 429, never after other 4xx, with
// capped exponential backoff and jitter; a 429 holds back
// every request of the client for the whole Retry-After (at most two
// minutes).
//
// Reads and updates are idempotent and are retried on all of those. Creates
// are not: Cachet has no idempotency key, so retrying a create whose first
// attempt was processed makes a duplicate incident or update, or merges an
// extra sample into a metric point. Creates are therefore retried only
// when Cachet cannot have processed them: 429 (the throttle rejects before
// the controller), 503 (maintenance mode, or a proxy without a backend),
// or a connection that was never established (refused, DNS failure). A
// create that times out or fails with 500/502/504 returns an error; the
// caller should look for its own resource (statussync marks incidents with
// meta) before creating again.
//
// # Cachet builds and capabilities
//
// Real installations run cores from 2024-10 to today, and all of them say
// "3.x-dev" (reference §9.1; docs/cachet-compatibility.md). The client
// learns from the server's answers whether metadata, include=components
// on incidents and the schedules status filter work (Capabilities), asks
// only for what works, and records a refusal it meets on the way. Incidents
// are linked to their component through the impacts and through the
// component_id attribute, the only link cores before 2026 store; creates
// send both forms. Dates go out as wall clock in Options.Location without
// an offset, which every build stores right.
//
// # Version tolerance
//
// Cachet 3 changed shapes during its development (reference §9), so the
// decoder accepts: JSON:API documents and the older flat {"data": {...}};
// ids as strings or integers; enum values as {"human","value"} objects,
// bare integers or numeric strings (always by value: "human" is a
// translated label); numbers as strings (decimal columns such as a
// metric's default_value); booleans as 0/1; timestamps as
// {"human","string"} objects or bare strings. Offset-less timestamps are
// read in Options.Location, Cachet's APP_TIMEZONE (UTC when nil); RFC 3339
// strings keep their offset. Components without latest_status report
// their baseline as LatestStatus.
//
// Requests are built for the strictest version: optional fields are
// omitted rather than sent as null, dates go out as "2006-01-02 15:04:05"
// in Options.Location, component-group visibility as the integer 1 or 0, metric point
// timestamps as Unix seconds in a JSON number.
//
// Pagination does not follow links.next verbatim: Laravel builds it from
// the request host and drops the filters and per_page, so the client only
// reads the next page number from it and asks the configured base URL.
//
// # Metrics
//
// With Options.Registerer set, the client exports
// statussync_cachet_requests_total{operation,code} (code is the HTTP status
// or "error" when no response arrived) and
// statussync_cachet_request_duration_seconds{operation}. Every attempt is
// counted. Operation label values are constant names such as
// "update_component", never URLs or ids.
//
// The fake server in package cachettest implements the same API in memory
// for tests and local runs.
package cachet
