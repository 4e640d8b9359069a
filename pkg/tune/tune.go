// Package tune changes how CLB balances and protects the selected listeners:
// scheduler, session persistence and health check — per forwarding rule on
// HTTP and HTTPS listeners (ModifyRule), per listener on TCP, TCP_SSL and
// QUIC ones (ModifyListener) — and the TLS versions of a load balancer's
// HTTPS listeners, through its layer-7 customized configuration
// (ssl_protocols, SetCustomizedConfigForLoadBalancer).
//
// It works in two steps so that a person (or doctor) sees what will happen
// first: Plan compares what the inventory shows with the wanted Settings and
// lists every field that would change, before → after; Apply makes those
// changes, one CLB task at a time per load balancer and different load
// balancers in parallel, awaits each task, then describes the load balancer
// again to confirm the new values.
package tune

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
)

// Settings are the values to set. A nil field (or nil TLSProtocols) leaves
// what is there; a set one is the value wanted everywhere it applies.
type Settings struct {
	// Scheduler is WRR, LEAST_CONN or IP_HASH.
	Scheduler *string `json:"scheduler,omitempty"`
	// SessionExpireTime is session persistence in seconds: 0 off, else
	// 30-86400 on rules (30-3600 on TCP listeners). TCP_SSL and QUIC
	// listeners have none (CLB documents it for TCP and UDP only).
	SessionExpireTime *int64 `json:"sessionExpireTime,omitempty"`
	// HealthCheck is the health check's settings.
	HealthCheck HealthCheck `json:"healthCheck"`
	// TLSProtocols are the TLS versions the load balancer's HTTPS listeners
	// allow, from TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (e.g. TLSv1.2 TLSv1.3).
	// They apply to a whole load balancer (all its HTTP/HTTPS listeners).
	TLSProtocols []string `json:"tlsProtocols,omitempty"`
}

// HealthCheck are the settings of a health check; nil leaves a field.
type HealthCheck struct {
	On *bool `json:"on,omitempty"`
	// Type is TCP (connect), HTTP (a request to Path) or HTTPS (the same
	// request over TLS, for backends that serve HTTPS). Rules of HTTP
	// listeners check by HTTP, rules of HTTPS listeners by HTTP or HTTPS,
	// other listeners by TCP or HTTP.
	Type *string `json:"type,omitempty"`
	// Path is the HTTP or HTTPS check's path; it starts with "/".
	Path *string `json:"path,omitempty"`
	// Domain is the HTTP or HTTPS check's Host header; CLB requires one for
	// an HTTP check of a TCP listener.
	Domain *string `json:"domain,omitempty"`
	// Interval between checks, seconds, 2-300.
	Interval *int64 `json:"interval,omitempty"`
	// Timeout of one check, seconds, 2-60 and less than Interval.
	Timeout *int64 `json:"timeout,omitempty"`
	// HealthyThreshold is the successes that make a backend healthy, 2-10.
	HealthyThreshold *int64 `json:"healthyThreshold,omitempty"`
	// UnhealthyThreshold is the failures that make it unhealthy, 2-10.
	UnhealthyThreshold *int64 `json:"unhealthyThreshold,omitempty"`
	// HTTPCodes is the bit mask of the HTTP status classes that count as
	// healthy: 1 = 1xx, 2 = 2xx, 4 = 3xx, 8 = 4xx, 16 = 5xx; 1-31.
	HTTPCodes *int64 `json:"httpCodes,omitempty"`
}

// Empty reports whether s sets nothing.
func (s Settings) Empty() bool {
	h := s.HealthCheck
	return s.Scheduler == nil && s.SessionExpireTime == nil && s.TLSProtocols == nil &&
		h.On == nil && h.Type == nil && h.Path == nil && h.Domain == nil && h.Interval == nil &&
		h.Timeout == nil && h.HealthyThreshold == nil && h.UnhealthyThreshold == nil && h.HTTPCodes == nil
}

// Setting names, as the clbcert tune flags spell them; FieldError.Field is
// one of them, so a command can map it back to a flag or a config key.
const (
	FieldScheduler           = "scheduler"
	FieldSessionPersistence  = "session-persistence"
	FieldHealthCheck         = "health-check"
	FieldHealthCheckType     = "health-check-type"
	FieldHealthCheckPath     = "health-check-path"
	FieldHealthCheckDomain   = "health-check-domain"
	FieldHealthCheckInterval = "health-check-interval"
	FieldHealthCheckTimeout  = "health-check-timeout"
	FieldHealthyThreshold    = "healthy-threshold"
	FieldUnhealthyThreshold  = "unhealthy-threshold"
	FieldHTTPCodes           = "health-check-http-codes"
	FieldTLSProtocols        = "tls-protocols"
)

