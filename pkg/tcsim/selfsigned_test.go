package tcsim

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
)

func TestSelfSignedKey(t *testing.T) {
	for _, tc := range []struct {
		alg, wantKey, wantErr string
	}{
		{alg: "ECC", wantKey: "ECDSA"},
		{alg: "RSA", wantKey: "RSA"},
		{alg: "SM2", wantErr: `tcsim: self-signed certificate c1: key algorithm "SM2" is not RSA or ECC`},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			spec, err := SelfSignedKey("c1", tc.alg, "example.test", "*.example.test")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pair, err := tls.X509KeyPair([]byte(spec.CertPEM), []byte(spec.KeyPEM))
			if err != nil {
				t.Fatalf("certificate and key do not pair: %v", err)
			}
			cert, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if got := cert.PublicKeyAlgorithm.String(); got != tc.wantKey {
				t.Errorf("key algorithm = %s, want %s", got, tc.wantKey)
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if err := cert.VerifyHostname("www.example.test"); err != nil {
				t.Error(err)
			}
			if spec.ID != "c1" || !strings.Contains(spec.Alias, "self-signed") {
				t.Errorf("spec = %s %q, want c1 and a self-signed alias", spec.ID, spec.Alias)
			}
		})
	}
	if _, err := SelfSignedKey("c2", "ECC"); err == nil {
		t.Error("a certificate without names: no error")
	}
}

func TestIssueSignsByParent(t *testing.T) {
	ca, caKey, err := Issue("ECC", &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := Issue("RSA", &x509.Certificate{DNSNames: []string{"example.test"}}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("leaf not signed by the CA: %v", err)
	}
	if leaf.SerialNumber.Cmp(ca.SerialNumber) == 0 {
		t.Errorf("leaf and CA share serial %v", ca.SerialNumber)
	}
}
