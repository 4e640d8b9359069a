package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Issue with the DNS hooks, then renew with the deploy hook: after each run
// every listener and SNI domain that served example.test serves the new
// leaf, in two regions and three load balancers, and other.test keeps its own.
func TestRenewDeploysEverywhere(t *testing.T) {
	other := simtest.Lineage(t, "other", "other.test")
	w := newWorld(t, tcsim.Options{
		Zones: []tcsim.ZoneSpec{{Name: "example.test"}},
		Certificates: []tcsim.CertSpec{
			simtest.HandUploadedUntil(t, "HandCrt1", time.Now().Add(10*24*time.Hour), "example.test", "*.example.test"),
			{ID: "OtherCrt", Alias: "uploaded by hand", CertPEM: other.FullchainPEM, KeyPEM: other.KeyPEM},
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gzweb1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "HandCrt1"}, {Domain: "api.example.test", CertID: "HandCrt1"}, {Domain: "other.test", CertID: "OtherCrt"}}},
			}},
			{ID: "lb-gzmq1", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
				{ID: "lbl-quic1", Protocol: "QUIC", CertID: "HandCrt1"},
			}},
			{ID: "lb-shweb1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-sni2", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "*.example.test", CertID: "HandCrt1"}}},
				{ID: "lbl-other1", Protocol: "HTTPS", CertID: "OtherCrt", Rules: []tcsim.RuleSpec{{Domain: "other.test"}}},
			}},
		}},
		TaskDelay:        100 * time.Millisecond,
		PropagationDelay: time.Second,
	})

	matching := []struct{ lb, lbl, sni string }{
		{"lb-gzweb1", "lbl-https1", "www.example.test"},
		{"lb-gzweb1", "lbl-sni1", "example.test"},
		{"lb-gzweb1", "lbl-sni1", "api.example.test"},
		{"lb-gzmq1", "lbl-tls1", "example.test"},
		{"lb-shweb1", "lbl-sni2", "x.example.test"},
	}
	untouched := []struct{ lb, lbl, sni string }{
		{"lb-gzweb1", "lbl-sni1", "other.test"},
		{"lb-shweb1", "lbl-other1", "other.test"},
	}
	check := func(run string) {
		t.Helper()
		leaf, err := w.certbot.Leaf("example.test")
		if err != nil {
			t.Fatal(err)
		}
		want := lineage.Fingerprint(leaf.Raw)
		for _, m := range matching {
			if got := simtest.ServedLeaf(t, w.sim.ListenerAddr(m.lb, m.lbl), m.sni); got != want {
				t.Errorf("after %s: %s/%s (SNI %s) serves %s…, not certbot's new leaf %s…", run, m.lb, m.lbl, m.sni, got[:12], want[:12])
			}
		}
		for _, u := range untouched {
			if got := simtest.ServedLeaf(t, w.sim.ListenerAddr(u.lb, u.lbl), u.sni); got != other.Fingerprint {
				t.Errorf("after %s: %s/%s (SNI %s) no longer serves other.test's certificate", run, u.lb, u.lbl, u.sni)
			}
		}
	}

	w.issue(t, "example.test", "clbcert-dns auth", []string{"--deploy-hook", "clbcert-deploy"}, "example.test", "*.example.test")
	check("issuance")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := w.certbot.Run(ctx, "renew", "--force-renewal", "--cert-name", "example.test", "--deploy-hook", "clbcert-deploy"); err != nil {
		t.Fatal(err)
	}
	check("renewal")
	if n := w.sim.UploadCount(); n != 2 {
		t.Fatalf("%d uploads for two certificates", n)
	}
}
