package simtest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/testpki"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Issue writes a lineage under certbotDir as certbot does — live/NAME/
// {cert,chain,fullchain,privkey}.pem as relative links into
// archive/NAME/*N.pem — for a leaf with names, valid from notBefore to
// notAfter, signed by a throwaway CA of its own. Issuing an existing NAME
// again is a renewal: generation N+1, the links moved to it. It returns
// the live/NAME directory.
//
// The testdata corpus has fixed dates a century long; this is for tests
// that need a certificate expiring at a given time from now.
func Issue(tb testing.TB, certbotDir, name string, notBefore, notAfter time.Time, names ...string) string {
	tb.Helper()
	ca, caKey := issueCert(tb, &x509.Certificate{
		Subject: pkix.Name{CommonName: "clbcert simtest CA"}, NotBefore: notBefore.Add(-time.Hour), NotAfter: notAfter.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	leaf, key := issueCert(tb, &x509.Certificate{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	chainPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	content := map[string][]byte{
		"cert":      certPEM,
		"chain":     chainPEM,
		"fullchain": append(append([]byte{}, certPEM...), chainPEM...),
		"privkey":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}

	archive := filepath.Join(certbotDir, "archive", name)
	live := filepath.Join(certbotDir, "live", name)
	for _, d := range []string{archive, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	gen := 1
	for ; ; gen++ {
		if _, err := os.Stat(filepath.Join(archive, fmt.Sprintf("cert%d.pem", gen))); err != nil {
			break
		}
	}
	for kind, data := range content {
		file := fmt.Sprintf("%s%d.pem", kind, gen)
		if err := os.WriteFile(filepath.Join(archive, file), data, 0o600); err != nil {
			tb.Fatal(err)
		}
		link := filepath.Join(live, kind+".pem")
		tmp := link + ".new"
		if err := os.Symlink(filepath.Join("..", "..", "archive", name, file), tmp); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			tb.Fatal(err)
		}
	}
	return live
}

func issueCert(tb testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	cert, key, err := testpki.Issue(tmpl, parent, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// HandUploadedUntil is a certificate for names, expiring at notAfter,
// uploaded by hand under id: the old certificate a renewal replaces. Deploy
// keeps a certificate that expires later than the new one, so tests whose
// renewals are short-lived (pebble's, Issue's) start from this rather than
// from the corpus, whose leaves run until 2125.
func HandUploadedUntil(tb testing.TB, id string, notAfter time.Time, names ...string) tcsim.CertSpec {
	tb.Helper()
	dir := Issue(tb, tb.TempDir(), names[0], notAfter.Add(-90*24*time.Hour), notAfter, names...)
	l, err := lineage.Load(dir, notAfter.Add(-time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return tcsim.CertSpec{ID: id, Alias: "uploaded by hand", CertPEM: l.FullchainPEM, KeyPEM: l.KeyPEM}
}
