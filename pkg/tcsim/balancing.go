package tcsim

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
)

// CLB's documented defaults and ranges for schedulers, health checks and targets
// (docs/tencentcloud-api.md §3, CreateListener's HealthCheck).
const (
	schedWRR       = "WRR"
	schedLeastConn = "LEAST_CONN"
	schedIPHash    = "IP_HASH"

	defaultHealthTimeOut  = 2
	defaultHealthInterval = 5
	defaultHealthNum      = 3
	defaultHTTPCode       = 31
	defaultTargetWeight   = 10
	maxTargetWeight       = 100

	checkTCP   = "TCP"
	checkHTTP  = "HTTP"
	checkHTTPS = "HTTPS"
)

// asksForPath reports whether a check of this type sends an HTTP request, and so has a path,
// domain, method and status codes: HTTP checks and HTTPS ones (the same request over TLS).
func asksForPath(checkType string) bool { return checkType == checkHTTP || checkType == checkHTTPS }

func validScheduler(s string) bool {
	return s == schedWRR || s == schedLeastConn || s == schedIPHash
}

// defaultHealth is the check CLB gives a listener or rule created without one.
func defaultHealth(layer7 bool) healthCheck {
	h := healthCheck{
		On: true, TimeOut: defaultHealthTimeOut, Interval: defaultHealthInterval,
		HealthNum: defaultHealthNum, UnHealthNum: defaultHealthNum, CheckType: checkTCP,
	}
	if layer7 {
		h.HTTPCode, h.Path, h.Method, h.CheckType = defaultHTTPCode, "/", "HEAD", checkHTTP
	}
	return h
}

// check applies CLB's documented ranges; the message says which field is wrong and why.
func (h healthCheck) check() error {
	switch {
	case h.TimeOut < 2 || h.TimeOut > 60:
		return fmt.Errorf("HealthCheck.TimeOut %d is outside 2-60", h.TimeOut)
	case h.Interval < 2 || h.Interval > 300:
		return fmt.Errorf("HealthCheck.IntervalTime %d is outside 2-300", h.Interval)
	case h.TimeOut >= h.Interval:
		return fmt.Errorf("HealthCheck.TimeOut %d must be less than IntervalTime %d", h.TimeOut, h.Interval)
	case h.HealthNum < 2 || h.HealthNum > 10:
		return fmt.Errorf("HealthCheck.HealthNum %d is outside 2-10", h.HealthNum)
	case h.UnHealthNum < 2 || h.UnHealthNum > 10:
		return fmt.Errorf("HealthCheck.UnHealthNum %d is outside 2-10", h.UnHealthNum)
	case h.CheckType != checkTCP && !asksForPath(h.CheckType):
		return fmt.Errorf("HealthCheck.CheckType %q is not TCP, HTTP or HTTPS (the ones tcsim simulates)", h.CheckType)
	case h.CheckType == checkTCP:
		return nil
	case h.HTTPCode < 1 || h.HTTPCode > 31:
		return fmt.Errorf("HealthCheck.HttpCode %d is outside 1-31", h.HTTPCode)
	case !strings.HasPrefix(h.Path, "/"):
		return fmt.Errorf("HealthCheck.HttpCheckPath %q must start with /", h.Path)
	case h.Method != "HEAD" && h.Method != "GET":
		return fmt.Errorf("HealthCheck.HttpCheckMethod %q is not HEAD or GET", h.Method)
	}
	return nil
}

// healthFromSpec overlays s on CLB's defaults.
func healthFromSpec(s *HealthCheckSpec, layer7 bool) healthCheck {
	h := defaultHealth(layer7)
	if s == nil {
		return h
	}
	h.On = !s.Off
	setIf(&h.TimeOut, s.TimeOut)
	setIf(&h.Interval, s.IntervalTime)
	setIf(&h.HealthNum, s.HealthNum)
	setIf(&h.UnHealthNum, s.UnHealthNum)
	setIf(&h.HTTPCode, s.HTTPCode)
	setIf(&h.Path, s.HTTPCheckPath)
	setIf(&h.Domain, s.HTTPCheckDomain)
	setIf(&h.Method, s.HTTPCheckMethod)
	setIf(&h.CheckType, s.CheckType)
	if asksForPath(h.CheckType) && !layer7 {
		h = h.withHTTPDefaults()
	}
	return h
}

