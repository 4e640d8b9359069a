package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// productsOptions: the old certificate of example.test and *.example.test (uploaded by hand)
// on 2 CLB listeners, 2 CDN domains, an EdgeOne host, a WAF domain and a COS domain; other.test's
// on a CDN domain that must not move.
func productsOptions(t *testing.T) tcsim.Options {
	other := simtest.Lineage(t, "other", "other.test")
	return tcsim.Options{
		Zones: []tcsim.ZoneSpec{{Name: "example.test"}},
		Certificates: []tcsim.CertSpec{
			simtest.HandUploadedUntil(t, "HandCrt1", time.Now().Add(10*24*time.Hour), "example.test", "*.example.test"),
			{ID: "OtherCrt", Alias: "uploaded by hand", CertPEM: other.FullchainPEM, KeyPEM: other.KeyPEM},
		},
		Topology: tcsim.Topology{
			LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-gzweb1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
			}}},
			CDNDomains: []tcsim.CDNDomainSpec{
				{Domain: "cdn.example.test", CertID: "HandCrt1", VIP: "127.0.0.41"},
				{Domain: "static.example.test", CertID: "HandCrt1", VIP: "127.0.0.42"},
				{Domain: "cdn.other.test", CertID: "OtherCrt", VIP: "127.0.0.43"},
			},
			EdgeOneZones: []tcsim.EdgeOneZoneSpec{{ID: "zone-exa00001", Hosts: []tcsim.EdgeOneHostSpec{{Host: "edge.example.test", CertID: "HandCrt1", VIP: "127.0.0.44"}}}},
			WAFDomains:   []tcsim.WAFDomainSpec{{Domain: "shop.example.test", Region: "ap-shanghai", CertID: "HandCrt1"}},
			Resources:    []tcsim.ResourceSpec{{Type: "cos", Region: "ap-guangzhou", InstanceID: "assets-1250000000", Domains: []string{"assets.example.test"}, CertID: "HandCrt1"}},
		},
		TaskDelay:        100 * time.Millisecond,
		ProductTaskDelay: 200 * time.Millisecond,
		PropagationDelay: time.Second,
	}
}

var (
	dataPlane = []struct{ typ, name string }{{"cdn", "cdn.example.test"}, {"cdn", "static.example.test"}, {"teo", "edge.example.test"}}
	others    = []struct{ typ, name string }{{"cdn", "cdn.example.test"}, {"cdn", "static.example.test"}, {"teo", "edge.example.test"}, {"waf", "shop.example.test"}, {"cos", "assets.example.test"}}
)

// certbot issues example.test and *.example.test with clbcert-deploy as its deploy hook and
// products = ["all"]: every CLB listener, CDN domain, EdgeOne host, WAF domain and COS domain
// that held the old certificate holds the new one, the CDN domains and the EdgeOne host serve
// its leaf, other.test's CDN domain keeps its own, status lists all seven places, and a
// rollback puts every product back.
func TestRenewReachesEveryProduct(t *testing.T) {
	w := newWorld(t, productsOptions(t))
	cfg := configtest.Write(t, "products = [\"all\"]\n", 0o600)
	w.env = append(w.env, "CLBCERT_CONFIG="+cfg)
	res := w.issue(t, "example.test", "clbcert-dns auth", []string{"--deploy-hook", "clbcert-deploy --config " + cfg}, "example.test", "*.example.test")
	leaf, err := w.certbot.Leaf("example.test")
	if err != nil {
		t.Fatal(err)
	}
	want := lineage.Fingerprint(leaf.Raw)
	for _, r := range dataPlane {
		if got := simtest.ServedLeaf(t, w.sim.ResourceAddr(r.typ, r.name), r.name); got != want {
			t.Errorf("%s %s serves %s…, not certbot's new leaf %s…", r.typ, r.name, got[:12], want[:12])
		}
	}
	for _, l := range []struct{ lbl, sni string }{{"lbl-https1", "www.example.test"}, {"lbl-tls1", "example.test"}} {
		if got := simtest.ServedLeaf(t, w.sim.ListenerAddr("lb-gzweb1", l.lbl), l.sni); got != want {
			t.Errorf("lb-gzweb1/%s serves %s…, not the new leaf", l.lbl, got[:12])
		}
	}
	newID := w.sim.ResourceCert("cdn", "cdn.example.test")
	for _, r := range others {
		if got := w.sim.ResourceCert(r.typ, r.name); got != newID || got == "HandCrt1" {
			t.Errorf("%s %s holds %s, want the new upload %s", r.typ, r.name, got, newID)
		}
	}
	if got := w.sim.ResourceCert("cdn", "cdn.other.test"); got != "OtherCrt" {
		t.Errorf("cdn.other.test holds %s", got)
	}
	if got := simtest.ServedLeaf(t, w.sim.ResourceAddr("cdn", "cdn.other.test"), "cdn.other.test"); got == want {
		t.Error("cdn.other.test serves example.test's leaf")
	}
	// The deploy hook's report, which certbot shows, names each resource.
	for _, r := range others {
		if !strings.Contains(res.Stdout+res.Stderr, r.name) {
			t.Errorf("certbot's output does not show the hook's report on %s:\n%s", r.name, res.Stdout)
		}
	}
	recordsSucceeded(t, w.sim, newID, 5)

	st := w.run(t, "clbcert", "status", "--certbot-dir", w.certbot.ConfigDir(), "--region", "ap-guangzhou", "--json")
	var doc struct {
		Lineages []struct {
			Name   string
			Served []struct{ Product, Target, CertID string }
		}
	}
	if err := json.Unmarshal([]byte(st.Stdout), &doc); err != nil || len(doc.Lineages) != 1 {
		t.Fatalf("clbcert status: %v\n%s\n%s", err, st.Stdout, st.Stderr)
	}
	var served []string
	for _, p := range doc.Lineages[0].Served {
		served = append(served, p.Target)
	}
	slices.Sort(served)
	wantServed := []string{"cdn cdn.example.test", "cdn static.example.test", "cos ap-guangzhou assets-1250000000/assets.example.test",
		"lb-gzweb1/lbl-https1", "lb-gzweb1/lbl-tls1", "teo zone-exa00001/edge.example.test", "waf ap-shanghai shop.example.test"}
	if !slices.Equal(served, wantServed) {
		t.Fatalf("status lists it served on\n%s\nwant\n%s", strings.Join(served, "\n"), strings.Join(wantServed, "\n"))
	}

	back := w.run(t, "clbcert", "rollback", "example.test")
	if back.Code != 0 {
		t.Fatalf("rollback: %+v", back)
	}
	for _, r := range others {
		if got := w.sim.ResourceCert(r.typ, r.name); got != "HandCrt1" {
			t.Errorf("after the rollback %s %s holds %s", r.typ, r.name, got)
		}
	}
	for _, lbl := range []string{"lbl-https1", "lbl-tls1"} {
		if got := w.sim.ServedCert("lb-gzweb1", lbl, ""); got != "HandCrt1" {
			t.Errorf("after the rollback lb-gzweb1/%s serves %s", lbl, got)
		}
	}
	if got := simtest.ServedLeaf(t, w.sim.ResourceAddr("teo", "edge.example.test"), "edge.example.test"); got == want {
		t.Error("after the rollback the EdgeOne host still serves the new leaf")
	}
}

