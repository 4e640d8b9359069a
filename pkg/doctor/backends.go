package doctor

import (
	"fmt"
	"strings"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/plural"
)

// checkBackends judges the backends of every rule and layer-4 listener as
// DescribeTargetHealth reports them: none at all, dead ones, or only dead
// ones. Targets still being checked (Unknown) or under a switched-off
// check (Close) are not judged; the health check finding covers the
// latter.
func checkBackends(f *facts) []Finding {
	var out []Finding
	for _, u := range f.units() {
		if !f.healthRead[u.lb.ID] {
			continue
		}
		out = append(out, backendFindings(u, f.targets[u.address().Key()])...)
	}
	return out
}

func backendFindings(u unit, targets []inventory.TargetHealth) []Finding {
	where := u.where()
	if len(targets) == 0 {
		return []Finding{{Severity: Warning, Check: CheckBackends, Where: where,
			Problem: "no backends are registered: requests here get an error",
			Fix:     "register the backends (RegisterTargets, or the CLB console), or delete the unused " + ruleOrListener(u)}}
	}
	var dead []string
	for _, t := range targets {
		if t.Status == inventory.HealthDead {
			dead = append(dead, t.Addr())
		}
	}
	check := describeCheck(u.health())
	switch {
	case len(dead) == 0:
		return nil
	case len(dead) == len(targets):
		return []Finding{{Severity: Critical, Check: CheckBackends, Where: where,
			Problem: fmt.Sprintf("every backend fails its health check (%s): %s; requests here get an error", check, strings.Join(dead, ", ")),
			Fix:     "repair the backends: " + probeAdvice(u.health(), dead[0])}}
	}
	var out []Finding
	for _, addr := range dead {
		out = append(out, Finding{Severity: Critical, Check: CheckBackends, Where: where,
			Problem: fmt.Sprintf("backend %s fails its health check (%s) and gets no traffic; %d of %s left", addr, check, len(targets)-len(dead), plural.Of(len(targets), "backend")),
			Fix:     "repair it or deregister it: " + probeAdvice(u.health(), addr)})
	}
	return out
}

func ruleOrListener(u unit) string {
	if u.rule != nil {
		return "rule"
	}
	return "listener"
}

// describeCheck says what the health check asks, e.g. "HTTP HEAD /healthz".
func describeCheck(h *inventory.HealthCheck) string {
	if h == nil {
		return "CLB's default"
	}
	if h.CheckType == "HTTP" || h.CheckType == "HTTPS" {
		method := h.HTTPCheckMethod
		if method == "" {
			method = "HEAD"
		}
		path := h.HTTPCheckPath
		if path == "" {
			path = "/"
		}
		return fmt.Sprintf("%s %s %s", h.CheckType, strings.ToUpper(method), path)
	}
	if h.CheckType == "" {
		return "TCP connect"
	}
	return h.CheckType
}

// probeAdvice is how to see, from inside the VPC, what the check sees.
func probeAdvice(h *inventory.HealthCheck, addr string) string {
	if h != nil && (h.CheckType == "HTTP" || h.CheckType == "HTTPS") {
		path := h.HTTPCheckPath
		if path == "" {
			path = "/"
		}
		return fmt.Sprintf("curl -i %s://%s%s from the load balancer's VPC must answer with a status the check accepts", strings.ToLower(h.CheckType), addr, path)
	}
	return fmt.Sprintf("the service on %s must accept connections from the load balancer's VPC", addr)
}
