package tcsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"
)

// testPKI is a root and an intermediate CA that issue leaf certificates, like Let's Encrypt's
// hierarchy: a leaf is uploaded with the intermediate after it.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
	interPEM          string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	now := time.Now()
	rootKey := newKey(t)
	root := signCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "tcsim test root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, rootKey, rootKey)
	interKey := newKey(t)
	inter := signCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "tcsim test intermediate"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, root, rootKey, interKey)
	return &testPKI{root: root, inter: inter, rootKey: rootKey, interKey: interKey, interPEM: certPEM(inter)}
}

// testLeaf is an issued certificate as a lineage holds it.
type testLeaf struct {
	cert      *x509.Certificate
	leafPEM   string // the leaf alone
	fullchain string // leaf + intermediate
	keyPEM    string // PKCS#8
}

// issue signs a leaf for names (the first is the CN) valid from notBefore to notAfter.
func (p *testPKI) issue(t *testing.T, notBefore, notAfter time.Time, names ...string) testLeaf {
	t.Helper()
	return p.issueKey(t, newKey(t), notBefore, notAfter, names...)
}

// issueKey is issue for a given key.
func (p *testPKI) issueKey(t *testing.T, key crypto.Signer, notBefore, notAfter time.Time, names ...string) testLeaf {
	t.Helper()
	leaf := signCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, p.inter, p.interKey, key)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	lp := certPEM(leaf)
	return testLeaf{cert: leaf, leafPEM: lp, fullchain: lp + p.interPEM, keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
}

// valid issues a leaf valid for 90 days from an hour ago.
func (p *testPKI) valid(t *testing.T, names ...string) testLeaf {
	t.Helper()
	now := time.Now()
	return p.issue(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), names...)
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func (l testLeaf) spec(id string) CertSpec {
	return CertSpec{ID: id, Alias: "hand-" + id, CertPEM: l.fullchain, KeyPEM: l.keyPEM}
}

func sdkCredential(cred Credential) common.CredentialIface {
	if cred.Token != "" {
		return common.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.Token)
	}
	return common.NewCredential(cred.SecretID, cred.SecretKey)
}

// sslClient is the real SSL SDK client pointed at the simulator; the service takes no region.
func sslClient(t *testing.T, s *Sim) *sslsdk.Client {
	t.Helper()
	c, err := sslsdk.NewClient(sdkCredential(s.Credential()), "", sdkProfile(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clbClient is the real CLB SDK client for region ("" sends no X-TC-Region).
func clbClient(t *testing.T, s *Sim, region string) *clbsdk.Client {
	t.Helper()
	c, err := clbsdk.NewClient(sdkCredential(s.Credential()), region, sdkProfile(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// upload uploads a leaf with its chain and returns the certificate id.
func upload(t *testing.T, c *sslsdk.Client, l testLeaf, alias string) string {
	t.Helper()
	req := sslsdk.NewUploadCertificateRequest()
	req.CertificatePublicKey, req.CertificatePrivateKey, req.Alias = ptr(l.fullchain), ptr(l.keyPEM), ptr(alias)
	resp, err := c.UploadCertificate(req)
	if err != nil {
		t.Fatalf("UploadCertificate: %v", err)
	}
	return *resp.Response.CertificateId
}

// handshake connects to addr with server name sni and returns the leaf the server presented,
// verified against the PKI's root when pool is not nil.
func handshake(t *testing.T, addr, sni string, pool *x509.CertPool) *x509.Certificate {
	t.Helper()
	cfg := &tls.Config{ServerName: sni, RootCAs: pool, InsecureSkipVerify: pool == nil}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS to %s (SNI %q): %v", addr, sni, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}
