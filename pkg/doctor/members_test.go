package doctor_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/internal/testpki"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// clientCA is a self-signed client CA for mutual TLS ending at notAfter, as uploaded to
// the SSL service under id.
func clientCA(t *testing.T, id string, notAfter time.Time) tcsim.CertSpec {
	t.Helper()
	ca, _, err := testpki.Issue(&x509.Certificate{
		Subject:   pkix.Name{CommonName: "doctor client CA " + id},
		NotBefore: notAfter.AddDate(-5, 0, 0), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tcsim.CertSpec{ID: id, Alias: "client CA", CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})), Type: "CA"}
}

// Dual bindings and mutual TLS: each variant of the healthy site must give exactly its
// findings. The TCP_SSL listener (or the SNI domain example.test) gets an RSA and an ECC
// member of hand-uploaded certificates of 90 days, ending when each case says.
func TestDualAndMutualFindings(t *testing.T) {
	now := time.Now()
	days := func(n int) time.Time { return now.Add(time.Duration(n)*24*time.Hour + time.Hour) }
	names := []string{"example.test", "*.example.test"}
	type member struct {
		id    string
		alg   certbinding.Algorithm
		until time.Time
		names []string
	}
	dualOn := func(o *tcsim.Options, t *testing.T, ms ...member) {
		for _, m := range ms {
			o.Certificates = append(o.Certificates, simtest.HandUploadedKeyUntil(t, m.id, m.alg, m.until, m.names...))
		}
		l := listener(o, lblTLS)
		l.CertID, l.ExtCertIDs = ms[0].id, []string{ms[1].id}
	}
	mutual := func(o *tcsim.Options, t *testing.T, caUntil time.Time, verify string) {
		o.Certificates = append(o.Certificates, clientCA(t, "ClientCA", caUntil))
		l := listener(o, lblTLS)
		l.SSLMode, l.CertCaID, l.SSLVerifyClient = "MUTUAL", "ClientCA", verify
	}
	cases := []struct {
		name   string
		change func(t *testing.T, o *tcsim.Options)
		want   []want
		exit   int
	}{
		{
			name: "dual binding renewed together, mutual OPTIONAL with a CA of years",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(80), names}, member{"EccCrt01", certbinding.ECC, days(79), names})
				mutual(o, t, now.AddDate(3, 0, 0), "OPTIONAL")
			},
			exit: doctor.ExitOK,
		},
		{
			name: "members 45 days apart, within certbot's renewal period of 63 days",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(85), names}, member{"EccCrt01", certbinding.ECC, days(40), names})
			},
			exit: doctor.ExitOK,
		},
		{
			name: "ECC member 65 days before the RSA one: not renewed",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(85), names}, member{"EccCrt01", certbinding.ECC, days(20), names})
			},
			want: []want{
				{doctor.CheckDualMembers, doctor.Warning, lbWeb + "/" + lblTLS, []string{"the ECC member EccCrt01 ends on", "65 days before the RSA member RsaCrt01", "renewal period of 63 days", "EccCrt01 is not being renewed"}},
				{doctor.CheckCertDates, doctor.Warning, "certificate EccCrt01 on " + lbWeb + "/" + lblTLS, []string{"renewal overdue", "20 days left"}},
			},
			exit: doctor.ExitWarning,
		},
		{
			name: "the second member expired: judged like the first",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(80), names}, member{"EccCrt01", certbinding.ECC, now.Add(-24 * time.Hour), names})
			},
			want: []want{
				{doctor.CheckDualMembers, doctor.Warning, lbWeb + "/" + lblTLS, []string{"the ECC member EccCrt01", "is not being renewed"}},
				{doctor.CheckCertDates, doctor.Critical, "certificate EccCrt01", []string{"expired on"}},
			},
			exit: doctor.ExitCritical,
		},
		{
			name: "members cover different names",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(80), names}, member{"EccCrt01", certbinding.ECC, days(80), []string{"example.test"}})
			},
			want: []want{{doctor.CheckDualMembers, doctor.Warning, lbWeb + "/" + lblTLS, []string{"cover different names", "the RSA member RsaCrt01 covers *.example.test, example.test", "the ECC member EccCrt01 covers example.test"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "dual SNI domain whose members cover different names",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Certificates = append(o.Certificates,
					simtest.HandUploadedKeyUntil(t, "RsaCrt01", certbinding.RSA, days(80), "example.test", "www.example.test"),
					simtest.HandUploadedKeyUntil(t, "EccCrt01", certbinding.ECC, days(80), "example.test"))
				r := rule(o, lblSNI, locApex)
				r.CertID, r.ExtCertIDs = "RsaCrt01", []string{"EccCrt01"}
			},
			want: []want{{doctor.CheckDualMembers, doctor.Warning, lblSNI + " (HTTPS:", []string{"cover different names", "www.example.test"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "client CA ends in 20 days, OPTIONAL",
			change: func(t *testing.T, o *tcsim.Options) {
				mutual(o, t, days(20), "OPTIONAL")
			},
			want: []want{{doctor.CheckClientCA, doctor.Warning, "certificate ClientCA on " + lbWeb + "/" + lblTLS, []string{"client CA of mutual TLS", "20 days left (warning at 30)", "treated as clients without one"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "client CA ends in 3 days, ON, on a dual binding",
			change: func(t *testing.T, o *tcsim.Options) {
				dualOn(o, t, member{"RsaCrt01", certbinding.RSA, days(80), names}, member{"EccCrt01", certbinding.ECC, days(80), names})
				mutual(o, t, days(3), "ON")
			},
			want: []want{{doctor.CheckClientCA, doctor.Critical, "certificate ClientCA", []string{"3 days left (critical at 7)", "every client is then refused"}}},
			exit: doctor.ExitCritical,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := site(t)
			tc.change(t, &o)
			sim := simtest.Start(t, o)
			rep := examine(t, sim, doctor.Options{})
			expectFindings(t, rep.Findings, tc.want...)
			if rep.ExitCode != tc.exit {
				t.Errorf("exit %d (%s), want %d", rep.ExitCode, rep.Status, tc.exit)
			}
			for _, f := range rep.Findings {
				if f.Fix == "" || strings.Contains(f.Problem, "\n") {
					t.Errorf("finding %s %s: fix %q, problem %q", f.Check, f.Where, f.Fix, f.Problem)
				}
			}
		})
	}
}