// withHTTPDefaults fills what h leaves out from the layer-7 defaults: an HTTP check on a
// layer-4 listener starts from them.
func (h healthCheck) withHTTPDefaults() healthCheck {
	d := defaultHealth(true)
	h.Path, h.Method, h.HTTPCode = cmp.Or(h.Path, d.Path), cmp.Or(h.Method, d.Method), cmp.Or(h.HTTPCode, d.HTTPCode)
	return h
}

func setIf[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

// checkBalancingSpec validates a listener's or rule's balancing against the backends the
// topology defines; protocol is the listener's.
func checkBalancingSpec(b BalancingSpec, protocol string, backends map[string]bool) error {
	layer7 := isLayer7(protocol)
	if b.Scheduler != "" && !validScheduler(b.Scheduler) {
		return fmt.Errorf("scheduler %q is not WRR, LEAST_CONN or IP_HASH", b.Scheduler)
	}
	maxExpire := maxL4SessionExpire
	if layer7 {
		maxExpire = maxL7SessionExpire
	}
	if b.SessionExpireTime != 0 && (b.SessionExpireTime < 30 || b.SessionExpireTime > maxExpire) {
		return fmt.Errorf("sessionExpireTime %d is not 0 (off) or 30-%d", b.SessionExpireTime, maxExpire)
	}
	if b.SessionExpireTime != 0 && b.Scheduler == schedLeastConn {
		return fmt.Errorf("sessionExpireTime needs scheduler WRR or IP_HASH; CLB refuses it with LEAST_CONN")
	}
	h := healthFromSpec(b.HealthCheck, layer7)
	if err := h.check(); err != nil {
		return fmt.Errorf("healthCheck: %w", err)
	}
	// The SDK's CheckType comment: HTTP rules check by HTTP or GRPC, HTTPS rules by HTTP,
	// HTTPS or GRPC, and no layer-4 listener has HTTPS.
	if h.CheckType == checkHTTPS && protocol != protoHTTPS {
		return fmt.Errorf("healthCheck: CheckType HTTPS is for rules of HTTPS listeners, not %s ones: use HTTP", protocol)
	}
	seen := map[string]bool{}
	for i, t := range b.Targets {
		key := t.Backend
		switch {
		case t.Backend != "" && (t.IP != "" || t.Port != 0):
			return fmt.Errorf("target %d: give backend or ip and port, not both", i)
		case t.Backend != "" && !backends[t.Backend]:
			return fmt.Errorf("target %d: backend %q is not in the topology's backends", i, t.Backend)
		case t.Backend == "":
			if ip := net.ParseIP(t.IP); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("target %d: ip %q is not a loopback IP", i, t.IP)
			}
			if t.Port < 1 || t.Port > 65535 {
				return fmt.Errorf("target %d: port %d is out of range", i, t.Port)
			}
			key = net.JoinHostPort(net.ParseIP(t.IP).String(), fmt.Sprint(t.Port))
		}
		if t.Weight != nil && (*t.Weight < 0 || *t.Weight > maxTargetWeight) {
			return fmt.Errorf("target %d: weight %d is outside 0-%d", i, *t.Weight, maxTargetWeight)
		}
		if seen[key] {
			return fmt.Errorf("target %d: %s is registered twice", i, key)
		}
		seen[key] = true
	}
	return nil
}

// balancingFromSpec builds a checked spec's balancing; backends maps a backend id to the
// address its server listens on.
func balancingFromSpec(b BalancingSpec, layer7 bool, backends map[string]*net.TCPAddr) balancing {
	out := balancing{Scheduler: cmp.Or(b.Scheduler, schedWRR), SessionExpire: b.SessionExpireTime, Health: healthFromSpec(b.HealthCheck, layer7)}
	for _, t := range b.Targets {
		tg := &target{IP: net.ParseIP(t.IP).String(), Port: t.Port, Weight: defaultTargetWeight}
		if t.Backend != "" {
			addr := backends[t.Backend]
			tg.IP, tg.Port = addr.IP.String(), addr.Port
		}
		if t.Weight != nil {
			tg.Weight = *t.Weight
		}
		tg.Health = initialHealth(out.Health)
		out.Targets = append(out.Targets, tg)
	}
	return out
}