// recordsSucceeded checks that the SSL service's update records moving resources to newID
// cover n resources, each ended in success (detail status 1).
func recordsSucceeded(t *testing.T, sim *tcsim.Sim, newID string, n int) {
	t.Helper()
	raw, err := sim.Dump()
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Products struct {
			UpdateRecords []struct {
				CertID  string
				Details []string
			}
		}
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, rec := range dump.Products.UpdateRecords {
		if rec.CertID != newID {
			continue
		}
		for _, d := range rec.Details {
			if !strings.Contains(d, " status 1 ") {
				t.Errorf("record detail %q did not succeed", d)
			}
			got++
		}
	}
	if got != n {
		t.Errorf("%d record details moved resources to %s, want %d", got, newID, n)
	}
}

// With products = ["clb"] (the default) only CLB moves, and doctor names each resource of
// the other products still on the old certificate, with the config line that takes them in.
func TestCLBOnlyAndDoctorNamesTheRest(t *testing.T) {
	w := newWorld(t, productsOptions(t))
	w.issue(t, "example.test", "clbcert-dns auth", []string{"--deploy-hook", "clbcert-deploy"}, "example.test", "*.example.test")
	leaf, err := w.certbot.Leaf("example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := simtest.ServedLeaf(t, w.sim.ListenerAddr("lb-gzweb1", "lbl-https1"), "www.example.test"); got != lineage.Fingerprint(leaf.Raw) {
		t.Fatal("CLB does not serve the new leaf")
	}
	for _, r := range others {
		if got := w.sim.ResourceCert(r.typ, r.name); got != "HandCrt1" {
			t.Errorf("%s %s moved to %s with products = [\"clb\"]", r.typ, r.name, got)
		}
	}
	if n := w.sim.Calls("UpdateCertificateInstance"); n != 0 {
		t.Errorf("UpdateCertificateInstance called %d times", n)
	}
	doc := w.run(t, "clbcert", "doctor", "--certbot-dir", w.certbot.ConfigDir(), "--region", "ap-guangzhou", "--json")
	var rep struct {
		Findings []struct{ Check, Problem, Fix string }
	}
	if err := json.Unmarshal([]byte(doc.Stdout), &rep); err != nil {
		t.Fatalf("doctor: %v\n%s\n%s", err, doc.Stdout, doc.Stderr)
	}
	var named []string
	for _, f := range rep.Findings {
		if f.Check != "products" {
			continue
		}
		if !strings.Contains(f.Fix, `products = ["cdn", "clb", "cos", "teo", "waf"]`) || !strings.Contains(f.Problem, "HandCrt1") {
			t.Errorf("finding %+v", f)
		}
		named = append(named, f.Problem)
	}
	for _, r := range others {
		if !slices.ContainsFunc(named, func(p string) bool { return strings.Contains(p, r.typ+" ") && strings.Contains(p, r.name) }) {
			t.Errorf("doctor does not name %s %s:\n%s", r.typ, r.name, strings.Join(named, "\n"))
		}
	}
	if slices.ContainsFunc(named, func(p string) bool { return strings.Contains(p, "other.test") }) {
		t.Errorf("doctor names other.test's CDN domain:\n%s", strings.Join(named, "\n"))
	}
}
