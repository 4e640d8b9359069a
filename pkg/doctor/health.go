package doctor

import (
	"fmt"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/plural"
)

// The health check doctor calls sane. They are in one place so that the
// findings, the fixes and the help text agree.
const (
	// MaxInterval is the longest sane IntervalTime, in seconds. A dead
	// backend leaves rotation after UnhealthyThreshold failed checks, so
	// about MaxInterval × UnhealthyThreshold = 90 s after it died (plus
	// the timeouts); a longer interval keeps clients on a dead backend for
	// minutes. Shorter is fine down to CLB's minimum (CLB's default is 5).
	MaxInterval = 30
	// MaxTimeout is the longest sane TimeOut, in seconds. A backend that
	// needs longer to answer its health path is down for its users too;
	// CLB also requires TimeOut below IntervalTime.
	MaxTimeout = 10
	// minTimeout is CLB's smallest TimeOut.
	minTimeout = 2
	// UnhealthyThreshold is UnHealthNum: one lost packet or a pause does
	// not take a backend out, three failures in a row do.
	UnhealthyThreshold = 3
	// HealthyThreshold is HealthNum: back in rotation after two good
	// answers — quick, but not on one fluke.
	HealthyThreshold = 2
	// HealthyHTTPCodes is the HttpCode doctor advises: 2xx and 3xx answers
	// are healthy (bits 2 and 4). CLB's default, 31, counts every answer,
	// 4xx and 5xx too, as healthy: only a refused connection or a timeout
	// takes a backend out. Never set automatically: a backend that answers
	// its check path with 404 would be taken out of rotation.
	HealthyHTTPCodes = 6
	httpCode4xx      = 8
	httpCode5xx      = 16
	// HealthPath is the path doctor advises HTTP checks to ask for: an
	// endpoint that answers 200 only while the application works. "/" is
	// often served by a proxy or a static page that stays up when the
	// application is down. Never set automatically: a backend that does
	// not serve it would be taken out of rotation.
	HealthPath = "/healthz"
)

// checkHealthChecks looks at the health check of every rule of an HTTP or
// HTTPS listener and of every other listener.
func checkHealthChecks(f *facts) []Finding {
	var out []Finding
	for _, u := range f.units() {
		out = append(out, healthCheckFindings(u)...)
	}
	return out
}

// healthCheckFindings judges one health check. A check that is off is
// judged on its other settings too: they are what it runs with once on.
func healthCheckFindings(u unit) []Finding {
	h := u.health()
	if h == nil {
		return nil
	}
	where := u.where()
	var out []Finding
	safe := func(sev Severity, problem string, c change) {
		c.Target = u.address()
		out = append(out, Finding{Severity: sev, Check: CheckHealthCheck, Where: where, Problem: problem, Fix: tuneCommand(c), Safe: true, change: &c})
	}
	if !h.On {
		safe(Warning, "the health check is off: CLB keeps sending requests to a backend that is down", change{HealthOn: true})
	}
	kind, asks := requestCheck(u, h)
	if asks && (h.HTTPCheckPath == "" || h.HTTPCheckPath == "/") {
		out = append(out, Finding{
			Severity: Warning, Check: CheckHealthCheck, Where: where,
			Problem: fmt.Sprintf("the %s health check asks for %q, which often answers while the application is down", kind, "/"),
			Fix: fmt.Sprintf("make the backends answer %s with 200 only while the application works, then run: %s",
				HealthPath, tuneCommand(change{Target: u.address(), HealthPath: HealthPath})),
		})
	}
	if asks && h.HTTPCode&(httpCode4xx|httpCode5xx) != 0 {
		out = append(out, Finding{
			Severity: Warning, Check: CheckHealthCheck, Where: where,
			Problem: fmt.Sprintf("the %s health check counts %s answers as healthy (HttpCode %d), so a backend that answers errors stays in rotation", kind, errorClasses(h.HTTPCode), h.HTTPCode),
			Fix: fmt.Sprintf("make sure the backends answer the check path with 2xx or 3xx, then run: %s",
				tuneCommand(change{Target: u.address(), HTTPCodes: HealthyHTTPCodes})),
		})
	}
	interval := h.IntervalTime
	if interval > MaxInterval {
		interval = MaxInterval
		safe(Warning, fmt.Sprintf("the health check runs every %d s: a dead backend stays in rotation for about %d s (at most %d s is sane)",
			h.IntervalTime, h.IntervalTime*max(h.UnHealthNum, 1), MaxInterval), change{Interval: MaxInterval})
	}
	// A field CLB left out is zero: nothing to judge.
	if h.TimeOut > 0 && h.IntervalTime > 0 && (h.TimeOut >= h.IntervalTime || h.TimeOut > MaxTimeout) {
		safe(Warning, fmt.Sprintf("the health check waits %d s for an answer (interval %d s): at most %d s and below the interval is sane",
			h.TimeOut, h.IntervalTime, MaxTimeout), change{Timeout: saneTimeout(interval)})
	}
	if h.UnHealthNum > 0 && h.HealthNum > 0 && (h.UnHealthNum != UnhealthyThreshold || h.HealthNum != HealthyThreshold) {
		safe(Info, fmt.Sprintf("the health check takes a backend out after %s and back after %s; %d and %d are the usual balance",
			plural.Of(int(h.UnHealthNum), "failure"), plural.Of(int(h.HealthNum), "success"), UnhealthyThreshold, HealthyThreshold), change{UnhealthyNum: UnhealthyThreshold, HealthyNum: HealthyThreshold})
	}
	return out
}

// saneTimeout is the timeout a fix sets with interval: MaxTimeout, or less
// to stay below the interval, but not below CLB's minimum.
func saneTimeout(interval int64) int64 {
	return max(minTimeout, min(MaxTimeout, interval-1))
}

// requestCheck reports whether the check sends an HTTP request to a path,
// and which kind: HTTP, or HTTPS (the same request over TLS). A rule whose
// type CLB left out checks by HTTP, as layer-7 rules do unless set
// otherwise. The advice for both is the same tune command: tune sets the
// path and codes of either and keeps the type.
func requestCheck(u unit, h *inventory.HealthCheck) (kind string, asks bool) {
	switch {
	case h.AsksForPath():
		return h.CheckType, true
	case h.CheckType == "" && u.rule != nil:
		return "HTTP", true
	}
	return "", false
}

// errorClasses names the error classes an HttpCode mask counts as healthy.
func errorClasses(mask int64) string {
	switch {
	case mask&httpCode4xx != 0 && mask&httpCode5xx != 0:
		return "4xx and 5xx"
	case mask&httpCode4xx != 0:
		return "4xx"
	}
	return "5xx"
}
