package tune

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
)

// balancing is the scheduler, session persistence and health check of one
// rule or layer-4 listener, and which of them a change sends.
type balancing struct {
	scheduler string
	session   int64
	health    inventory.HealthCheck

	sendScheduler, sendSession, sendHealth bool
}

// input is what a change sends: the settings marked to send, the health
// check whole.
func (b balancing) input() clb.BalancingChange {
	var in clb.BalancingChange
	if b.sendScheduler {
		in.Scheduler = b.scheduler
	}
	if b.sendSession {
		in.SessionExpireTime = &b.session
	}
	if b.sendHealth {
		in.HealthCheck = &b.health
	}
	return in
}

// Layer-7 defaults CLB gives an HTTP check (docs/tencentcloud-api.md §3):
// a layer-4 listener switched to HTTP starts from them.
const (
	defaultCheckPath   = "/"
	defaultCheckMethod = "HEAD"
	defaultHTTPCodes   = 31
	// defaultHTTPVersion is the HttpVersion an HTTP check of a TCP listener
	// gets when it has none: CLB requires one there.
	defaultHTTPVersion = "HTTP/1.1"
)

// place is a rule or layer-4 listener as Plan sees it.
type place struct {
	lb       inventory.LoadBalancer
	listener inventory.Listener
	rule     *inventory.Rule // nil for a layer-4 listener
}

// address is the listener, or the rule with its domain.
func (p place) address() clb.Address { return p.lb.At(p.listener, p.rule) }

func (p place) current() balancing {
	cur := p.listener.BalancingAt(p.rule)
	b := balancing{scheduler: cur.Scheduler, session: cur.SessionExpireTime}
	if cur.HealthCheck != nil {
		b.health = *cur.HealthCheck
	}
	return b
}

// plan compares the place with want: the change (nil if nothing changes),
// the settings that do not apply here, and the reason the result would be
// invalid ("" if it is not).
func (p place) plan(want Settings) (ch *Change, skipped []string, refused string) {
	cur := p.current()
	next := cur
	layer7 := p.rule != nil
	proto := p.listener.Protocol

	if want.Scheduler != nil {
		next.scheduler, next.sendScheduler = *want.Scheduler, *want.Scheduler != cur.scheduler
	}
	if v := want.SessionExpireTime; v != nil {
		switch {
		case !layer7 && proto != "TCP":
			skipped = append(skipped, fmt.Sprintf("session persistence: CLB has none for %s listeners (TCP and UDP only)", proto))
		case !layer7 && *v > 3600:
			return nil, skipped, fmt.Sprintf("session persistence %ds is over the 3600 s a TCP listener allows: give 0 or 30-3600", *v)
		default:
			next.session, next.sendSession = *v, *v != cur.session
		}
	}
	if (next.sendScheduler || next.sendSession) && next.scheduler == "LEAST_CONN" && next.session > 0 {
		return nil, skipped, fmt.Sprintf("session persistence (%ds) does not work with LEAST_CONN scheduling: set --%s 0, or --%s WRR", next.session, FieldSessionPersistence, FieldScheduler)
	}

	h, hs, why := mergeHealth(cur.health, want.HealthCheck, layer7, proto)
	skipped = append(skipped, hs...)
	if why != "" {
		return nil, skipped, why
	}
	next.health = h
	fields := diffBalancing(cur, next)
	next.sendHealth = healthChanged(cur.health, next.health)
	if len(fields) == 0 {
		return nil, skipped, ""
	}
	c := &Change{
		Kind: KindListener, Address: p.address(), LoadBalancerName: p.lb.Name,
		Protocol: proto, Port: p.listener.Port, Fields: fields, want: next,
	}
	if layer7 {
		c.Kind, c.URL = KindRule, p.rule.URL
	}
	return c, skipped, ""
}

