package status_test

import (
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/golden"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/status"
)

// TestReportJSONGolden pins `clbcert status --json`: monitoring scripts read it.
func TestReportJSONGolden(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	listener := status.Place{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1", Domain: "www.example.com"}, Protocol: "HTTPS", Port: 443,
		Target: "lb-gz1/lbl-https1/www.example.com", CertID: "New1", CertNames: []string{"www.example.com"}, CertNotAfter: at, Algorithm: "RSA", Members: []string{"New1", "Ecc1"}}
	cdn := status.Place{Address: clb.Address{Domain: "cdn.example.com"}, Product: "cdn", Target: "cdn cdn.example.com", CertID: "New1", CertNames: []string{"cdn.example.com"}, CertNotAfter: at}
	rep := status.Report{CheckedAt: at, CertbotDir: "/etc/letsencrypt", WarnDays: 30, CriticalDays: 7, Regions: []string{"ap-guangzhou"},
		Lineages: []status.LineageState{{Name: "example.com", Dir: "/etc/letsencrypt/live/example.com", Status: status.OK, Reasons: []string{},
			Names: []string{"www.example.com"}, NotBefore: at, NotAfter: at, DaysLeft: 60, RenewalDue: at, Written: at, Reason: "fine",
			Served: []status.Place{listener, cdn}, Drift: []status.Place{listener}}},
		Failures: []inventory.Failure{{Region: "ap-guangzhou", LoadBalancerID: "lb-gz9", Error: "denied"}}}
	golden.JSON(t, "report.json", rep)
}
