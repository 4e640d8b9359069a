package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// renewFix is what to do about a served certificate that is expiring.
const renewFix = "renew it with certbot renew and let clbcert-deploy (its deploy hook, or clbcert-watch) replace it everywhere; for a lineage renewed already: clbcert-deploy --lineage /etc/letsencrypt/live/NAME --region REGION"

// checkCertDates judges the dates of every certificate a listener or SNI
// domain serves, every member of a dual binding, once per certificate with
// every place it is served.
func checkCertDates(f *facts) []Finding {
	served := map[string][]inventory.Binding{}
	var ids []string
	for _, b := range f.inv.Bindings() {
		for _, id := range b.Certificate.IDs() {
			if served[id] == nil {
				ids = append(ids, id)
			}
			served[id] = append(served[id], b)
		}
	}
	slices.Sort(ids)
	var out []Finding
	for _, id := range ids {
		bs := served[id]
		where := Where{Address: clb.Address{Region: bs[0].Region}, CertificateID: id}
		for _, b := range bs {
			where.Targets = append(where.Targets, b.String())
		}
		cert, ok := f.inv.Certificates[id]
		if !ok {
			if f.certsListed {
				out = append(out, Finding{Severity: Warning, Check: CheckCertDates, Where: where,
					Problem: "the certificate is not in this account's SSL service (deleted, or another account's): its dates cannot be checked",
					Fix:     "bind a certificate of this account: clbcert-deploy --lineage /etc/letsencrypt/live/NAME --region " + where.Region})
			}
			continue
		}
		if fd, ok := dateFinding(cert, f.now, f.rule); ok {
			fd.Where = where
			out = append(out, fd)
		}
	}
	return out
}

// dateFinding judges a certificate's validity period as of now, on its
// own dates.
func dateFinding(cert inventory.Certificate, now time.Time, rule level.Rule) (Finding, bool) {
	names := strings.Join(cert.Names, ", ")
	v := rule.Expiry(level.Cert{NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}, now)
	fd := Finding{Check: CheckCertDates, Fix: renewFix, Problem: fmt.Sprintf("the certificate for %s, valid until %s: %s", names, cert.NotAfter.UTC().Format(time.DateOnly), v.Reason)}
	switch {
	case v.Level == level.OK:
		return fd, false
	case v.Level == level.Warning:
		fd.Severity = Warning
	default:
		fd.Severity = Critical
	}
	if now.Before(cert.NotBefore) {
		fd.Fix = "check the clock of the machine that issued it, or bind the previous certificate again (clbcert rollback LINEAGE)"
	}
	return fd, true
}

// checkNames judges name coverage: an HTTPS listener without SNI serves
// its one certificate for every domain of its rules, so it must cover them
// all; with SNI, each domain's certificate must cover the domain.
func checkNames(f *facts) []Finding {
	var out []Finding
	for _, lb := range f.inv.LoadBalancers {
		for _, l := range lb.Listeners {
			if l.Protocol != "HTTPS" {
				continue
			}
			if l.SNI {
				out = append(out, sniFindings(f, lb, l)...)
			} else if fd, ok := sharedCertFinding(f, lb, l); ok {
				out = append(out, fd)
			}
		}
	}
	return out
}

// ruleDomains are the distinct domains of a listener's rules, in order.
func ruleDomains(l inventory.Listener) []string {
	var out []string
	for _, r := range l.Rules {
		if r.Domain != "" && !slices.Contains(out, r.Domain) {
			out = append(out, r.Domain)
		}
	}
	return out
}

func sharedCertFinding(f *facts, lb inventory.LoadBalancer, l inventory.Listener) (Finding, bool) {
	domains := ruleDomains(l)
	if l.Certificate == nil || len(domains) == 0 {
		return Finding{}, false
	}
	cert, ok := f.inv.Certificates[l.Certificate.ID]
	if !ok {
		return Finding{}, false
	}
	missing := lineage.Uncovered(cert.Names, domains)
	if len(missing) == 0 {
		return Finding{}, false
	}
	target := lb.At(l, nil)
	fd := Finding{Severity: Critical, Check: CheckNames, Where: listenerWhere(lb, l)}
	if len(domains) == 1 {
		fd.Problem = fmt.Sprintf("the listener's certificate %s (%s) does not cover its domain %s: clients get a name mismatch", cert.ID, strings.Join(cert.Names, ", "), domains[0])
		fd.Fix = fmt.Sprintf("bind a certificate covering %s: pin target %s in a [[deploy]] entry of the config file and run clbcert-deploy --lineage DIR", domains[0], target)
		return fd, true
	}
	fd.Problem = fmt.Sprintf("SNI is off, so all %d domains of the listener get its certificate %s (%s), which does not cover %s: those clients get a name mismatch",
		len(domains), cert.ID, strings.Join(cert.Names, ", "), strings.Join(missing, ", "))
	fd.Fix = fmt.Sprintf("turn SNI on for %s and give each domain its certificate (CLB cannot turn SNI off again), or bind one certificate covering %s",
		target, strings.Join(domains, ", "))
	return fd, true
}

func sniFindings(f *facts, lb inventory.LoadBalancer, l inventory.Listener) []Finding {
	var out []Finding
	for _, d := range ruleDomains(l) {
		// CLB refuses an SNI domain without a certificate.
		ref := l.CertificateFor(d)
		if ref == nil {
			continue
		}
		cert, ok := f.inv.Certificates[ref.ID]
		if !ok || lineage.Covers(cert.Names, d) {
			continue
		}
		where := listenerWhere(lb, l)
		where.Domain = d
		out = append(out, Finding{Severity: Critical, Check: CheckNames, Where: where,
			Problem: fmt.Sprintf("the domain's certificate %s (%s) does not cover %s: clients get a name mismatch", cert.ID, strings.Join(cert.Names, ", "), d),
			Fix:     fmt.Sprintf("bind a certificate covering %s to %s/%s/%s with clbcert-deploy (pin the target in a [[deploy]] entry)", d, lb.ID, l.ID, d)})
	}
	return out
}
