package simtest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clbcert/clbcert/pkg/binding"
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
	return IssueKey(tb, certbotDir, name, binding.ECC, notBefore, notAfter, names...)
}

// IssueLineage is Issue's lineage, loaded.
func IssueLineage(tb testing.TB, certbotDir, name string, notBefore, notAfter time.Time, names ...string) *lineage.Lineage {
	tb.Helper()
	l, err := lineage.Load(Issue(tb, certbotDir, name, notBefore, notAfter, names...), notAfter.Add(-time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// IssueKey is Issue with a leaf key of algorithm alg: binding.ECC (P-256)
// or binding.RSA (2048 bits), as certbot's --key-type ecdsa and rsa.
func IssueKey(tb testing.TB, certbotDir, name string, alg binding.Algorithm, notBefore, notAfter time.Time, names ...string) string {
	tb.Helper()
	ca, caKey, err := tcsim.Issue(string(binding.ECC), &x509.Certificate{
		Subject: pkix.Name{CommonName: "clbcert simtest CA"}, NotBefore: notBefore.Add(-time.Hour), NotAfter: notAfter.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	usage := x509.KeyUsageDigitalSignature
	if alg == binding.RSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	leaf, key, err := tcsim.Issue(string(alg), &x509.Certificate{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: usage, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	if err != nil {
		tb.Fatal(err)
	}
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

// HandUploadedUntil is a certificate for names, expiring at notAfter,
// uploaded by hand under id: the old certificate a renewal replaces. Deploy
// keeps a certificate that expires later than the new one, so tests whose
// renewals are short-lived (pebble's, Issue's) start from this rather than
// from the corpus, whose leaves run until 2125.
func HandUploadedUntil(tb testing.TB, id string, notAfter time.Time, names ...string) tcsim.CertSpec {
	tb.Helper()
	return HandUploadedKeyUntil(tb, id, binding.ECC, notAfter, names...)
}

// HandUploadedKeyUntil is HandUploadedUntil with a key of algorithm alg.
func HandUploadedKeyUntil(tb testing.TB, id string, alg binding.Algorithm, notAfter time.Time, names ...string) tcsim.CertSpec {
	tb.Helper()
	return HandUploadedBetween(tb, id, alg, notAfter.Add(-90*24*time.Hour), notAfter, names...)
}

// HandUploadedBetween is HandUploadedKeyUntil valid from notBefore: for a
// certificate not valid yet, or one that has expired, or lived longer or
// shorter than 90 days.
func HandUploadedBetween(tb testing.TB, id string, alg binding.Algorithm, notBefore, notAfter time.Time, names ...string) tcsim.CertSpec {
	tb.Helper()
	dir := IssueKey(tb, tb.TempDir(), names[0], alg, notBefore, notAfter, names...)
	l, err := lineage.Load(dir, notAfter.Add(-time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return tcsim.CertSpec{ID: id, Alias: "uploaded by hand", CertPEM: l.FullchainPEM, KeyPEM: l.KeyPEM}
}
