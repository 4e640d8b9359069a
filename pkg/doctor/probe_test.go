package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

func testProber() prober { return prober{timeout: 5 * time.Second, dialer: &net.Dialer{}} }

// twoListeners: HandCrt1 on a listener without SNI, OtherCrt on an SNI
// domain of another.
func twoListeners(t *testing.T) (*tcsim.Sim, *inventory.Inventory) {
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-probe001", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-plain001", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			{ID: "lbl-sni00001", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "other.test", CertID: "OtherCrt"}}},
		}}}},
	})
	return sim, collect(t, sim)
}

// collect is the inventory of sim's ap-guangzhou, with fingerprints.
func collect(t *testing.T, sim *tcsim.Sim) *inventory.Inventory {
	t.Helper()
	c, err := inventory.New(simtest.Config(t, sim), inventory.Options{Fingerprints: true})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Collect(context.Background(), []string{"ap-guangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func binding(t *testing.T, inv *inventory.Inventory, target string) inventory.Binding {
	for _, b := range inv.Bindings() {
		if b.String() == target {
			return b
		}
	}
	t.Fatalf("no binding %s in %+v", target, inv.Bindings())
	return inventory.Binding{}
}

// tcsim's listeners serve exactly the certificate bound at the moment of
// the handshake, so a listener serving another certificate than the
// inventory says cannot be built in it. What doctor does with such an
// answer is shown by shaking hands with the wrong listener on purpose: the
// SNI listener's other.test certificate in place of lbl-plain001's.
func TestHandshakeServingAnotherCertificate(t *testing.T) {
	sim, inv := twoListeners(t)
	b := binding(t, inv, "lb-probe001/lbl-plain001")

	right := testProber().handshake(context.Background(), b.Addr, b.ServerName, tls.VersionTLS12, tls.VersionTLS13, nil)
	if got := handshakeFindings(b, right, inv.Certificates); len(got) != 0 {
		t.Fatalf("the right listener: %+v", got)
	}
	wrong := testProber().handshake(context.Background(), sim.ListenerAddr("lb-probe001", "lbl-sni00001"), "other.test", tls.VersionTLS12, tls.VersionTLS13, nil)
	got := handshakeFindings(b, wrong, inv.Certificates)
	if len(got) != 1 || got[0].Severity != Critical || got[0].Check != CheckHandshake ||
		!strings.Contains(got[0].Problem, "serves a certificate for other.test") || !strings.Contains(got[0].Problem, "not the bound certificate HandCrt1") {
		t.Fatalf("findings %+v, want one critical mismatch", got)
	}
}

// An address this host cannot reach says nothing about the listener.
func TestHandshakeUnreachable(t *testing.T) {
	_, inv := twoListeners(t)
	b := binding(t, inv, "lb-probe001/lbl-plain001")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	p := testProber().handshake(context.Background(), closed, b.ServerName, tls.VersionTLS12, tls.VersionTLS13, nil)
	got := handshakeFindings(b, p, inv.Certificates)
	if p.Reached || len(got) != 1 || got[0].Severity != Info || !strings.Contains(got[0].Problem, "could not check from this host") || got[0].Fix != unreachableFix {
		t.Fatalf("probe %+v: findings %+v, want one info", p, got)
	}
}

// tcsim refuses to store a chain that does not link, so the served chain
// is checked against a TLS server of the test's own that presents the
// corpus's broken-chain lineage (leaf from E1, followed by E2).
func TestHandshakeChainThatDoesNotLink(t *testing.T) {
	dir := simtest.Corpus("broken-chain", "example.test")
	chainPEM, err := os.ReadFile(filepath.Join(dir, "fullchain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "privkey.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(chainPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	p := testProber().handshake(context.Background(), ln.Addr().String(), "www.example.test", tls.VersionTLS12, tls.VersionTLS13, nil)
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	b := inventory.Binding{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-1", ListenerID: "lbl-1"}, Protocol: "HTTPS", Addr: p.Addr}
	got := handshakeFindings(b, p, nil)
	if len(got) != 1 || got[0].Severity != Critical || got[0].Check != CheckServedChain || !strings.Contains(got[0].Problem, "does not link") {
		t.Fatalf("findings %+v, want one critical served-chain", got)
	}
}

func TestProbeName(t *testing.T) {
	for _, tc := range []struct {
		domain string
		others []string
		want   string
	}{
		{"www.example.test", nil, "www.example.test"},
		{"", nil, ""},
		{"*.example.test", []string{"*.example.test", "www.example.test"}, "clbcert-doctor.example.test"},
		{"*.example.test", []string{"clbcert-doctor.example.test"}, "clbcert-doctor-1.example.test"},
	} {
		if got := probeName(tc.domain, tc.others); got != tc.want {
			t.Errorf("probeName(%q, %v) = %q, want %q", tc.domain, tc.others, got, tc.want)
		}
	}
}

// A listener serving its leaf without the intermediate that issued it, over
// a real handshake with tcsim: clients that do not fetch intermediates fail
// with "unable to verify the first certificate", so doctor reports it with
// the fix.
func TestHandshakeLeafOnlyChain(t *testing.T) {
	leafPEM, err := os.ReadFile(filepath.Join(simtest.Corpus("good-ecdsa", "example.test"), "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	l := simtest.Lineage(t, "good-ecdsa", "example.test")
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{{ID: "LeafOnly", Alias: "uploaded by hand", CertPEM: string(leafPEM), KeyPEM: l.KeyPEM}},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-probe001", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-plain001", Protocol: "HTTPS", CertID: "LeafOnly", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
		}}}},
	})
	inv := collect(t, sim)
	b := binding(t, inv, "lb-probe001/lbl-plain001")
	p := testProber().handshake(context.Background(), b.Addr, b.ServerName, tls.VersionTLS12, tls.VersionTLS13, nil)
	if p.Err != nil || len(p.Chain) != 1 {
		t.Fatalf("handshake: %v, %d certificates", p.Err, len(p.Chain))
	}
	got := handshakeFindings(b, p, inv.Certificates)
	if len(got) != 1 || got[0].Severity != Critical || got[0].Check != CheckServedChain ||
		!strings.Contains(got[0].Problem, `only the leaf, without its issuer "CN=clbcert Test E1`) || !strings.Contains(got[0].Fix, "fullchain.pem") {
		t.Fatalf("findings %+v, want one critical served-chain naming the missing issuer", got)
	}
}

func TestChainLinks(t *testing.T) {
	load := func(kase, file string) []*x509.Certificate {
		b, err := os.ReadFile(filepath.Join(simtest.Corpus(kase, "example.test"), file))
		if err != nil {
			t.Fatal(err)
		}
		var out []*x509.Certificate
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	root := func() []*x509.Certificate {
		blk, _ := pem.Decode(simtest.CorpusRoot(t))
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return []*x509.Certificate{c}
	}
	tests := []struct {
		name  string
		chain []*x509.Certificate
		want  string
	}{
		{"leaf and intermediate", load("good-ecdsa", "fullchain.pem"), ""},
		{"self-signed root alone", root(), ""},
		{"leaf alone", load("good-ecdsa", "cert.pem"), "only the leaf, without its issuer"},
		{"wrong intermediate", load("broken-chain", "fullchain.pem"), "was issued by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := chainLinks(tt.chain)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("chainLinks = %v, want %q", err, tt.want)
			}
		})
	}
}
