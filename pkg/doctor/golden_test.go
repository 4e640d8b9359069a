package doctor

import (
	"testing"

	"github.com/clbcert/clbcert/internal/golden"
	"github.com/clbcert/clbcert/pkg/clb"
)

// TestFindingsJSONGolden pins `clbcert doctor --json`: scripts read it.
func TestFindingsJSONGolden(t *testing.T) {
	fs := []Finding{
		{Severity: Critical, Check: CheckBackends, Where: Where{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1", LocationID: "loc-1", Domain: "www.example.com"}, Protocol: "HTTPS", Port: 443, URL: "/api"}, Problem: "no backend", Fix: "add one"},
		{Severity: Warning, Check: CheckTLSProtocols, Where: Where{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1"}}, Problem: "TLSv1 on", Fix: "clbcert tune", Safe: true},
		{Severity: Warning, Check: CheckCertDates, Where: Where{CertificateID: "Old1", Targets: []string{"lb-gz1/lbl-https1"}}, Problem: "expires", Fix: "renew"},
		{Severity: Critical, Check: CheckLineage, Where: Where{Lineage: "/etc/letsencrypt/live/example.com"}, Problem: "broken", Fix: "certbot renew"},
	}
	golden.JSON(t, "findings.json", fs)
}