// FieldError is a setting out of its range: Field is one of the Field*
// names, Value what was given, Fix what to give instead.
type FieldError struct {
	Field string
	Value string
	Fix   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s %s: %s", e.Field, e.Value, e.Fix) }

// schedulers are the values of Settings.Scheduler.
var schedulers = []string{"WRR", "LEAST_CONN", "IP_HASH"}

// tlsVersions are the ssl_protocols values, oldest first.
var tlsVersions = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// Validate checks every set value against CLB's documented ranges, before
// anything is read or changed. The error is the first problem found, a
// *FieldError.
func (s Settings) Validate() error {
	h := s.HealthCheck
	rng := func(field string, v *int64, lo, hi int64, unit string) error {
		if v != nil && (*v < lo || *v > hi) {
			return &FieldError{field, fmt.Sprint(*v), fmt.Sprintf("give %d-%d%s", lo, hi, unit)}
		}
		return nil
	}
	if s.Scheduler != nil && !slices.Contains(schedulers, *s.Scheduler) {
		return &FieldError{FieldScheduler, *s.Scheduler, "give WRR, LEAST_CONN or IP_HASH"}
	}
	if v := s.SessionExpireTime; v != nil && *v != 0 && (*v < 30 || *v > 86400) {
		return &FieldError{FieldSessionPersistence, fmt.Sprint(*v), "give 0 (off) or 30-86400 seconds (30-3600 on TCP listeners)"}
	}
	if s.Scheduler != nil && *s.Scheduler == "LEAST_CONN" && s.SessionExpireTime != nil && *s.SessionExpireTime > 0 {
		return &FieldError{FieldSessionPersistence, fmt.Sprint(*s.SessionExpireTime), "LEAST_CONN scheduling has no session persistence: give 0, or use WRR"}
	}
	if h.Type != nil && *h.Type != "TCP" && *h.Type != "HTTP" && *h.Type != "HTTPS" {
		return &FieldError{FieldHealthCheckType, *h.Type, "give TCP, HTTP or HTTPS (HTTPS for rules of HTTPS listeners)"}
	}
	if h.Path != nil && (!strings.HasPrefix(*h.Path, "/") || strings.ContainsFunc(*h.Path, func(r rune) bool { return r <= ' ' || r >= 0x7f })) {
		return &FieldError{FieldHealthCheckPath, fmt.Sprintf("%q", *h.Path), "give a path that starts with / and has no spaces, e.g. /healthz"}
	}
	if h.Domain != nil && (*h.Domain == "" || strings.ContainsAny(*h.Domain, " /:")) {
		return &FieldError{FieldHealthCheckDomain, fmt.Sprintf("%q", *h.Domain), "give a host name, e.g. www.example.com"}
	}
	for _, err := range []error{
		rng(FieldHealthCheckInterval, h.Interval, 2, 300, " seconds"),
		rng(FieldHealthCheckTimeout, h.Timeout, 2, 60, " seconds"),
		rng(FieldHealthyThreshold, h.HealthyThreshold, 2, 10, ""),
		rng(FieldUnhealthyThreshold, h.UnhealthyThreshold, 2, 10, ""),
		rng(FieldHTTPCodes, h.HTTPCodes, 1, 31, " (a bit mask: 1 = 1xx, 2 = 2xx, 4 = 3xx, 8 = 4xx, 16 = 5xx; 2xx+3xx = 6)"),
	} {
		if err != nil {
			return err
		}
	}
	if h.Timeout != nil && h.Interval != nil && *h.Timeout >= *h.Interval {
		return &FieldError{FieldHealthCheckTimeout, fmt.Sprint(*h.Timeout), fmt.Sprintf("must be less than the interval %d: lower it or raise --%s", *h.Interval, FieldHealthCheckInterval)}
	}
	if s.TLSProtocols != nil {
		if len(s.TLSProtocols) == 0 {
			return &FieldError{FieldTLSProtocols, `""`, "allows no TLS version: give e.g. TLSv1.2,TLSv1.3"}
		}
		for _, p := range s.TLSProtocols {
			if !slices.Contains(tlsVersions, p) {
				return &FieldError{FieldTLSProtocols, p, "give TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3 (recommended: TLSv1.2,TLSv1.3)"}
			}
		}
	}
	return nil
}

// Selection is what Plan works on.
type Selection struct {
	// All selects every listener of every load balancer in the inventory.
	All bool
	// Targets select load balancers, listeners, domains (every rule of
	// that domain) or rules, as clb.ParseAddress reads them.
	Targets []clb.Address
}

// ChangeKind says which API makes a Change.
type ChangeKind string

const (
	// KindRule is a forwarding rule of an HTTP or HTTPS listener: ModifyRule.
	KindRule ChangeKind = "rule"
	// KindListener is a TCP, TCP_SSL or QUIC listener: ModifyListener.
	KindListener ChangeKind = "listener"
	// KindTLS is a load balancer's customized configuration:
	// SetCustomizedConfigForLoadBalancer.
	KindTLS ChangeKind = "tls"
)

// Change is what Apply does to one rule, listener or load balancer.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// Address is the load balancer of KindTLS, the listener of
	// KindListener, the rule (LocationID, with its Domain) of KindRule; as
	// text lb-id, lb-id/lbl-id or lb-id/lbl-id/loc-id.
	clb.Address
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	// Protocol and Port are empty for KindTLS.
	Protocol string `json:"protocol,omitempty"`
	Port     int64  `json:"port,omitempty"`
	// URL is the path of KindRule's rule.
	URL string `json:"url,omitempty"`
	// Fields are the values that change, in a stable order.
	Fields []FieldChange `json:"fields"`
	// Config is how KindTLS changes the customized configuration.
	Config *ConfigChange `json:"config,omitempty"`

	// want is the balancing after the change (KindRule, KindListener).
	want balancing
}

