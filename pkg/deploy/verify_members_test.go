package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// clientCAPEM is a self-signed CA for the mutual-TLS listeners; no client here has a
// certificate of it.
func clientCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clbcert test client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestVerifyMembers(t *testing.T) {
	rsaL, eccL := simtest.Lineage(t, "dual", "example.test"), simtest.Lineage(t, "dual", "example.test-ecdsa")
	pair := []tcsim.RuleSpec{{Domain: "www.example.test"}}
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploaded(t, "RsaCert1", "dual", "example.test"),
			simtest.HandUploaded(t, "EccCert1", "dual", "example.test-ecdsa"),
			{ID: "ClientCA", CertPEM: clientCAPEM(t), Type: "CA"},
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-vfy1", Region: "ap-guangzhou", VIP: "127.0.0.71", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-dual1", Protocol: "HTTPS", CertID: "RsaCert1", ExtCertIDs: []string{"EccCert1"}, Rules: pair},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "*.example.test", CertID: "EccCert1", ExtCertIDs: []string{"RsaCert1"}}}},
				{ID: "lbl-mopt1", Protocol: "HTTPS", CertID: "RsaCert1", ExtCertIDs: []string{"EccCert1"},
					SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL", Rules: pair},
				{ID: "lbl-mon1", Protocol: "HTTPS", CertID: "RsaCert1", ExtCertIDs: []string{"EccCert1"},
					SSLMode: "MUTUAL", CertCaID: "ClientCA", Rules: pair},
				{ID: "lbl-single1", Protocol: "HTTPS", CertID: "RsaCert1", Rules: pair},
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "RsaCert1", ExtCertIDs: []string{"EccCert1"}},
			}},
		}},
	})
	addr := func(listenerID string) string { return sim.ListenerAddr("lb-vfy1", listenerID) }
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	rsaM := certbinding.Member{CertID: "RsaCert1", Algorithm: certbinding.RSA}
	eccM := certbinding.Member{CertID: "EccCert1", Algorithm: certbinding.ECC}
	oneWay := certbinding.Binding{Members: []certbinding.Member{rsaM, eccM}}
	mutual := func(verify string) certbinding.Binding {
		return certbinding.Binding{Members: oneWay.Members, SSLMode: certbinding.ModeMutual, CertCaID: "ClientCA", SSLVerifyClient: verify}
	}
	fps := map[string]string{"RsaCert1": rsaL.Fingerprint, "EccCert1": eccL.Fingerprint}
	tests := []struct {
		name       string
		addr, sni  string
		b          certbinding.Binding
		fps        map[string]string
		err        string // "" for success
		unreachble bool
	}{
		{"dual listener", addr("lbl-dual1"), "www.example.test", oneWay, fps, "", false},
		{"dual wildcard SNI domain", addr("lbl-sni1"), "*.example.test", oneWay, fps, "", false},
		{"dual TCP_SSL", addr("lbl-tls1"), "www.example.test", oneWay, fps, "", false},
		{"MUTUAL OPTIONAL lets a client without a certificate in", addr("lbl-mopt1"), "www.example.test", mutual("OPTIONAL"), fps, "", false},
		{"MUTUAL ON: each member's leaf, no client to let in", addr("lbl-mon1"), "www.example.test", mutual("ON"), fps, "", false},
		{"MUTUAL ON where OPTIONAL was meant: clients locked out", addr("lbl-mon1"), "www.example.test", mutual("OPTIONAL"), fps, "without a client certificate failed", false},
		{"a pair expected, one RSA certificate served", addr("lbl-single1"), "www.example.test", oneWay, fps, "ECC member EccCert1", false},
		{"the wrong leaf for a member", addr("lbl-dual1"), "www.example.test", oneWay,
			map[string]string{"RsaCert1": eccL.Fingerprint, "EccCert1": eccL.Fingerprint}, "RSA member RsaCert1", false},
		{"an SM2 member is left alone", addr("lbl-single1"), "www.example.test",
			certbinding.Binding{Members: []certbinding.Member{rsaM, {CertID: "Sm2Cert1", Algorithm: certbinding.SM2}}}, fps, "", false},
		{"a member without a fingerprint", addr("lbl-dual1"), "www.example.test", oneWay, map[string]string{"RsaCert1": rsaL.Fingerprint}, "no fingerprint", false},
		{"unreachable", closed, "www.example.test", oneWay, fps, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
			defer cancel()
			err := verifyMembers(ctx, tt.addr, tt.sni, tt.b, tt.fps)
			switch {
			case tt.unreachble:
				if !errors.Is(err, errUnreachable) {
					t.Errorf("verifyMembers = %v, want errUnreachable", err)
				}
			case tt.err == "" && err != nil:
				t.Errorf("verifyMembers: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("verifyMembers = %v, want an error containing %q", err, tt.err)
			}
		})
	}
}
