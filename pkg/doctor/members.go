package doctor

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	// binding is a test helper of this package.
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// memberKey identifies the handshake made for one member of a dual binding.
func memberKey(b inventory.Binding, certID string) string { return b.Key() + " " + certID }

// algorithmOf is a certificate's key algorithm as the SSL service names it; "" for a
// certificate the inventory does not have.
func algorithmOf(certs map[string]inventory.Certificate, id string) certbinding.Algorithm {
	return certbinding.Algorithm(strings.ToUpper(certs[id].Algorithm))
}

// dual reports whether b holds more than one server certificate.
func dual(b inventory.Binding) bool { return len(b.Certificate.IDs()) > 1 }

// memberName is how findings name a member: "the ECC member Abc12345".
func memberName(certs map[string]inventory.Certificate, id string) string {
	if alg := algorithmOf(certs, id); alg != "" {
		return fmt.Sprintf("the %s member %s", alg, id)
	}
	return "the member " + id
}

// checkDualMembers judges the members of each dual binding against each other: they
// should cover the same names (a client is served one or the other by the key
// algorithms it supports) and be renewed together. Each member is renewed by a lineage
// of its own, so members that end further apart than certbot's renewal period of the
// later one mean the other is not being renewed, before its dates alone say so.
func checkDualMembers(f *facts) []Finding {
	var out []Finding
	for _, b := range f.inv.Bindings() {
		if !dual(b) {
			continue
		}
		var members []inventory.Certificate
		for _, id := range b.Certificate.IDs() {
			if c, ok := f.inv.Certificates[id]; ok {
				members = append(members, c)
			}
		}
		if len(members) < 2 {
			continue
		}
		if fd, ok := memberNamesFinding(b, members, f.inv.Certificates); ok {
			out = append(out, fd)
		}
		out = append(out, memberDatesFindings(b, members, f.inv.Certificates)...)
	}
	return out
}

func memberNamesFinding(b inventory.Binding, members []inventory.Certificate, certs map[string]inventory.Certificate) (Finding, bool) {
	sorted := func(c inventory.Certificate) []string { return slices.Sorted(slices.Values(c.Names)) }
	first := sorted(members[0])
	differ := slices.ContainsFunc(members[1:], func(c inventory.Certificate) bool { return !slices.Equal(sorted(c), first) })
	if !differ {
		return Finding{}, false
	}
	var each []string
	for _, c := range members {
		each = append(each, fmt.Sprintf("%s covers %s", memberName(certs, c.ID), strings.Join(sorted(c), ", ")))
	}
	return Finding{Severity: Warning, Check: CheckDualMembers, Where: bindingWhere(b),
		Problem: "the members of this dual binding cover different names, so what a client gets depends on the key algorithms it supports: " + strings.Join(each, "; "),
		Fix:     "issue both lineages for the same names (certbot certonly --key-type rsa --cert-name NAME -d … and --key-type ecdsa --cert-name NAME-ecdsa with the same -d list), then deploy each: clbcert-deploy --lineage /etc/letsencrypt/live/NAME --region " + b.Region}, true
}

func memberDatesFindings(b inventory.Binding, members []inventory.Certificate, certs map[string]inventory.Certificate) []Finding {
	latest := slices.MaxFunc(members, func(x, y inventory.Certificate) int { return x.NotAfter.Compare(y.NotAfter) })
	period := level.Cert{NotBefore: latest.NotBefore, NotAfter: latest.NotAfter}.RenewalPeriod()
	var out []Finding
	for _, c := range members {
		apart := latest.NotAfter.Sub(c.NotAfter)
		if c.ID == latest.ID || apart <= period {
			continue
		}
		out = append(out, Finding{Severity: Warning, Check: CheckDualMembers, Where: bindingWhere(b),
			Problem: fmt.Sprintf("%s ends on %s, %s before %s (%s): further apart than certbot's renewal period of %s, so %s is not being renewed and will expire while the other is renewed",
				memberName(certs, c.ID), c.NotAfter.UTC().Format(time.DateOnly), level.Words(apart), memberName(certs, latest.ID), latest.NotAfter.UTC().Format(time.DateOnly), level.Words(period), c.ID),
			Fix: fmt.Sprintf("find the lineage of its key type for %s (certbot certificates; clbcert status shows which lineage each member serves), make certbot renew renew it with --deploy-hook clbcert-deploy, then run clbcert-deploy --lineage /etc/letsencrypt/live/NAME --region %s",
				strings.Join(c.Names, ", "), b.Region)})
	}
	return out
}

