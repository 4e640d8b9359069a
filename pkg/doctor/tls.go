package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// SafeTLSProtocols is what --fix sets as a load balancer's ssl_protocols:
// every browser of the last decade speaks TLS 1.2, and TLS 1.0 and 1.1
// are deprecated (RFC 8996).
func SafeTLSProtocols() []string { return []string{"TLSv1.2", "TLSv1.3"} }

// unreachableFix is the advice for a listener this host cannot connect to.
const unreachableFix = "run clbcert doctor from a host that reaches the load balancer (inside its VPC for a private one)"

func bindingWhere(b inventory.Binding) Where {
	return Where{Address: b.Address, Protocol: b.Protocol, Port: b.Port}
}

// checkHandshakes judges what each listener and SNI domain presents in a
// TLS handshake: the bound certificate (by fingerprint), with a chain that
// links. A completed handshake proves the listener has the leaf's key.
func checkHandshakes(f *facts) []Finding {
	var out []Finding
	for _, b := range f.inv.Bindings() {
		p, ok := f.probes[b.Key()]
		if !ok {
			continue
		}
		// Each member of a dual binding is judged by a handshake of its own,
		// once the binding answers at all.
		if dual(b) && p.Reached && p.Err == nil && memberProbed(f, b) {
			out = append(out, memberHandshakeFindings(f, b)...)
			continue
		}
		out = append(out, handshakeFindings(b, p, f.inv.Certificates)...)
	}
	return out
}

func handshakeFindings(b inventory.Binding, p probe, certs map[string]inventory.Certificate) []Finding {
	where := bindingWhere(b)
	asked := ""
	if p.ServerName != "" {
		asked = " asking for " + p.ServerName
	}
	switch {
	case !p.Reached:
		return []Finding{{Severity: Info, Check: CheckHandshake, Where: where,
			Problem: fmt.Sprintf("could not check from this host what %s serves: %v", p.Addr, p.Err), Fix: unreachableFix}}
	case p.Err != nil:
		return []Finding{{Severity: Critical, Check: CheckHandshake, Where: where,
			Problem: fmt.Sprintf("a TLS handshake with %s%s failed: %v", p.Addr, asked, p.Err),
			Fix:     "look at the listener's certificate and TLS settings (clbcert listeners --region " + b.Region + "), and at what else answers on " + p.Addr}}
	}
	var out []Finding
	if err := chainLinks(p.Chain); err != nil {
		out = append(out, Finding{Severity: Critical, Check: CheckServedChain, Where: where,
			Problem: fmt.Sprintf("the chain %s presents%s does not link: %v; clients that do not fetch intermediates refuse it", p.Addr, asked, err),
			Fix:     "upload the certificate again with its whole chain, leaf first (certbot's fullchain.pem): clbcert-deploy --lineage DIR --region " + b.Region})
	}
	leaf := p.Chain[0]
	cert, ok := servedMember(b, leaf.Raw, certs)
	if !ok {
		return out
	}
	same, known := cert.SameLeaf(leaf.Raw)
	switch {
	case !known:
		out = append(out, Finding{Severity: Info, Check: CheckHandshake, Where: where,
			Problem: fmt.Sprintf("the bound certificate %s's fingerprint could not be read, so what %s serves was not compared with it", cert.ID, p.Addr),
			Fix:     "run clbcert doctor again; if it persists, see the parts of the cloud that could not be read"})
	case !same:
		out = append(out, Finding{Severity: Critical, Check: CheckHandshake, Where: where,
			Problem: fmt.Sprintf("%s%s serves a certificate for %s (sha256 %s), not the bound certificate %s (%s)",
				p.Addr, asked, strings.Join(leaf.DNSNames, ", "), short(lineage.Fingerprint(leaf.Raw)), cert.ID, strings.Join(cert.Names, ", ")),
			Fix: "if a change is under way, run clbcert doctor again in a minute; else find what answers on " + p.Addr + " instead of the listener (DNS, a proxy in front, another load balancer with this address)"})
	}
	return out
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12] + "…"
	}
	return fp
}

