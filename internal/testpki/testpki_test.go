package testpki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

func TestIssueChainVerifies(t *testing.T) {
	now := time.Now()
	ca, caKey, err := Issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := Issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: "a.example"}, DNSNames: []string{"a.example"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "a.example"}); err != nil {
		t.Errorf("leaf does not verify against its CA: %v", err)
	}
	if ca.CheckSignatureFrom(ca) != nil {
		t.Error("the CA is not self-signed")
	}
	if key.Equal(caKey) || !key.PublicKey.Equal(leaf.PublicKey) {
		t.Error("the leaf does not have a key of its own")
	}
	if ca.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Errorf("CA and leaf share serial %v", ca.SerialNumber)
	}
}