// touches are the load balancers the change keeps busy: its own, and
// those that share a configuration it updates.
func (c Change) touches() []string {
	if c.Config != nil && c.Config.Action == ConfigUpdate {
		return append([]string{c.LoadBalancerID}, c.Config.SharedWith...)
	}
	return []string{c.LoadBalancerID}
}

// Where describes the place for a person: the target with its protocol,
// port, domain and path.
func (c Change) Where() string {
	switch c.Kind {
	case KindTLS:
		return c.LoadBalancerID + " (TLS of its HTTP/HTTPS listeners)"
	case KindRule:
		return fmt.Sprintf("%s (%s:%d %s%s)", c.Address, c.Protocol, c.Port, c.Domain, c.URL)
	}
	return fmt.Sprintf("%s (%s:%d)", c.Address, c.Protocol, c.Port)
}

// FieldChange is one value before → after, both as a person reads them
// ("30s", "on", "TLSv1.2 TLSv1.3").
type FieldChange struct {
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Config actions of a ConfigChange.
const (
	// ConfigUpdate rewrites the load balancer's configuration: its own, or
	// one whose every other load balancer (SharedWith) is selected too.
	ConfigUpdate = "update"
	// ConfigAdd creates a configuration and binds it to the load balancer,
	// which has none.
	ConfigAdd = "add"
	// ConfigSplit creates a configuration with the shared one's other
	// directives, unbinds the shared one from this load balancer only and
	// binds the new one: the other load balancers keep theirs unchanged.
	ConfigSplit = "split"
)

// ConfigChange is how a KindTLS change gets its ssl_protocols.
type ConfigChange struct {
	Action string `json:"action"` // ConfigUpdate, ConfigAdd or ConfigSplit
	// ID is the configuration bound now ("" for ConfigAdd); SharedWith the
	// other load balancers bound to it: ConfigSplit leaves them alone,
	// ConfigUpdate changes them too (they are selected).
	ID         string   `json:"id,omitempty"`
	SharedWith []string `json:"sharedWith,omitempty"`
	// Name is the new configuration's name (ConfigAdd, ConfigSplit):
	// ConfigNamePrefix + the load balancer id.
	Name string `json:"name,omitempty"`
	// Before and After are the configuration's content.
	Before string `json:"before"`
	After  string `json:"after"`
}

// ConfigNamePrefix starts the name of each configuration tune creates.
const ConfigNamePrefix = "clbcert-"

// Skipped is a selected place where a wanted setting does not apply, such
// as session persistence on a TCP_SSL listener; the rest of the plan goes
// ahead without it.
type Skipped struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Refused is a selected place where the wanted settings would leave an
// invalid combination with what is there (a timeout not below the current
// interval, session persistence under LEAST_CONN). Apply refuses a plan
// with any: the settings need fixing first.
type Refused struct {
	Target string `json:"target"`
	Reason string `json:"reason"` // says what to set to fix it
}

// Plan is what Apply would change.
type Plan struct {
	Settings Settings `json:"settings"`
	Changes  []Change `json:"changes"`
	// Unchanged counts the selected places already as wanted.
	Unchanged int       `json:"unchanged"`
	Skipped   []Skipped `json:"skipped,omitempty"`
	Refused   []Refused `json:"refused,omitempty"`
	// Failures are the selected load balancers (or regions) that could not
	// be read: nothing is planned for them.
	Failures []inventory.Failure `json:"failures,omitempty"`
}

// ErrRefused is what Plan.Err wraps when the plan has refusals.
var ErrRefused = errors.New("the settings do not fit what is there")

// Err is nil unless the plan has refusals; Apply changes nothing then.
func (p *Plan) Err() error {
	if len(p.Refused) == 0 {
		return nil
	}
	r := p.Refused[0]
	more := ""
	if len(p.Refused) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(p.Refused)-1)
	}
	return fmt.Errorf("%w: %s: %s%s", ErrRefused, r.Target, r.Reason, more)
}

// Empty reports whether there is nothing to change.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }
