package tcsim

import (
	"context"
	"slices"
	"strings"
)

// Balancing through the API: ModifyListener (layer-4 listeners) and ModifyRule (layer-7 rules)
// change the scheduler, session persistence and health check of a balancing; DescribeListeners
// shows them. Ranges: docs/tencentcloud-api.md §3 (HealthCheck) and the session persistence
// page (doc 214/6154).
const (
	maxL4SessionExpire = 3600  // TCP and UDP listeners: an hour
	maxL7SessionExpire = 86400 // ModifyRule's and RuleInput's documented 30-86400: a day
	maxRuleURLLength   = 200   // RuleInput.Url: 1-200
)

type oAuth struct {
	OAuthEnable        *bool
	OAuthFailureStatus *string
}

// modifyRuleParams: Url, Scheduler, SessionExpireTime and HealthCheck change what tcsim
// simulates; ForwardType HTTP is accepted; the rest is refused with the reason.
type modifyRuleParams struct {
	listenerRef
	LocationID        *string `json:"LocationId" tc:"required"`
	URL               *string `json:"Url"`
	HealthCheck       *clbHealthCheck
	SessionExpireTime *int64
	OAuth             *oAuth

	Scheduler, ForwardType, TrpcCallee, TrpcFunc, CookieName *string
}

// balancingChange is a checked change of a balancing, applied when its task completes.
type balancingChange struct {
	scheduler     *string
	sessionExpire *int
	health        *healthCheck // the whole check after the change
}

// apply changes b. Switching the health check off or on restarts every target's health:
// Close while nothing checks, Unknown until the checker has counted HealthNum or UnHealthNum
// results again.
func (ch balancingChange) apply(b *balancing) {
	if ch.scheduler != nil {
		b.Scheduler = *ch.scheduler
	}
	if ch.sessionExpire != nil {
		b.SessionExpire = *ch.sessionExpire
	}
	if ch.health == nil {
		return
	}
	switched := ch.health.On != b.Health.On
	b.Health = *ch.health
	if switched {
		for _, t := range b.Targets {
			t.Health, t.ok, t.fail = initialHealth(b.Health), 0, 0
		}
	}
}

// checkBalancingChange validates a change of b, the balancing of a listener or rule of
// protocol, against the state it would leave.
func checkBalancingChange(b *balancing, protocol string, scheduler *string, sessionExpire *int64, hc *clbHealthCheck) (balancingChange, error) {
	var ch balancingChange
	layer7 := isLayer7(protocol)
	sched := b.Scheduler
	if scheduler != nil {
		if !validScheduler(*scheduler) {
			return ch, errorf(codeInvalidParameterValue, "Scheduler must be WRR, LEAST_CONN or IP_HASH.")
		}
		sched = *scheduler
		ch.scheduler = &sched
	}
	session := b.SessionExpire
	if sessionExpire != nil {
		limit := maxL7SessionExpire
		if !layer7 {
			limit = maxL4SessionExpire
			if protocol != protoTCP {
				// UNCERTAIN: ModifyListener documents SessionExpireTime for TCP/UDP listeners
				// only; what CLB answers for a TCP_SSL or QUIC listener is not documented.
				return ch, errorf(codeInvalidParameter, "SessionExpireTime applies to TCP and UDP listeners only, not %s.", protocol)
			}
		}
		if v := *sessionExpire; v != 0 && (v < 30 || v > int64(limit)) {
			return ch, errorf(codeInvalidParameterValue, "SessionExpireTime %d is not 0 (off) or 30-%d seconds.", v, limit)
		}
		session = int(*sessionExpire)
		ch.sessionExpire = &session
	}
	if (scheduler != nil || sessionExpire != nil) && session > 0 && sched == schedLeastConn {
		// Doc 214/6154: least-connections scheduling does not support session persistence.
		// UNCERTAIN: the error code.
		return ch, errorf(codeInvalidParameter, "Session persistence (SessionExpireTime %d) does not work with Scheduler LEAST_CONN; use WRR or set SessionExpireTime 0.", session)
	}
	if hc != nil {
		h, err := mergeHealthCheck(b.Health, hc, protocol)
		if err != nil {
			return ch, err
		}
		ch.health = &h
	}
	return ch, nil
}

// mergeHealthCheck overlays in on cur: a HealthCheck changes only the fields it carries.
func mergeHealthCheck(cur healthCheck, in *clbHealthCheck, protocol string) (healthCheck, error) {
	layer7 := isLayer7(protocol)
	switch {
	case in.ContextType != nil || in.SendContext != nil || in.RecvContext != nil:
		return cur, errorf(codeInvalidParameter, "HealthCheck.ContextType, SendContext and RecvContext belong to CUSTOM checks, which tcsim does not simulate.")
	case in.ExtendedCode != nil:
		return cur, errorf(codeInvalidParameter, "HealthCheck.ExtendedCode belongs to GRPC checks, which tcsim does not simulate.")
	case in.CheckPort != nil && *in.CheckPort != -1:
		return cur, errorf(codeInvalidParameter, "tcsim checks each target on its own port; leave HealthCheck.CheckPort out (or -1).")
	case in.SourceIpType != nil && *in.SourceIpType != 0 && *in.SourceIpType != 1:
		return cur, errorf(codeInvalidParameterValue, "HealthCheck.SourceIpType must be 0 or 1.")
	case in.HttpVersion != nil && *in.HttpVersion != "HTTP/1.0" && *in.HttpVersion != "HTTP/1.1":
		return cur, errorf(codeInvalidParameterValue, "HealthCheck.HttpVersion must be HTTP/1.0 or HTTP/1.1.")
	}
	h := cur
	if in.HealthSwitch != nil {
		switch *in.HealthSwitch {
		case 0, 1:
			h.On = *in.HealthSwitch == 1
		default:
			return cur, errorf(codeInvalidParameterValue, "HealthCheck.HealthSwitch must be 0 (off) or 1 (on).")
		}
	}
	for _, f := range []struct {
		dst *int
		src *int64
	}{{&h.TimeOut, in.TimeOut}, {&h.Interval, in.IntervalTime}, {&h.HealthNum, in.HealthNum}, {&h.UnHealthNum, in.UnHealthNum}, {&h.HTTPCode, in.HttpCode}} {
		if f.src != nil {
			// Clamped so that a huge value stays huge for the range check instead of wrapping.
			*f.dst = int(min(max(*f.src, -1), 1<<20))
		}
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&h.Path, in.HttpCheckPath}, {&h.Domain, in.HttpCheckDomain}, {&h.Method, in.HttpCheckMethod}, {&h.CheckType, in.CheckType}, {&h.HTTPVersion, in.HttpVersion}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := checkCheckType(h.CheckType, protocol); err != nil {
		return cur, err
	}
	if h.CheckType == checkHTTP && !layer7 {
		h = h.withHTTPDefaults()
		if protocol == protoTCP && h.Domain == "" {
			return cur, errorf(codeMissingParameter, "The request is missing a required parameter `HealthCheck.HttpCheckDomain` (an HTTP check of a TCP listener needs it).")
		}
		// The SDK documents HttpVersion as required whenever CheckType is HTTP on a TCP
		// listener: a request that names the check type must name the version too.
		if protocol == protoTCP && in.CheckType != nil && in.HttpVersion == nil {
			return cur, errorf(codeMissingParameter, "The request is missing a required parameter `HealthCheck.HttpVersion` (HTTP/1.0 or HTTP/1.1; an HTTP check of a TCP listener needs it).")
		}
	}
	if err := h.check(); err != nil {
		return cur, errorf(codeInvalidParameterValue, "%s.", err.Error())
	}
	return h, nil
}

// checkCheckType refuses a check type the protocol does not have, and explains the ones CLB
// has and tcsim does not simulate.
func checkCheckType(typ, protocol string) error {
	var allowed []string
	switch protocol {
	case protoHTTP:
		allowed = []string{checkHTTP, "GRPC"}
	case protoHTTPS:
		allowed = []string{checkHTTP, checkHTTPS, "GRPC"}
	case protoTCP:
		allowed = []string{checkTCP, checkHTTP, "CUSTOM"}
	default: // TCP_SSL, QUIC
		allowed = []string{checkTCP, checkHTTP}
	}
	switch {
	case !slices.Contains(allowed, typ):
		return errorf(codeInvalidParameterValue, "HealthCheck.CheckType %q is not one of %s for a %s listener.", typ, strings.Join(allowed, ", "), protocol)
	case typ != checkTCP && !asksForPath(typ):
		return errorf(codeInvalidParameter, "tcsim does not simulate %s health checks; use %s.", typ, strings.Join(slices.DeleteFunc(allowed, func(s string) bool { return s != checkTCP && !asksForPath(s) }), " or "))
	}
	return nil
}

// healthCheckOut is a check as DescribeListeners shows it. The HTTP fields are null for a
// TCP check, as CLB's answers may have them; an HTTPS check has them as an HTTP one does.
func healthCheckOut(h healthCheck) *clbHealthCheck {
	out := &clbHealthCheck{
		HealthSwitch: ptrTo(int64(0)), TimeOut: ptrTo(int64(h.TimeOut)), IntervalTime: ptrTo(int64(h.Interval)),
		HealthNum: ptrTo(int64(h.HealthNum)), UnHealthNum: ptrTo(int64(h.UnHealthNum)), CheckType: ptrTo(h.CheckType),
		SourceIpType: ptrTo(int64(0)),
	}
	if h.On {
		out.HealthSwitch = ptrTo(int64(1))
	}
	if asksForPath(h.CheckType) {
		out.HttpCode, out.HttpCheckPath = ptrTo(int64(h.HTTPCode)), ptrTo(h.Path)
		out.HttpCheckDomain, out.HttpCheckMethod = ptrTo(h.Domain), ptrTo(h.Method)
		if h.HTTPVersion != "" {
			out.HttpVersion = ptrTo(h.HTTPVersion)
		}
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

func (c *cloud) modifyRule(_ context.Context, r *request, p *modifyRuleParams) (any, error) {
	return c.changeListener(r, p.LoadBalancerID, p.ListenerID, func(lb *loadBalancer, l *listener) error {
		if !isLayer7(l.Protocol) {
			// UNCERTAIN: the code; CLB's list has InvalidParameter.ProtocolCheckFailed, not this action's.
			return errorf(codeInvalidParameter, "A %s listener has no forwarding rules; change its balancing with ModifyListener.", l.Protocol)
		}
		rl := ruleByLocation(l, *p.LocationID)
		if rl == nil {
			// UNCERTAIN: not in ModifyRule's documented list; CLB's code for a missing rule.
			return errorf(codeLocationNotFound, "Listener %s has no forwarding rule `%s`.", l.ID, *p.LocationID)
		}
		if err := checkRuleExtras(l, p); err != nil {
			return err
		}
		url := rl.URL
		if p.URL != nil {
			var err error
			if url, err = checkRuleURL(l, rl, *p.URL); err != nil {
				return err
			}
		}
		ch, err := checkBalancingChange(&rl.balancing, l.Protocol, p.Scheduler, p.SessionExpireTime, p.HealthCheck)
		if err != nil {
			return err
		}
		c.startTaskLocked(r.RequestID, lb, r.Now, nil, func() {
			rl.URL = url
			ch.apply(&rl.balancing)
		})
		return nil
	})
}

// checkRuleExtras refuses the ModifyRule fields tcsim does not simulate, each with the reason.
func checkRuleExtras(l *listener, p *modifyRuleParams) error {
	switch {
	case p.TrpcCallee != nil || p.TrpcFunc != nil:
		return errorf(codeInvalidParameter, "TRPC forwarding is not open to the public (TrpcCallee, TrpcFunc).")
	case p.OAuth != nil:
		return errorf(codeInvalidParameter, "tcsim does not simulate OAuth on rules; leave OAuth out.")
	case p.CookieName != nil:
		return errorf(codeInvalidParameter, "tcsim does not simulate custom session cookies; leave CookieName out.")
	case p.ForwardType == nil || *p.ForwardType == protoHTTP:
		return nil
	case l.Protocol != protoHTTPS:
		// UNCERTAIN: CLB documents ForwardType as effective for HTTPS listeners only.
		return errorf(codeInvalidParameter, "ForwardType applies to rules of HTTPS listeners only.")
	}
	switch *p.ForwardType {
	case protoHTTPS, "GRPC", "GRPCS":
		return errorf(codeInvalidParameter, "tcsim forwards to targets over HTTP only; ForwardType %s is not simulated.", *p.ForwardType)
	case "TRPC":
		return errorf(codeInvalidParameter, "TRPC forwarding is not open to the public.")
	}
	return errorf(codeInvalidParameterValue, "ForwardType must be HTTP, HTTPS or GRPC.")
}

// checkRuleURL validates a new path for rl; a listener's rules stay unique by domain and path.
func checkRuleURL(l *listener, rl *rule, url string) (string, error) {
	switch {
	case url == "" || len(url) > maxRuleURLLength:
		return "", errorf(codeValueLength, "Url must be 1-%d characters.", maxRuleURLLength)
	case !strings.HasPrefix(url, "/") || strings.ContainsFunc(url, func(c rune) bool { return c <= ' ' || c >= 0x7f }):
		// UNCERTAIN: CLB also takes regular-expression paths ("~ ..."); tcsim matches plain prefixes.
		return "", errorf(codeInvalidParameterValue, "Url %q must start with / and hold printable ASCII without spaces.", url)
	}
	for _, other := range l.Rules {
		if other != rl && other.Domain == rl.Domain && other.URL == url {
			// UNCERTAIN: the code; Duplicate is CLB's code for a repeated value.
			return "", errorf(codeValueDuplicate, "Listener %s already has a rule for %s%s (%s).", l.ID, rl.Domain, url, other.LocationID)
		}
	}
	return url, nil
}
