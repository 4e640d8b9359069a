package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// leafFor is the SHA-256 of the leaf a client of key algorithm alg, without a client
// certificate, gets at addr; the handshake must complete.
func leafFor(t *testing.T, addr, serverName string, alg binding.Algorithm) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true,
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: alg.CipherSuites()})
	if err != nil {
		t.Fatalf("%s handshake with %s (SNI %s), without a client certificate: %v", alg, addr, serverName, err)
	}
	defer conn.Close()
	return lineage.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
}

func specLeaf(t *testing.T, spec tcsim.CertSpec) string {
	t.Helper()
	block, _ := pem.Decode([]byte(spec.CertPEM))
	if block == nil {
		t.Fatalf("certificate %s: no PEM", spec.ID)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	return lineage.Fingerprint(block.Bytes)
}

// An operator's RSA + ECDSA pair, issued by real certbot with clbcert-deploy as the deploy
// hook, on a dual listener, a dual SNI domain, an RSA-only SNI domain and a MUTUAL +
// OPTIONAL listener: each lineage moves its own member and keeps the other, the RSA-only
// domain becomes a pair, mutual TLS stays OPTIONAL; a renewal of both moves both members
// again; running the hook again changes nothing.
func TestDualCertificatesRotateTogether(t *testing.T) {
	names := []string{"example.test", "*.example.test"}
	soon := time.Now().Add(10 * 24 * time.Hour)
	handRSA := simtest.HandUploadedKeyUntil(t, "HandRSA", binding.RSA, soon, names...)
	handECC := simtest.HandUploadedKeyUntil(t, "HandECC", binding.ECC, soon, names...)
	opts := simtest.DualTargets(t, handRSA, handECC)
	opts.Zones = []tcsim.ZoneSpec{{Name: "example.test"}}
	opts.TaskDelay, opts.PropagationDelay = 100*time.Millisecond, time.Second
	w := newWorld(t, opts)
	places := []struct{ lbl, domain, sni string }{
		{"lbl-dual1", "", "www.example.test"},
		{"lbl-sni1", "example.test", "example.test"},
		{"lbl-sni1", "api.example.test", "api.example.test"},
		{"lbl-mtls1", "", "www.example.test"},
	}
	leafOf := func(name string) string {
		t.Helper()
		leaf, err := w.certbot.Leaf(name)
		if err != nil {
			t.Fatal(err)
		}
		return lineage.Fingerprint(leaf.Raw)
	}
	// check: every place serves wantRSA to RSA clients and wantECC to ECDSA clients ("" for
	// none: a single RSA binding), and mutual TLS is as it was.
	check := func(when string, want func(lbl, domain string) (rsa, ecc string)) {
		t.Helper()
		for _, p := range places {
			wantRSA, wantECC := want(p.lbl, p.domain)
			addr := w.sim.ListenerAddr("lb-dual1", p.lbl)
			b, _ := w.sim.Binding("lb-dual1", p.lbl, p.domain)
			if n := 1 + min(len(wantECC), 1); len(b.CertIDs) != n {
				t.Errorf("%s: %s/%s holds %v, want %d certificates", when, p.lbl, p.domain, b.CertIDs, n)
			}
			if got := leafFor(t, addr, p.sni, binding.RSA); got != wantRSA {
				t.Errorf("%s: %s/%s serves RSA clients %s…, want %s…", when, p.lbl, p.domain, got[:12], wantRSA[:12])
			}
			if wantECC != "" {
				if got := leafFor(t, addr, p.sni, binding.ECC); got != wantECC {
					t.Errorf("%s: %s/%s serves ECDSA clients %s…, want %s…", when, p.lbl, p.domain, got[:12], wantECC[:12])
				}
			}
			if p.lbl == "lbl-mtls1" && (b.SSLMode != "MUTUAL" || b.CertCaID != "ClientCA" || b.SSLVerifyClient != "OPTIONAL") {
				t.Errorf("%s: the mutual listener is %s with CA %q and verification %q, want MUTUAL, ClientCA, OPTIONAL", when, b.SSLMode, b.CertCaID, b.SSLVerifyClient)
			}
		}
	}

	hook := []string{"--deploy-hook", "clbcert-deploy"}
	w.issue(t, "example.test", "clbcert-dns auth", append([]string{"--key-type", "rsa"}, hook...), names...)
	rsa1 := leafOf("example.test")
	check("the RSA issuance", func(lbl, domain string) (string, string) {
		if domain == "api.example.test" || lbl == "lbl-mtls1" {
			return rsa1, ""
		}
		return rsa1, specLeaf(t, handECC)
	})

	w.issue(t, "example.test-ecdsa", "clbcert-dns auth", append([]string{"--key-type", "ecdsa"}, hook...), names...)
	ecc1 := leafOf("example.test-ecdsa")
	both := func(rsa, ecc string) func(string, string) (string, string) {
		return func(string, string) (string, string) { return rsa, ecc }
	}
	check("the ECDSA issuance", both(rsa1, ecc1))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := w.certbot.Run(ctx, append([]string{"renew", "--force-renewal"}, hook...)...); err != nil {
		t.Fatal(err)
	}
	rsa2, ecc2 := leafOf("example.test"), leafOf("example.test-ecdsa")
	if rsa2 == rsa1 || ecc2 == ecc1 {
		t.Fatal("certbot renew --force-renewal did not renew both lineages")
	}
	check("the renewal", both(rsa2, ecc2))

	before := w.sim.CallCounts()
	for _, name := range []string{"example.test", "example.test-ecdsa"} {
		if r := w.run(t, "clbcert-deploy", "--lineage", w.certbot.LivePath(name)); r.Code != 0 {
			t.Fatalf("clbcert-deploy %s again: exit %d\n%s\n%s", name, r.Code, r.Stdout, r.Stderr)
		}
	}
	after := w.sim.CallCounts()
	for _, a := range []string{"UploadCertificate", "ModifyListener", "ModifyDomainAttributes"} {
		if after[a] != before[a] {
			t.Errorf("running clbcert-deploy again called %s %d times", a, after[a]-before[a])
		}
	}
	check("the re-runs", both(rsa2, ecc2))
}

// A lineage alone on the host, ECDSA, issued by real certbot with clbcert-deploy as its
// deploy hook, meets single RSA bindings: with no RSA lineage beside it, it replaces them
// (rule 2b, a migration), keeping mutual TLS as it was; `clbcert rollback` then puts back the
// RSA certificate, mode MUTUAL, the CA and OPTIONAL verification, which a write of the
// certificate alone would have reset.
func TestLoneLineageMigratesAndRollsBack(t *testing.T) {
	names := []string{"example.test", "*.example.test"}
	handRSA := simtest.HandUploadedKeyUntil(t, "HandRSA", binding.RSA, time.Now().Add(10*24*time.Hour), names...)
	w := newWorld(t, tcsim.Options{
		Zones:        []tcsim.ZoneSpec{{Name: "example.test"}},
		Certificates: []tcsim.CertSpec{handRSA, simtest.ClientCA(t, "ClientCA")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gzlone1", Region: "ap-guangzhou", VIP: "127.0.0.52", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-mtls1", Protocol: "HTTPS", CertID: "HandRSA", SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL",
					Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "api.example.test", CertID: "HandRSA"}}},
			}},
		}},
		TaskDelay:        100 * time.Millisecond,
		PropagationDelay: time.Second,
	})
	places := []struct{ lbl, domain, sni string }{{"lbl-mtls1", "", "www.example.test"}, {"lbl-sni1", "api.example.test", "api.example.test"}}
	// check: every place holds only want, served to clients of alg without a client
	// certificate, and the mutual listener is MUTUAL with ClientCA and OPTIONAL.
	check := func(when, want string, alg binding.Algorithm, leaf string) {
		t.Helper()
		for _, p := range places {
			b, _ := w.sim.Binding("lb-gzlone1", p.lbl, p.domain)
			if len(b.CertIDs) != 1 || b.CertIDs[0] != want {
				t.Errorf("%s: %s/%s holds %v, want only %s", when, p.lbl, p.domain, b.CertIDs, want)
			}
			if got := leafFor(t, w.sim.ListenerAddr("lb-gzlone1", p.lbl), p.sni, alg); got != leaf {
				t.Errorf("%s: %s/%s serves %s clients %s…, want %s…", when, p.lbl, p.domain, alg, got[:12], leaf[:12])
			}
			if p.lbl == "lbl-mtls1" && (b.SSLMode != "MUTUAL" || b.CertCaID != "ClientCA" || b.SSLVerifyClient != "OPTIONAL") {
				t.Errorf("%s: the mutual listener is %s with CA %q and verification %q, want MUTUAL, ClientCA, OPTIONAL", when, b.SSLMode, b.CertCaID, b.SSLVerifyClient)
			}
		}
	}

	w.issue(t, "example.test", "clbcert-dns auth", []string{"--key-type", "ecdsa", "--deploy-hook", "clbcert-deploy"}, names...)
	leaf, err := w.certbot.Leaf("example.test")
	if err != nil {
		t.Fatal(err)
	}
	newID, _ := w.sim.Binding("lb-gzlone1", "lbl-sni1", "api.example.test")
	if len(newID.CertIDs) != 1 || newID.CertIDs[0] == "HandRSA" {
		t.Fatalf("after the ECDSA issuance api.example.test holds %v, want the new upload alone", newID.CertIDs)
	}
	check("after the lone ECDSA issuance", newID.CertIDs[0], binding.ECC, lineage.Fingerprint(leaf.Raw))

	if back := w.run(t, "clbcert", "rollback", "example.test"); back.Code != 0 {
		t.Fatalf("clbcert rollback: exit %d\n%s\n%s", back.Code, back.Stdout, back.Stderr)
	}
	check("after the rollback", "HandRSA", binding.RSA, specLeaf(t, handRSA))
}
