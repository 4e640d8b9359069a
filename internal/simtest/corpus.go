package simtest

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Corpus is the live/NAME directory of case kase in testdata/lineages, the
// certificate corpus every package's tests share.
func Corpus(kase, name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "lineages", kase, "live", name)
}

// CorpusRoot is the PEM of the root that issued the corpus's certificates.
func CorpusRoot(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Corpus("good-ecdsa", "example.test"), "..", "..", "..", "root.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ClientCA is the corpus's root as a CA certificate of the SSL service, for mutual TLS.
func ClientCA(tb testing.TB, id string) tcsim.CertSpec {
	tb.Helper()
	return tcsim.CertSpec{ID: id, Alias: "client CA", CertPEM: string(CorpusRoot(tb)), Type: "CA"}
}

// Lineage loads a good lineage of the corpus.
func Lineage(tb testing.TB, kase, name string) *lineage.Lineage {
	tb.Helper()
	l, err := lineage.Load(Corpus(kase, name), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// HandUploaded is a corpus lineage as a certificate someone uploaded in the
// SSL console: in the sim's store from the start, under id.
func HandUploaded(tb testing.TB, id, kase, name string) tcsim.CertSpec {
	tb.Helper()
	return UploadedByHand(id, Lineage(tb, kase, name))
}

// UploadedByHand is l's certificate and key in the SSL service under id, as an operator
// uploads them (not under clbcert's alias).
func UploadedByHand(id string, l *lineage.Lineage) tcsim.CertSpec {
	return tcsim.CertSpec{ID: id, Alias: "uploaded by hand", CertPEM: l.FullchainPEM, KeyPEM: l.KeyPEM}
}

// ThreeTargets is an account whose certificate certs[0] is on three targets in two regions:
// lb-gz1's HTTPS listener lbl-https1 (rule www.example.test) and SNI domain
// lbl-sni1/example.test, and lb-sh1's TCP_SSL listener lbl-tls1. The other certs are in the
// SSL service only.
func ThreeTargets(certs ...tcsim.CertSpec) tcsim.Options {
	return tcsim.Options{
		Certificates: certs,
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: certs[0].ID, Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "example.test", CertID: certs[0].ID}}},
			}},
			{ID: "lb-sh1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: certs[0].ID},
			}},
		}},
		TaskDelay: 20 * time.Millisecond,
	}
}

// DualTargets is an account whose RSA certificate rsa and ECC certificate ecc (for
// example.test and *.example.test) are a pair on lb-dual1's listener lbl-dual1 (rule
// www.example.test) and SNI domain lbl-sni1/example.test; rsa alone is on SNI domain
// lbl-sni1/api.example.test and on lbl-mtls1 (rule www.example.test), MUTUAL + OPTIONAL
// with the corpus root as client CA ClientCA.
func DualTargets(tb testing.TB, rsa, ecc tcsim.CertSpec) tcsim.Options {
	tb.Helper()
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{rsa, ecc, ClientCA(tb, "ClientCA")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-dual1", Region: "ap-guangzhou", VIP: "127.0.0.41", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-dual1", Protocol: "HTTPS", CertID: rsa.ID, ExtCertIDs: []string{ecc.ID}, Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: rsa.ID, ExtCertIDs: []string{ecc.ID}},
					{Domain: "api.example.test", CertID: rsa.ID}}},
				{ID: "lbl-mtls1", Protocol: "HTTPS", CertID: rsa.ID, SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL",
					Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
		}},
		TaskDelay: 20 * time.Millisecond,
	}
}

// ServedLeaf is the SHA-256 of the leaf a TLS client asking for serverName
// gets at addr (a sim listener's VIP:port).
func ServedLeaf(tb testing.TB, addr, serverName string) string {
	tb.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		tb.Fatalf("TLS to %s (SNI %s): %v", addr, serverName, err)
	}
	defer conn.Close()
	return lineage.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
}

// LockedBuffer collects a running process's output for a test to read
// while the process still writes.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
