package cloudns

import (
	"encoding/json"
	"fmt"
	"time"
)

// CheckType is ClouDNS's check_type number. Numbers this package does not
// know are kept as they are: ClouDNS has renumbered types before (legacy 4/5
// HTTP/HTTPS became 18 "Web"), and an unknown type says nothing about a
// check's status.
type CheckType int

// Check types, current and legacy generation (reference §2.12).
const (
	CheckTypePing15      CheckType = 1  // legacy: ping, down at 15% loss
	CheckTypePing25      CheckType = 2  // legacy: ping, down at 25% loss
	CheckTypePing50      CheckType = 3  // legacy: ping, down at 50% loss
	CheckTypeHTTP        CheckType = 4  // legacy
	CheckTypeHTTPS       CheckType = 5  // legacy
	CheckTypeHTTPCustom  CheckType = 6  // legacy: HTTP with expected content
	CheckTypeHTTPSCustom CheckType = 7  // legacy: HTTPS with expected content
	CheckTypeTCP         CheckType = 8  // TCP port
	CheckTypeUDP         CheckType = 9  // UDP port
	CheckTypeDNS         CheckType = 10 // DNS query
	CheckTypeHeartbeat   CheckType = 12 // heartbeat URL
	CheckTypeTLS         CheckType = 13 // TLS (SSL) certificate
	CheckTypeSMTP        CheckType = 15 // SMTP
	CheckTypeStreaming   CheckType = 16 // streaming
	CheckTypePing        CheckType = 17 // ping (current generation)
	CheckTypeWeb         CheckType = 18 // web: HTTP(S) (current generation)
)

var checkTypeNames = map[CheckType]string{
	CheckTypePing15:      "ping_15",
	CheckTypePing25:      "ping_25",
	CheckTypePing50:      "ping_50",
	CheckTypeHTTP:        "http",
	CheckTypeHTTPS:       "https",
	CheckTypeHTTPCustom:  "http_custom",
	CheckTypeHTTPSCustom: "https_custom",
	CheckTypeTCP:         "tcp",
	CheckTypeUDP:         "udp",
	CheckTypeDNS:         "dns",
	CheckTypeHeartbeat:   "heartbeat",
	CheckTypeTLS:         "tls",
	CheckTypeSMTP:        "smtp",
	CheckTypeStreaming:   "streaming",
	CheckTypePing:        "ping",
	CheckTypeWeb:         "web",
}

// String returns a lowercase name for known types and "type_<n>" otherwise.
func (t CheckType) String() string {
	if n, ok := checkTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type_%d", int(t))
}

// Known reports whether t is a type this package has a name for.
func (t CheckType) Known() bool {
	_, ok := checkTypeNames[t]
	return ok
}

// APIStatus is ClouDNS's status enumeration, used by the status filter of the
// list calls: -1 unknown, 0 down, 1 up.
type APIStatus int

// ClouDNS status values (documented for the list filter, reference §2.1).
const (
	APIStatusUnknown APIStatus = -1
	APIStatusDown    APIStatus = 0
	APIStatusUp      APIStatus = 1
)

// String returns "unknown", "down", "up" or "status_<n>".
func (s APIStatus) String() string {
	switch s {
	case APIStatusUnknown:
		return "unknown"
	case APIStatusDown:
		return "down"
	case APIStatusUp:
		return "up"
	}
	return fmt.Sprintf("status_%d", int(s))
}

// State is ClouDNS's check state: 0 paused, 1 active.
type State int

// Check states. StateUnset is not a ClouDNS value: it marks a state field
// that was missing or could not be read.
const (
	StateUnset  State = -1
	StatePaused State = 0
	StateActive State = 1
)

// String returns "paused", "active", "unset" or "state_<n>".
func (s State) String() string {
	switch s {
	case StateUnset:
		return "unset"
	case StatePaused:
		return "paused"
	case StateActive:
		return "active"
	}
	return fmt.Sprintf("state_%d", int(s))
}

// Status is this package's determination of a check's current status (see
// the package doc). The zero value is StatusUnknown, so a Check that nothing
// vouches for is never up or down.
type Status int

// Determined statuses.
const (
	StatusUnknown Status = iota
	StatusUp
	StatusDown
	StatusPaused
)

// String returns "unknown", "up", "down" or "paused".
func (s Status) String() string {
	switch s {
	case StatusUp:
		return "up"
	case StatusDown:
		return "down"
	case StatusPaused:
		return "paused"
	case StatusUnknown:
		return "unknown"
	}
	return fmt.Sprintf("status_%d", int(s))
}

// StatusReason says why a Check got its Status. Values are bounded and safe
// as log attributes or label values.
type StatusReason string

// Reasons for a determined Status.
const (
	// ReasonNotDetermined: the Check came from a call that cannot determine
	// status (ListChecks, ListAllChecks, GetCheck).
	ReasonNotDetermined StatusReason = "not_determined"
	// ReasonPaused: the check's state is paused.
	ReasonPaused StatusReason = "paused"
	// ReasonDownFilter: listed by the status=0 filter only.
	ReasonDownFilter StatusReason = "down_filter"
	// ReasonUpFilter: listed by the status=1 filter only.
	ReasonUpFilter StatusReason = "up_filter"
	// ReasonNoFilter: listed by neither filter (ClouDNS status unknown, or
	// the check changed between the calls of one poll).
	ReasonNoFilter StatusReason = "no_filter"
	// ReasonBothFilters: listed by both filters, which cannot be true; it
	// happens when a check flips between calls or ClouDNS ignores the filter.
	ReasonBothFilters StatusReason = "both_filters"
	// ReasonFieldDisagrees: the check's own status field contradicts the
	// filter that listed it.
	ReasonFieldDisagrees StatusReason = "field_disagrees"
)

// Check is one ClouDNS monitoring check. Fields missing from a response or
// unreadable are left at their zero value (State at StateUnset); Raw keeps
// the object exactly as received.
type Check struct {
	// ID is the check id.
	ID int64
	// Name is the check name (ClouDNS does not enforce uniqueness).
	Name string
	// Type is the check type; 0 if absent.
	Type CheckType
	// IP is the target ("ip"): an address or host name.
	IP string
	// Host is the FQDN used by HTTP(S), DNS and TLS checks.
	Host string
	// Port is the target port; 0 if absent.
	Port int
	// Path is the HTTP path, stored by ClouDNS without its leading slash.
	Path string
	// Content is the expected body string of custom-string checks.
	Content string
	// OpenPort is the TCP/UDP open_port setting (1: up if open).
	OpenPort int
	// QueryType is the record type of a DNS check.
	QueryType string
	// QueryResponse is the expected answer of a DNS check.
	QueryResponse string
	// Region is monitoring_region: global, eur, nam, asi, a country code or a
	// node id.
	Region string
	// Period is check_period, the time between two checks.
	Period time.Duration
	// StatusChangeChecks is how many consecutive results confirm a change.
	StatusChangeChecks int
	// State is active or paused; StateUnset if the field was missing.
	State State

	// ReportedStatus is the check object's own "status" field when
	// HasReportedStatus is true. Its name and meaning are inferred, not
	// verified, so it is only used to cross-check the status filters; values
	// other than -1, 0 and 1 are treated as absent.
	ReportedStatus APIStatus
	// HasReportedStatus reports whether ReportedStatus was present.
	HasReportedStatus bool

	// Status is the determined status; only Snapshot determines it.
	// Other calls leave StatusUnknown, or StatusPaused for paused checks.
	Status Status
	// StatusReason explains Status.
	StatusReason StatusReason

	// Raw is the check object as received.
	Raw json.RawMessage
}
