package doctor

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Each member of a dual binding gets a handshake offering only its key algorithm, which
// returns its leaf, also on MUTUAL + ON, which refuses the handshake (no client
// certificate) after presenting its certificate. Members whose certificates are swapped in
// the inventory are each reported.
func TestMemberHandshakes(t *testing.T) {
	until := time.Now().AddDate(0, 2, 0)
	ca := simtest.HandUploadedKeyUntil(t, "CaSource", certbinding.ECC, until, "ca.example.test")
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploadedKeyUntil(t, "RsaCrt01", certbinding.RSA, until, "example.test"),
			simtest.HandUploadedKeyUntil(t, "EccCrt01", certbinding.ECC, until, "example.test"),
			{ID: "ClientCA", CertPEM: ca.CertPEM[strings.LastIndex(ca.CertPEM, "-----BEGIN CERTIFICATE-----"):], Type: "CA"},
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-probe001", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-on000001", Protocol: "TCP_SSL", CertID: "RsaCrt01", ExtCertIDs: []string{"EccCrt01"}, SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "ON"},
			{ID: "lbl-opt00001", Protocol: "TCP_SSL", CertID: "EccCrt01", ExtCertIDs: []string{"RsaCrt01"}, SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL"},
			{ID: "lbl-one00001", Protocol: "TCP_SSL", CertID: "EccCrt01"},
		}}}},
	})
	inv := collect(t, sim)
	f := &facts{inv: inv, members: map[string]probe{}}
	for _, b := range inv.Bindings() {
		jobs := memberJobs(b, "example.test", inv.Certificates)
		if want := map[bool]int{true: 2, false: 0}[dual(b)]; len(jobs) != want {
			t.Fatalf("%s: %d member handshakes, want %d", b, len(jobs), want)
		}
		for _, j := range jobs {
			f.members[j.key] = testProber().handshake(context.Background(), j.addr, j.name, j.minVer, j.maxVer, j.suites)
		}
	}
	for _, target := range []string{"lb-probe001/lbl-on000001", "lb-probe001/lbl-opt00001"} {
		b := binding(t, inv, target)
		if got := memberHandshakeFindings(f, b); len(got) != 0 {
			t.Errorf("%s: findings %+v, want none", target, got)
		}
	}

	rsa, ecc := inv.Certificates["RsaCrt01"], inv.Certificates["EccCrt01"]
	rsa.Fingerprint, ecc.Fingerprint = ecc.Fingerprint, rsa.Fingerprint
	inv.Certificates["RsaCrt01"], inv.Certificates["EccCrt01"] = rsa, ecc
	got := memberHandshakeFindings(f, binding(t, inv, "lb-probe001/lbl-on000001"))
	if len(got) != 2 {
		t.Fatalf("swapped members: findings %+v, want two", got)
	}
	for _, alg := range []string{"RSA", "ECC"} {
		if !slices.ContainsFunc(got, func(fd Finding) bool {
			return fd.Severity == Critical && fd.Check == CheckHandshake && strings.Contains(fd.Problem, "serves "+alg+" clients") && strings.Contains(fd.Problem, "not the "+alg+" member")
		}) {
			t.Errorf("findings %+v: no critical mismatch of the %s member", got, alg)
		}
	}
}