// mergeHealth overlays want on cur, filling what an HTTP check needs from
// CLB's defaults, and checks the result as CLB would.
func mergeHealth(cur inventory.HealthCheck, want HealthCheck, layer7 bool, proto string) (h inventory.HealthCheck, skipped []string, refused string) {
	h = cur
	if want.On != nil {
		h.On = *want.On
	}
	if want.Type != nil {
		if types := checkTypes(layer7, proto); !slices.Contains(types, *want.Type) {
			skipped = append(skipped, fmt.Sprintf("health check type %s: %s %s check by %s", *want.Type, proto, placeName(layer7), strings.Join(types, " or ")))
		} else {
			h.CheckType = *want.Type
		}
	}
	if layer7 && h.CheckType == "" {
		h.CheckType = "HTTP"
	}
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&h.IntervalTime, want.Interval)
	set(&h.TimeOut, want.Timeout)
	set(&h.HealthNum, want.HealthyThreshold)
	set(&h.UnHealthNum, want.UnhealthyThreshold)
	// An HTTPS check is the HTTP check's request over TLS: it has the same
	// path, domain and codes, and keeps its type when they change.
	if h.AsksForPath() {
		set(&h.HTTPCode, want.HTTPCodes)
		if want.Path != nil {
			h.HTTPCheckPath = *want.Path
		}
		if want.Domain != nil {
			h.HTTPCheckDomain = *want.Domain
		}
		if h.HTTPCheckPath == "" {
			h.HTTPCheckPath = defaultCheckPath
		}
		if h.HTTPCheckMethod == "" {
			h.HTTPCheckMethod = defaultCheckMethod
		}
		if h.HTTPCode == 0 {
			h.HTTPCode = defaultHTTPCodes
		}
		if proto == "TCP" && h.HTTPVersion == "" {
			h.HTTPVersion = defaultHTTPVersion
		}
	} else if want.Path != nil || want.Domain != nil || want.HTTPCodes != nil {
		asking := slices.DeleteFunc(checkTypes(layer7, proto), func(t string) bool { return t == "TCP" })
		skipped = append(skipped, fmt.Sprintf("health check path, domain and HTTP codes: the check is %s, which sends no HTTP request (set --%s %s to use them)",
			cmpOr(h.CheckType, "TCP"), FieldHealthCheckType, strings.Join(asking, " or ")))
	}
	if !healthChanged(cur, h) {
		return h, skipped, ""
	}
	switch {
	case h.TimeOut < 2 || h.TimeOut > 60:
		refused = fmt.Sprintf("health check timeout %ds is outside 2-60 s: set --%s", h.TimeOut, FieldHealthCheckTimeout)
	case h.IntervalTime < 2 || h.IntervalTime > 300:
		refused = fmt.Sprintf("health check interval %ds is outside 2-300 s: set --%s", h.IntervalTime, FieldHealthCheckInterval)
	case h.TimeOut >= h.IntervalTime:
		refused = fmt.Sprintf("health check timeout %ds would not be less than the interval %ds: set --%s below it or raise --%s", h.TimeOut, h.IntervalTime, FieldHealthCheckTimeout, FieldHealthCheckInterval)
	case h.HealthNum < 2 || h.HealthNum > 10:
		refused = fmt.Sprintf("healthy threshold %d is outside 2-10: set --%s", h.HealthNum, FieldHealthyThreshold)
	case h.UnHealthNum < 2 || h.UnHealthNum > 10:
		refused = fmt.Sprintf("unhealthy threshold %d is outside 2-10: set --%s", h.UnHealthNum, FieldUnhealthyThreshold)
	case h.CheckType == "HTTP" && proto == "TCP" && h.HTTPCheckDomain == "":
		refused = fmt.Sprintf("an HTTP health check of a TCP listener needs a domain: set --%s", FieldHealthCheckDomain)
	}
	return h, skipped, refused
}

// checkTypes are the check types tune sets on a rule (layer7) or listener
// of protocol proto: CLB's HTTP rules check by HTTP, HTTPS rules by HTTP or
// HTTPS, TCP, TCP_SSL and QUIC listeners by TCP or HTTP (the SDK's
// HealthCheck.CheckType; tune leaves GRPC, PING and CUSTOM alone).
func checkTypes(layer7 bool, proto string) []string {
	switch {
	case proto == "HTTPS":
		return []string{"HTTP", "HTTPS"}
	case layer7:
		return []string{"HTTP"}
	}
	return []string{"TCP", "HTTP"}
}

// placeName is what a change applies to: a rule or a listener.
func placeName(layer7 bool) string {
	if layer7 {
		return "rules"
	}
	return "listeners"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// healthChanged reports whether a field tune manages differs.
func healthChanged(a, b inventory.HealthCheck) bool {
	return len(diffHealth(a, b)) > 0
}

func diffBalancing(cur, next balancing) []FieldChange {
	var out []FieldChange
	if next.scheduler != cur.scheduler {
		out = append(out, FieldChange{"scheduler", cmpOr(cur.scheduler, "-"), next.scheduler})
	}
	if next.session != cur.session {
		out = append(out, FieldChange{"session persistence", seconds(cur.session), seconds(next.session)})
	}
	return append(out, diffHealth(cur.health, next.health)...)
}

// diffHealth lists the managed fields of a health check that differ; the
// HTTP ones only for an HTTP or HTTPS check.
func diffHealth(a, b inventory.HealthCheck) []FieldChange {
	var out []FieldChange
	add := func(name, before, after string) {
		if before != after {
			out = append(out, FieldChange{name, before, after})
		}
	}
	add("health check", onOff(a.On), onOff(b.On))
	add("health check type", cmpOr(a.CheckType, "-"), cmpOr(b.CheckType, "-"))
	if b.AsksForPath() {
		add("health check path", cmpOr(a.HTTPCheckPath, "-"), b.HTTPCheckPath)
		add("health check domain", cmpOr(a.HTTPCheckDomain, "-"), cmpOr(b.HTTPCheckDomain, "-"))
		add("health check HTTP codes", httpCodes(a.HTTPCode), httpCodes(b.HTTPCode))
	}
	add("health check interval", seconds(a.IntervalTime), seconds(b.IntervalTime))
	add("health check timeout", seconds(a.TimeOut), seconds(b.TimeOut))
	add("healthy threshold", fmt.Sprint(a.HealthNum), fmt.Sprint(b.HealthNum))
	add("unhealthy threshold", fmt.Sprint(a.UnHealthNum), fmt.Sprint(b.UnHealthNum))
	return out
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// seconds shows a duration in seconds; 0 is "off", which is what it means
// for session persistence (CLB never describes a health check time of 0).
func seconds(s int64) string {
	if s == 0 {
		return "off"
	}
	return fmt.Sprintf("%ds", s)
}

// httpCodes shows CLB's status-class bit mask: "2xx 3xx".
func httpCodes(mask int64) string {
	if mask == 0 {
		return "-"
	}
	var out []string
	for i := range 5 {
		if mask&(1<<i) != 0 {
			out = append(out, fmt.Sprintf("%dxx", i+1))
		}
	}
	return strings.Join(out, " ")
}
