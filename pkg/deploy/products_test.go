package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// productsAccount: example.test's old certificate on two CLB targets, two CDN domains, an
// EdgeOne host, a WAF domain and a COS domain; other.test's on a CDN domain of its own.
func productsAccount(t *testing.T) tcsim.Options {
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{
			LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "example.test", CertID: "HandCrt1"}}},
			}}},
			CDNDomains: []tcsim.CDNDomainSpec{
				{Domain: "cdn.example.test", CertID: "HandCrt1"},
				{Domain: "static.example.test", CertID: "HandCrt1"},
				{Domain: "cdn.other.test", CertID: "OtherCrt"},
			},
			EdgeOneZones: []tcsim.EdgeOneZoneSpec{{ID: "zone-exa00001", Hosts: []tcsim.EdgeOneHostSpec{{Host: "edge.example.test", CertID: "HandCrt1"}}}},
			WAFDomains:   []tcsim.WAFDomainSpec{{Domain: "shop.example.test", Region: "ap-shanghai", CertID: "HandCrt1"}},
			Resources:    []tcsim.ResourceSpec{{Type: "cos", Region: "ap-guangzhou", InstanceID: "assets-1250000000", Domains: []string{"assets.example.test"}, CertID: "HandCrt1"}},
		},
		TaskDelay: 20 * time.Millisecond,
	}
}

var allProducts = []string{"apigateway", "cdn", "clb", "cos", "ddos", "gaap", "live", "mqtt", "scf", "tcb", "tdmq", "teo", "tke", "tse", "vod", "waf"}

var exampleResources = []string{"cdn cdn.example.test", "cdn static.example.test", "cos ap-guangzhou assets-1250000000/assets.example.test", "teo zone-exa00001/edge.example.test", "waf ap-shanghai shop.example.test"}

func resourcesWith(rs []deploy.ResourceResult, status string) []string {
	var out []string
	for _, r := range rs {
		if r.Status == status {
			out = append(out, r.Resource.String())
		}
	}
	slices.Sort(out)
	return out
}

// heldBy lists the other products' resources that hold certificate id.
func heldBy(sim *tcsim.Sim, id string) []string {
	var out []string
	for _, r := range sim.Resources() {
		if r.CertID == id {
			out = append(out, r.Type+" "+strings.Join(r.Domains, ","))
		}
	}
	slices.Sort(out)
	return out
}

var exampleHeld = []string{"cdn cdn.example.test", "cdn static.example.test", "cos assets.example.test", "teo edge.example.test", "waf shop.example.test"}

func TestDeployMovesEveryProduct(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	st := newStore(t)
	ctx := context.Background()

	dry, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts, DryRun: true}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(dry.Resources, deploy.StatusPlanned); !slices.Equal(got, exampleResources) {
		t.Fatalf("dry run plans %v, want %v", got, exampleResources)
	}
	if n := mutations(sim) + sim.Calls("UpdateCertificateInstance"); n != 0 {
		t.Fatalf("the dry run changed things: %v", sim.CallCounts())
	}

	rep, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(rep.Resources, deploy.StatusUpdated); !slices.Equal(got, exampleResources) {
		t.Fatalf("moved %v, want %v", got, exampleResources)
	}
	for _, r := range rep.Resources {
		if r.Before != "HandCrt1" {
			t.Errorf("%s: before %q, want HandCrt1", r.Resource, r.Before)
		}
	}
	if got := targetsWith(rep, deploy.StatusUpdated); len(got) != 2 {
		t.Fatalf("CLB targets updated: %v", got)
	}
	if got := heldBy(sim, rep.CertID); !slices.Equal(got, exampleHeld) {
		t.Fatalf("the new upload %s is held by %v, want %v", rep.CertID, got, exampleHeld)
	}
	if got := heldBy(sim, "OtherCrt"); !slices.Equal(got, []string{"cdn cdn.other.test"}) {
		t.Fatalf("other.test's certificate is held by %v", got)
	}
	if !sim.ExpiryNoticesMuted("HandCrt1") {
		t.Error("the old certificate's expiry notices are still on")
	}
	// The SSL service was given our upload's id, never the PEMs: one upload in all.
	if sim.UploadCount() != 1 {
		t.Fatalf("%d uploads, want 1", sim.UploadCount())
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PRODUCT", "REGION", "RESOURCE", "BEFORE", "STATUS", "teo      -             zone-exa00001/edge.example.test"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	again, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(again.Resources, deploy.StatusUnchanged); !slices.Equal(got, exampleResources) {
		t.Fatalf("a re-run finds %v already there, want %v (report %+v)", got, exampleResources, again.Resources)
	}
	if again.Uploaded || sim.UploadCount() != 1 {
		t.Fatal("the re-run uploaded again")
	}
}

// By default nothing but CLB changes, and the SSL service is not even asked where
// certificates are bound.
func TestDeployDefaultsToCLBOnly(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	rep, err := newDeployer(t, sim, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Resources) != 0 || len(targetsWith(rep, deploy.StatusUpdated)) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	if got := heldBy(sim, "HandCrt1"); !slices.Equal(got, exampleHeld) {
		t.Fatalf("the old certificate is held by %v only", got)
	}
	for _, a := range []string{"CreateCertificateBindResourceSyncTask", "UpdateCertificateInstance"} {
		if n := sim.Calls(a); n != 0 {
			t.Errorf("%s called %d times", a, n)
		}
	}
}