// initialHealth is a new target's state: unknown until checked, or Close without checks.
func initialHealth(h healthCheck) string {
	if !h.On {
		return healthClose
	}
	return healthUnknown
}

// customConfigKeys are the directives CLB's layer-7 customized configuration accepts
// (doc 214/15171). UNCERTAIN: the list changes over time; these are the documented ones.
var customConfigKeys = []string{
	"ssl_protocols", "ssl_ciphers", "client_header_timeout", "client_header_buffer_size",
	"client_body_timeout", "client_max_body_size", "keepalive_timeout", "keepalive_requests",
	"add_header", "more_set_headers", "proxy_connect_timeout", "proxy_read_timeout",
	"proxy_send_timeout", "proxy_buffer_size", "proxy_buffers", "proxy_busy_buffers_size",
	"proxy_request_buffering", "proxy_set_header", "proxy_redirect", "send_timeout",
	"server_tokens", "ssl_verify_depth", "large_client_header_buffers", "http2_max_field_size",
	"http2_max_header_size",
}

// sslProtocolNames maps ssl_protocols' values to Go's TLS versions.
var sslProtocolNames = map[string]uint16{
	"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

// defaultSSLProtocols is what a layer-7 listener allows without ssl_protocols.
var defaultSSLProtocols = []string{"TLSv1", "TLSv1.1", "TLSv1.2"}

// parseCustomConfig reads nginx-style "directive value...;" statements and checks the
// directives CLB allows and the values of ssl_protocols.
func parseCustomConfig(content string) (map[string][]string, error) {
	out := map[string][]string{}
	stmts := strings.Split(content, ";")
	if strings.TrimSpace(stmts[len(stmts)-1]) != "" {
		return nil, fmt.Errorf("statement %q does not end with ;", strings.TrimSpace(stmts[len(stmts)-1]))
	}
	for _, stmt := range stmts[:len(stmts)-1] {
		fields := strings.Fields(stmt)
		if len(fields) == 0 {
			continue
		}
		key := fields[0]
		if !slices.Contains(customConfigKeys, key) {
			return nil, fmt.Errorf("directive %q is not allowed in a customized configuration", key)
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("directive %s has no value", key)
		}
		if _, dup := out[key]; dup && key != "add_header" && key != "more_set_headers" && key != "proxy_set_header" {
			return nil, fmt.Errorf("directive %s appears twice", key)
		}
		if key == "ssl_protocols" {
			for _, v := range fields[1:] {
				if _, ok := sslProtocolNames[v]; !ok {
					return nil, fmt.Errorf("ssl_protocols value %q is not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", v)
				}
			}
		}
		out[key] = append(out[key], fields[1:]...)
	}
	return out, nil
}

// sslProtocolsLocked is what lb's HTTPS listeners allow: its customized configuration's
// ssl_protocols, else CLB's default.
func (c *cloud) sslProtocolsLocked(lb *loadBalancer) []string {
	if cfg := c.configs[lb.ConfigID]; cfg != nil {
		// Stored configurations were checked when set.
		if parsed, err := parseCustomConfig(cfg.Content); err == nil && len(parsed["ssl_protocols"]) > 0 {
			return parsed["ssl_protocols"]
		}
	}
	return defaultSSLProtocols
}

// tlsVersions is the range of TLS versions protocols allow. Go cannot allow a set with a
// hole (TLSv1 and TLSv1.2 without TLSv1.1), so such a set is served as its whole range.
func tlsVersions(protocols []string) (minVersion, maxVersion uint16) {
	for _, p := range protocols {
		v := sslProtocolNames[p]
		if minVersion == 0 || v < minVersion {
			minVersion = v
		}
		maxVersion = max(maxVersion, v)
	}
	return minVersion, maxVersion
}