// checkClientCAs judges the client CA of every MUTUAL binding, once per CA with every
// place it is used. No certbot renews a CA, so it is judged by days left
// (level.Rule.Unrenewed); once it ends, no client certificate it issued is accepted.
func checkClientCAs(f *facts) []Finding {
	used := map[string][]inventory.Binding{}
	var ids []string
	for _, b := range f.inv.Bindings() {
		ref := b.Certificate
		if ref == nil || ref.SSLMode != certbinding.ModeMutual || ref.CAID == "" {
			continue
		}
		if used[ref.CAID] == nil {
			ids = append(ids, ref.CAID)
		}
		used[ref.CAID] = append(used[ref.CAID], b)
	}
	slices.Sort(ids)
	rule := f.rule.Unrenewed()
	var out []Finding
	for _, id := range ids {
		bs := used[id]
		where := Where{Address: clb.Address{Region: bs[0].Region}, CertificateID: id}
		required := false
		for _, b := range bs {
			where.Targets = append(where.Targets, b.String())
			required = required || b.Certificate.SSLVerifyClient != certbinding.VerifyOptional
		}
		fix := "issue a new client CA (or renew this one), give the clients certificates from it, upload it to the SSL service as a CA certificate and set it as the CA of " + strings.Join(where.Targets, ", ") + " in the CLB console; clbcert-deploy keeps a binding's CA on every renewal"
		ca, ok := f.inv.Certificates[id]
		if !ok {
			if f.certsListed {
				out = append(out, Finding{Severity: Warning, Check: CheckClientCA, Where: where,
					Problem: "the client CA of mutual TLS is not in this account's SSL service (deleted, or another account's): its dates cannot be checked", Fix: fix})
			}
			continue
		}
		v := rule.Expiry(level.Cert{NotBefore: ca.NotBefore, NotAfter: ca.NotAfter}, f.now)
		if v.Level == level.OK {
			continue
		}
		who := "clients with a certificate it issued are then treated as clients without one"
		if required {
			who = "SSLVerifyClient is ON, so every client is then refused"
		}
		sev := Critical
		if v.Level == level.Warning {
			sev = Warning
		}
		out = append(out, Finding{Severity: sev, Check: CheckClientCA, Where: where,
			Problem: fmt.Sprintf("the client CA of mutual TLS, valid until %s: %s; %s", ca.NotAfter.UTC().Format(time.DateOnly), v.Reason, who), Fix: fix})
	}
	return out
}

// memberProbed reports whether a member of b had a handshake of its own: not when every
// member is SM2, or of an algorithm the inventory does not know.
func memberProbed(f *facts, b inventory.Binding) bool {
	return slices.ContainsFunc(b.Certificate.IDs(), func(id string) bool {
		_, ok := f.members[memberKey(b, id)]
		return ok
	})
}

// servedMember is the member of b whose leaf is der, or else its first member the
// inventory has: a client is served any one member.
func servedMember(b inventory.Binding, der []byte, certs map[string]inventory.Certificate) (inventory.Certificate, bool) {
	var first *inventory.Certificate
	for _, id := range b.Certificate.IDs() {
		c, ok := certs[id]
		if !ok {
			continue
		}
		if same, _ := c.SameLeaf(der); same {
			return c, true
		}
		if first == nil {
			first = &c
		}
	}
	if first == nil {
		return inventory.Certificate{}, false
	}
	return *first, true
}

// memberJobs are the handshakes for each RSA or ECC member of a dual binding, each
// offering only that member's key algorithm (TLS 1.2 with its suites), as a client that
// supports only it would.
func memberJobs(b inventory.Binding, name string, certs map[string]inventory.Certificate) []probeJob {
	if !dual(b) {
		return nil
	}
	var out []probeJob
	for _, id := range b.Certificate.IDs() {
		if suites := algorithmOf(certs, id).CipherSuites(); suites != nil {
			out = append(out, probeJob{key: memberKey(b, id), addr: b.Addr, name: name, kind: memberProbe,
				minVer: tls.VersionTLS12, maxVer: tls.VersionTLS12, suites: suites})
		}
	}
	return out
}

// memberHandshakeFindings judges what each member's handshake got: that member's leaf,
// with a chain that links. A MUTUAL binding with SSLVerifyClient ON refuses these
// handshakes (they carry no client certificate) after the server's certificate, which is
// then all there is to judge.
func memberHandshakeFindings(f *facts, b inventory.Binding) []Finding {
	var out []Finding
	refuses := b.Certificate.SSLMode == certbinding.ModeMutual && b.Certificate.SSLVerifyClient != certbinding.VerifyOptional
	for _, id := range b.Certificate.IDs() {
		p, ok := f.members[memberKey(b, id)]
		if !ok || !p.Reached {
			continue
		}
		where := bindingWhere(b)
		alg := algorithmOf(f.inv.Certificates, id)
		if p.Err != nil && (!refuses || len(p.Chain) == 0) {
			out = append(out, Finding{Severity: Critical, Check: CheckHandshake, Where: where,
				Problem: fmt.Sprintf("a TLS handshake with %s offering only %s key exchange failed: %v; clients that support only %s cannot connect", p.Addr, alg, p.Err, alg),
				Fix:     "look at the listener's members and TLS settings (clbcert listeners --region " + b.Region + ")"})
			continue
		}
		if err := chainLinks(p.Chain); err != nil {
			out = append(out, Finding{Severity: Critical, Check: CheckServedChain, Where: where,
				Problem: fmt.Sprintf("the chain %s presents to %s clients does not link: %v; clients that do not fetch intermediates refuse it", p.Addr, alg, err),
				Fix:     "upload the certificate again with its whole chain, leaf first (certbot's fullchain.pem): clbcert-deploy --lineage DIR --region " + b.Region})
		}
		cert := f.inv.Certificates[id]
		leaf := p.Chain[0]
		if same, known := cert.SameLeaf(leaf.Raw); known && !same {
			out = append(out, Finding{Severity: Critical, Check: CheckHandshake, Where: where,
				Problem: fmt.Sprintf("%s serves %s clients a certificate for %s (sha256 %s), not %s (%s)",
					p.Addr, alg, strings.Join(leaf.DNSNames, ", "), short(lineage.Fingerprint(leaf.Raw)), memberName(f.inv.Certificates, id), strings.Join(cert.Names, ", ")),
				Fix: "if a change is under way, run clbcert doctor again in a minute; else find what answers on " + p.Addr + " instead of the listener"})
		}
	}
	return out
}
