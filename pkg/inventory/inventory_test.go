package inventory_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// account: example.test's certificate on a non-SNI HTTPS listener, an SNI
// domain (two rules), a TCP_SSL and a QUIC listener; other.test's on
// another SNI domain; an HTTP listener without any; and lb-gz2, whose every
// call fails.
func account(t *testing.T) tcsim.Options {
	interval := 10
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Name: "web", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "HandCrt1", BalancingSpec: tcsim.BalancingSpec{
						Scheduler: "IP_HASH", SessionExpireTime: 60, HealthCheck: &tcsim.HealthCheckSpec{IntervalTime: interval, HTTPCheckPath: "/healthz", CheckType: "HTTP"}}},
					{Domain: "example.test", URL: "/api"},
					{Domain: "other.test", CertID: "OtherCrt"}}},
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1", BalancingSpec: tcsim.BalancingSpec{Scheduler: "LEAST_CONN"}},
				{ID: "lbl-http1", Protocol: "HTTP", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
			{ID: "lb-gz2", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-broken1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
			{ID: "lb-sh1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-quic1", Protocol: "QUIC", CertID: "HandCrt1"},
			}},
		}},
		FailingLBs: []string{"lb-gz2"},
	}
}

// config reaches sim and gives up on a failing call quickly: lb-gz2
// answers InternalError, which is retried.
func config(t *testing.T, sim *tcsim.Sim) tencent.Config {
	cfg := simtest.Config(t, sim)
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 2, Base: time.Millisecond, Cap: time.Millisecond}
	return cfg
}