// lbConfig is what a load balancer's customized configuration says about
// TLS versions.
type lbConfig struct {
	configID string // "" without a configuration
	shared   []string
	// protocols is its ssl_protocols, or CLB's default; configured tells
	// which.
	protocols  []string
	configured bool
}

// checkTLSProtocols judges, per load balancer with HTTPS listeners, the TLS
// versions they allow: from the customized configuration's ssl_protocols,
// and where a listener is reachable from a real handshake offering at most
// TLS 1.1, which must fail. TCP_SSL listeners are left out: the
// configuration does not apply to them and CLB has no other setting for
// their versions, so a finding could not be acted on.
func checkTLSProtocols(f *facts) []Finding {
	var out []Finding
	for _, lb := range f.inv.LoadBalancers {
		var https []inventory.Listener
		for _, l := range lb.Listeners {
			if l.Protocol == "HTTPS" {
				https = append(https, l)
			}
		}
		if len(https) == 0 {
			continue
		}
		if fd, ok := tlsProtocolFinding(lb, https, f.configs, f.legacy); ok {
			out = append(out, fd)
		}
	}
	return out
}

func tlsProtocolFinding(lb inventory.LoadBalancer, https []inventory.Listener, configs map[string]lbConfig, legacy map[string]probe) (Finding, bool) {
	where := Where{Address: lb.Address()}
	cfg, read := configs[lb.ID]
	var old []string
	if read {
		old = slices.DeleteFunc(slices.Clone(cfg.protocols), func(p string) bool { return p == "TLSv1.2" || p == "TLSv1.3" })
	}
	var accepted []string
	reached := false
	for _, l := range https {
		p, ok := legacy[lb.At(l, nil).Key()]
		if !ok {
			continue
		}
		reached = reached || p.Reached
		if p.Err == nil {
			accepted = append(accepted, fmt.Sprintf("%s accepted %s", p.Addr, versionName(p.Version)))
		}
	}
	if len(old) == 0 && len(accepted) == 0 {
		if !read && !reached {
			return Finding{Severity: Info, Check: CheckTLSProtocols, Where: where,
				Problem: "the TLS versions of the HTTPS listeners could not be checked: the customized configuration could not be read and no listener was reachable",
				Fix:     unreachableFix}, true
		}
		return Finding{}, false
	}
	var why []string
	switch {
	case read && !cfg.configured && cfg.configID == "":
		why = append(why, fmt.Sprintf("no customized configuration sets ssl_protocols, so CLB's default %s applies", strings.Join(cfg.protocols, " ")))
	case read && !cfg.configured:
		why = append(why, fmt.Sprintf("customized configuration %s has no ssl_protocols, so CLB's default %s applies", cfg.configID, strings.Join(cfg.protocols, " ")))
	case len(old) > 0:
		why = append(why, fmt.Sprintf("customized configuration %s sets ssl_protocols %s", cfg.configID, strings.Join(cfg.protocols, " ")))
	}
	if len(accepted) > 0 {
		why = append(why, "a handshake offering at most TLS 1.1: "+strings.Join(accepted, ", "))
	}
	c := change{Target: lb.Address(), TLSProtocols: SafeTLSProtocols()}
	fix := tuneCommand(c)
	if others := slices.DeleteFunc(slices.Clone(cfg.shared), func(id string) bool { return id == lb.ID }); len(others) > 0 {
		fix += fmt.Sprintf(" (its configuration %s is shared with %s: tune gives %s a copy of its own and leaves theirs as they are)", cfg.configID, strings.Join(others, ", "), lb.ID)
	}
	return Finding{Severity: Warning, Check: CheckTLSProtocols, Where: where,
		Problem: "HTTPS listeners allow TLS below 1.2: " + strings.Join(why, "; "),
		Fix:     fix, Safe: true, change: &c}, true
}