// Only the chosen products move: with cdn, the EdgeOne, WAF and COS resources stay.
func TestDeployMovesOnlyTheChosenProducts(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	rep, err := newDeployer(t, sim, deploy.Options{Products: []string{"cdn", "clb"}}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(rep.Resources, deploy.StatusUpdated); !slices.Equal(got, []string{"cdn cdn.example.test", "cdn static.example.test"}) {
		t.Fatalf("moved %v", got)
	}
	if got := heldBy(sim, "HandCrt1"); !slices.Equal(got, []string{"cos assets.example.test", "teo edge.example.test", "waf shop.example.test"}) {
		t.Fatalf("the old certificate is held by %v", got)
	}
}

func TestDeployProductFaults(t *testing.T) {
	opts := productsAccount(t)
	opts.Topology.CDNDomains[0].Fault = tcsim.FaultOnce
	opts.Topology.CDNDomains[1].Fault = tcsim.FaultAlways
	sim := simtest.Start(t, opts)
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	st := newStore(t)
	ctx := context.Background()
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Deploy(ctx, renewed)
	if err == nil || !strings.Contains(err.Error(), "1 of 5 resources of other products failed (cdn static.example.test)") || !strings.Contains(err.Error(), "run clbcert-deploy again") {
		t.Fatalf("err = %v", err)
	}
	if got := resourcesWith(rep.Resources, deploy.StatusFailed); !slices.Equal(got, []string{"cdn static.example.test"}) {
		t.Fatalf("failed %v", got)
	}
	if got := resourcesWith(rep.Resources, deploy.StatusUpdated); len(got) != 4 || !slices.Contains(got, "cdn cdn.example.test") {
		t.Fatalf("moved %v: the resource that failed once was not retried", got)
	}
	if sim.Calls("UpdateCertificateRecordRetry") == 0 {
		t.Error("no retry")
	}
	if err := sim.SetResourceFault("cdn", "static.example.test", tcsim.FaultNone); err != nil {
		t.Fatal(err)
	}
	again, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(again.Resources, deploy.StatusUpdated); !slices.Equal(got, []string{"cdn static.example.test"}) {
		t.Fatalf("the re-run moved %v", got)
	}
	if again.Uploaded || sim.UploadCount() != 1 {
		t.Fatal("the re-run uploaded again")
	}
	if got := heldBy(sim, again.CertID); !slices.Equal(got, exampleHeld) {
		t.Fatalf("after the re-run the upload is held by %v", got)
	}
}

// Without the SSL service's role the other products are left alone with an error that says
// how to grant it, and CLB is deployed all the same.
func TestDeployRoleMissingStillDeploysCLB(t *testing.T) {
	opts := productsAccount(t)
	opts.Topology.SSLRoleMissing = true
	sim := simtest.Start(t, opts)
	rep, err := newDeployer(t, sim, deploy.Options{Products: allProducts}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if !errors.Is(err, ssl.ErrRoleMissing) && (err == nil || !strings.Contains(err.Error(), ssl.RoleName)) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "CAM console") || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("err = %v", err)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); len(got) != 2 {
		t.Fatalf("CLB targets updated: %v", got)
	}
	if got := heldBy(sim, "HandCrt1"); !slices.Equal(got, exampleHeld) {
		t.Fatalf("the old certificate is held by %v", got)
	}
}

// deployedToEveryProduct is the products account with example.test's renewal deployed to CLB
// and every other product, and the store that recorded it.
func deployedToEveryProduct(t *testing.T) (*tcsim.Sim, *store.Store, *deploy.Report) {
	t.Helper()
	sim := simtest.Start(t, productsAccount(t))
	st := newStore(t)
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	return sim, st, rep
}

func TestRollbackMovesProductsBack(t *testing.T) {
	sim, st, rep := deployedToEveryProduct(t)
	ctx := context.Background()
	if got, err := deploy.RecordedProducts(st, "example.test"); err != nil || !slices.Equal(got, []string{"cdn", "cos", "teo", "waf"}) {
		t.Fatalf("RecordedProducts = %v, %v", got, err)
	}
	dry, err := newDeployerWith(t, sim, st, deploy.Options{DryRun: true, Products: allProducts}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, r := range dry.Resources {
		if r.Status == deploy.StatusPlanned && r.To == "HandCrt1" && r.Before == rep.CertID {
			planned = append(planned, r.Resource.String())
		}
	}
	if slices.Sort(planned); !slices.Equal(planned, exampleResources) {
		t.Fatalf("the dry rollback plans %v", dry.Resources)
	}
	back, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, r := range back.Resources {
		if r.Status == deploy.StatusUpdated {
			moved = append(moved, r.Resource.String())
		}
	}
	if slices.Sort(moved); !slices.Equal(moved, exampleResources) {
		t.Fatalf("rolled back %+v", back.Resources)
	}
	if got := heldBy(sim, "HandCrt1"); !slices.Equal(got, exampleHeld) {
		t.Fatalf("after the rollback the old certificate is held by %v", got)
	}
	if id := sim.ServedCert("lb-gz1", "lbl-https1", ""); id != "HandCrt1" {
		t.Fatalf("CLB serves %s after the rollback", id)
	}
	second, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Rollback(ctx, "example.test")
	if err != nil || second.Note == "" {
		t.Fatalf("a second rollback: %+v, %v", second, err)
	}
}

// Prune never deletes an upload a CDN domain still holds, though clbcert deploys to CLB only.
func TestPruneKeepsAnUploadBoundOnCDN(t *testing.T) {
	sim, st, first := deployedToEveryProduct(t)
	ctx := context.Background()
	// The next two renewals go to CLB only (forced: the corpus's certificates end in 2125):
	// the CDN domains keep the first upload, which no CLB rollback needs any more.
	now := time.Now()
	for i := range 2 {
		from := now.Add(time.Duration(i-2) * time.Hour)
		next := simtest.IssueLineage(t, t.TempDir(), "example.test", from, from.Add(90*24*time.Hour), "example.test", "*.example.test")
		if _, err := newDeployerWith(t, sim, st, deploy.Options{Force: true}).Deploy(ctx, next); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Keep: deploy.KeepNone}).Prune(ctx, []string{"example.test"})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Lineages[0]
	if len(l.Deleted) != 0 {
		t.Fatalf("deleted %v", l.Deleted)
	}
	i := slices.IndexFunc(l.Kept, func(c deploy.PrunedCert) bool { return c.ID == first.CertID })
	if i < 0 || l.Kept[i].Reason != deploy.KeptBound || !strings.Contains(l.Kept[i].Detail, "cdn cdn.example.test") {
		t.Fatalf("kept %+v", l.Kept)
	}
}

// On the international site the same goes through the intl hosts, which tcsim answers only
// for the actions that site has.
func TestDeployProductsOnTheIntlSite(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	st := newStore(t)
	cfg := simtest.Config(t, sim)
	cfg.Site = tencent.SiteIntl
	d, err := deploy.New(cfg, st, deploy.Options{Regions: []string{"ap-guangzhou"}, Products: ssl.Types(tencent.SiteIntl), TaskPoll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(rep.Resources, deploy.StatusUpdated); !slices.Equal(got, exampleResources) {
		t.Fatalf("moved %v", got)
	}
}

// An operator's RSA + ECDSA pair of lineages with products: each renewal moves the CDN
// domains of its own key algorithm and leaves the other's to its lineage. Moving them all
// would take RSA from the RSA domain at every ECDSA renewal (and back at every RSA one),
// locking out the clients that speak RSA only.
func TestDeployLeavesTheOtherAlgorithmToItsLineage(t *testing.T) {
	names := []string{"example.test", "*.example.test"}
	soon := time.Now().Add(10 * 24 * time.Hour)
	opts := simtest.DualTargets(t,
		simtest.HandUploadedKeyUntil(t, "HandRSA", binding.RSA, soon, names...),
		simtest.HandUploadedKeyUntil(t, "HandECC", binding.ECC, soon, names...))
	opts.Topology.CDNDomains = []tcsim.CDNDomainSpec{{Domain: "rsa.example.test", CertID: "HandRSA"}, {Domain: "ecc.example.test", CertID: "HandECC"}}
	sim := simtest.Start(t, opts)
	certbot := t.TempDir()
	start := time.Now().Add(-time.Hour)
	st := newStore(t)
	issue := func(name string, alg binding.Algorithm, days int) *lineage.Lineage {
		lin, err := lineage.Load(simtest.IssueKey(t, certbot, name, alg, start, start.Add(time.Duration(days)*24*time.Hour), names...), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return lin
	}
	rsaLin, eccLin := issue("example.test", binding.RSA, 60), issue("example.test-ecdsa", binding.ECC, 61)
	want := map[string]string{"rsa.example.test": "HandRSA", "ecc.example.test": "HandECC"}
	for i, step := range []struct {
		lin    func() *lineage.Lineage
		domain string
	}{
		{func() *lineage.Lineage { return rsaLin }, "rsa.example.test"},
		{func() *lineage.Lineage { return eccLin }, "ecc.example.test"},
		{func() *lineage.Lineage { return issue("example.test", binding.RSA, 62) }, "rsa.example.test"}, // renewed
	} {
		lin := step.lin()
		rep, err := newDeployerWith(t, sim, st, deploy.Options{Regions: []string{"ap-guangzhou"}, Products: []string{"clb", "cdn"}}).Deploy(context.Background(), lin)
		if err != nil {
			t.Fatalf("deploy %s: %v", lin.Name, err)
		}
		want[step.domain] = rep.CertID
		for domain, id := range want {
			if got := heldBy(sim, id); !slices.Equal(got, []string{"cdn " + domain}) {
				t.Errorf("step %d, %s: %s is held by %v, want cdn %s", i, lin.Name, id, got, domain)
			}
		}
	}
}