func collect(t *testing.T, sim *tcsim.Sim, opts inventory.Options, regions ...string) *inventory.Inventory {
	t.Helper()
	c, err := inventory.New(config(t, sim), opts)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Collect(context.Background(), regions)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestCollectBindings(t *testing.T) {
	sim := simtest.Start(t, account(t))
	inv := collect(t, sim, inventory.Options{}, "ap-guangzhou", "ap-shanghai")

	addr := func(lb, lbl string) string { return sim.ListenerAddr(lb, lbl) }
	want := []struct {
		region, target, protocol, cert, serverName, addr string
	}{
		{"ap-guangzhou", "lb-gz1/lbl-https1", "HTTPS", "HandCrt1", "www.example.test", addr("lb-gz1", "lbl-https1")},
		{"ap-guangzhou", "lb-gz1/lbl-sni1/example.test", "HTTPS", "HandCrt1", "example.test", addr("lb-gz1", "lbl-sni1")},
		{"ap-guangzhou", "lb-gz1/lbl-sni1/other.test", "HTTPS", "OtherCrt", "other.test", addr("lb-gz1", "lbl-sni1")},
		{"ap-guangzhou", "lb-gz1/lbl-tls1", "TCP_SSL", "HandCrt1", "", addr("lb-gz1", "lbl-tls1")},
		{"ap-shanghai", "lb-sh1/lbl-quic1", "QUIC", "HandCrt1", "", ""}, // UDP: no TLS handshake over TCP
	}
	got := inv.Bindings()
	if len(got) != len(want) {
		t.Fatalf("%d bindings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		b := got[i]
		if b.Region != w.region || b.String() != w.target || b.Protocol != w.protocol || b.CertID() != w.cert || b.ServerName != w.serverName || b.Addr != w.addr {
			t.Errorf("binding %d = %s %s %s cert %s name %q addr %q, want %+v", i, b.Region, b, b.Protocol, b.CertID(), b.ServerName, b.Addr, w)
		}
	}

	if len(inv.Failures) != 1 || inv.Failures[0].LoadBalancerID != "lb-gz2" || inv.Failures[0].Region != "ap-guangzhou" || !strings.Contains(inv.Failures[0].Error, "InternalError") {
		t.Fatalf("failures = %+v, want lb-gz2's InternalError", inv.Failures)
	}
	var lbs []string
	for _, lb := range inv.LoadBalancers {
		lbs = append(lbs, lb.ID)
	}
	if strings.Join(lbs, " ") != "lb-gz1 lb-sh1" {
		t.Fatalf("load balancers %v, want the readable lb-gz1 and lb-sh1", lbs)
	}
	if got := inv.LoadBalancers[0]; got.Name != "web" || len(got.VIPs) != 1 || got.VIPs[0] != "127.0.0.11" || len(got.Listeners) != 4 {
		t.Fatalf("lb-gz1 = %+v", got)
	}
}

// Scheduler, session persistence and health check come through per
// listener (layer 4) and per rule (layer 7).
func TestCollectBalancing(t *testing.T) {
	sim := simtest.Start(t, account(t))
	inv := collect(t, sim, inventory.Options{}, "ap-guangzhou")
	listeners := map[string]inventory.Listener{}
	for _, l := range inv.LoadBalancers[0].Listeners {
		listeners[l.ID] = l
	}
	tls := listeners["lbl-tls1"]
	if tls.Scheduler != "LEAST_CONN" || tls.SessionExpireTime != 0 || len(tls.Rules) != 0 {
		t.Errorf("TCP_SSL listener: scheduler %q, session %d, rules %d", tls.Scheduler, tls.SessionExpireTime, len(tls.Rules))
	}
	sni := listeners["lbl-sni1"]
	if !sni.SNI || sni.Certificate != nil || len(sni.Rules) != 3 {
		t.Fatalf("SNI listener = %+v", sni)
	}
	r := sni.Rules[0]
	if r.Domain != "example.test" || r.URL != "/" || r.Scheduler != "IP_HASH" || r.SessionExpireTime != 60 || r.LocationID == "" {
		t.Errorf("rule = %+v", r)
	}
	if hc := r.HealthCheck; hc == nil || !hc.On || hc.IntervalTime != 10 || hc.HTTPCheckPath != "/healthz" || hc.CheckType != "HTTP" {
		t.Errorf("health check = %+v", hc)
	}
	// The second rule of a domain shares its certificate.
	if c := sni.Rules[1].Certificate; c == nil || c.ID != "HandCrt1" || sni.Rules[1].URL != "/api" {
		t.Errorf("second rule of example.test = %+v", sni.Rules[1])
	}
	if c := sni.CertificateFor("OTHER.test"); c == nil || c.ID != "OtherCrt" || c.SSLMode != "UNIDIRECTIONAL" {
		t.Errorf("CertificateFor(other.test) = %+v", c)
	}
	if c := listeners["lbl-https1"].CertificateFor(""); c == nil || c.ID != "HandCrt1" {
		t.Errorf("listener certificate = %+v", c)
	}
	if http := listeners["lbl-http1"]; http.Certificate != nil || len(http.Rules) != 1 {
		t.Errorf("HTTP listener = %+v", http)
	}
}

func TestCollectCertificates(t *testing.T) {
	sim := simtest.Start(t, account(t))
	example, other := simtest.Lineage(t, "good-ecdsa", "example.test"), simtest.Lineage(t, "other", "other.test")
	sha1Of := func(der []byte) string { s := sha1.Sum(der); return hex.EncodeToString(s[:]) }
	tests := []struct {
		name         string
		opts         inventory.Options
		fingerprints bool
		detailCalls  int
	}{
		{name: "names and dates only", opts: inventory.Options{}, detailCalls: 0},
		{name: "with fingerprints", opts: inventory.Options{Fingerprints: true}, fingerprints: true, detailCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sim.Calls("DescribeCertificateDetail")
			inv := collect(t, sim, tt.opts, "ap-guangzhou", "ap-shanghai")
			if n := sim.Calls("DescribeCertificateDetail") - before; n != tt.detailCalls {
				t.Errorf("%d DescribeCertificateDetail calls, want %d", n, tt.detailCalls)
			}
			if len(inv.Certificates) != 2 {
				t.Fatalf("certificates = %+v", inv.Certificates)
			}
			for _, c := range []struct {
				id                  string
				leaf                []byte
				fp                  string
				names               string
				notBefore, notAfter string
			}{
				{"HandCrt1", example.Leaf.Raw, example.Fingerprint, "*.example.test example.test", example.Leaf.NotBefore.UTC().String(), example.Leaf.NotAfter.UTC().String()},
				{"OtherCrt", other.Leaf.Raw, other.Fingerprint, "other.test", other.Leaf.NotBefore.UTC().String(), other.Leaf.NotAfter.UTC().String()},
			} {
				got := inv.Certificates[c.id]
				if joined := strings.Join(slices.Sorted(slices.Values(got.Names)), " "); joined != c.names {
					t.Errorf("%s names %q, want %q", c.id, joined, c.names)
				}
				if got.NotBefore.UTC().String() != c.notBefore || got.NotAfter.UTC().String() != c.notAfter || got.Alias != "uploaded by hand" {
					t.Errorf("%s = %+v", c.id, got)
				}
				same, known := got.SameLeaf(c.leaf)
				if known != tt.fingerprints || same != tt.fingerprints {
					t.Errorf("%s SameLeaf = %v, %v", c.id, same, known)
				}
				if tt.fingerprints && (got.Fingerprint != c.fp || got.FingerprintSHA1 != sha1Of(c.leaf)) {
					t.Errorf("%s fingerprints %s / %s", c.id, got.Fingerprint, got.FingerprintSHA1)
				}
				if other, _ := got.SameLeaf([]byte("another certificate")); other {
					t.Errorf("%s matches any leaf", c.id)
				}
			}
		})
	}
}

// A region whose load balancers cannot be listed is one failure; a
// certificate whose details cannot be read is another, and the rest is
// still there.
func TestCollectFailures(t *testing.T) {
	sim := simtest.Start(t, account(t))
	sim.FailNext("DescribeLoadBalancers", "AuthFailure.UnauthorizedOperation", 1)
	sim.FailNext("DescribeCertificateDetail", "FailedOperation.CertificateNotFound", 1)
	inv := collect(t, sim, inventory.Options{Fingerprints: true}, "ap-shanghai", "ap-guangzhou")
	if len(inv.Failures) != 3 {
		t.Fatalf("failures = %+v, want the region, lb-gz2 and one certificate", inv.Failures)
	}
	if f := inv.Failures[0]; f.Where() != "ap-shanghai (every load balancer)" || !strings.Contains(f.Error, "UnauthorizedOperation") {
		t.Errorf("region failure = %q: %+v", f.Where(), f)
	}
	if f := inv.Failures[1]; f.Where() != "ap-guangzhou lb-gz2" {
		t.Errorf("load balancer failure = %q: %+v", f.Where(), f)
	}
	// Which certificate's details fail depends on which is asked first.
	failed := inv.Failures[2].CertificateID
	if f := inv.Failures[2]; f.Where() != "certificate "+failed || !strings.Contains(f.Error, "CertificateNotFound") {
		t.Errorf("certificate failure = %q: %+v", f.Where(), f)
	}
	for id, c := range inv.Certificates {
		if got, want := c.Fingerprint == "", id == failed; got != want || len(c.Names) == 0 {
			t.Errorf("%s = %+v: want it listed, with a fingerprint unless its details failed", id, c)
		}
	}
}

// Bound load balancers and listing by alias, which prune relies on.
func TestBoundAndByAlias(t *testing.T) {
	sim := simtest.Start(t, account(t))
	c, err := inventory.New(config(t, sim), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bound, err := c.BoundLoadBalancers(ctx, "ap-shanghai", []string{"HandCrt1", "OtherCrt"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(bound["HandCrt1"], " ") != "lb-sh1" || len(bound["OtherCrt"]) != 0 {
		t.Fatalf("bound in ap-shanghai = %v", bound)
	}
	byAlias, err := c.CertificatesByAlias(ctx, "uploaded by")
	if err != nil || len(byAlias) != 2 {
		t.Fatalf("by alias: %+v, %v", byAlias, err)
	}
	if none, err := c.CertificatesByAlias(ctx, "clbcert/"); err != nil || len(none) != 0 {
		t.Fatalf("clbcert/ uploads: %+v, %v", none, err)
	}
}

// Every member of a dual binding and the client CA of a MUTUAL one are
// described with the server certificates, so that doctor and status can
// judge each.
func TestCollectMembersAndClientCA(t *testing.T) {
	until := time.Now().AddDate(0, 2, 0)
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploadedKeyUntil(t, "RsaCrt01", binding.RSA, until, "example.test"),
			simtest.HandUploadedKeyUntil(t, "EccCrt01", binding.ECC, until, "example.test"),
			simtest.ClientCA(t, "ClientCA"),
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-dual1", Protocol: "TCP_SSL", CertID: "RsaCrt01", ExtCertIDs: []string{"EccCrt01"}, SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL"},
		}}}},
	})
	inv := collect(t, sim, inventory.Options{}, "ap-guangzhou")
	got := slices.Sorted(maps.Keys(inv.Certificates))
	if want := []string{"ClientCA", "EccCrt01", "RsaCrt01"}; !slices.Equal(got, want) {
		t.Fatalf("certificates %v, want %v", got, want)
	}
	if ca := inv.Certificates["ClientCA"]; ca.NotAfter.IsZero() {
		t.Errorf("client CA without dates: %+v", ca)
	}
}
