package deploy_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// dualAccount: example.test's hand-uploaded RSA and ECC certificates, expiring in ten days, on
// a dual listener, a dual SNI domain, a single-RSA SNI domain and a MUTUAL + OPTIONAL listener
// with the RSA one only.
func dualAccount(t *testing.T) tcsim.Options {
	names := []string{"example.test", "*.example.test"}
	soon := time.Now().Add(10 * 24 * time.Hour)
	return simtest.DualTargets(t,
		simtest.HandUploadedKeyUntil(t, "HandRSA", binding.RSA, soon, names...),
		simtest.HandUploadedKeyUntil(t, "HandECC", binding.ECC, soon, names...))
}

// bound is a binding as tcsim serves it, for comparing.
func boundAt(t *testing.T, sim *tcsim.Sim, lbl, domain string) tcsim.Binding {
	t.Helper()
	b, ok := sim.Binding("lb-dual1", lbl, domain)
	if !ok {
		t.Fatalf("lb-dual1/%s/%s: no such listener", lbl, domain)
	}
	return b
}

func wantBinding(ids ...string) tcsim.Binding {
	return tcsim.Binding{CertIDs: slices.Sorted(slices.Values(ids)), SSLMode: "UNIDIRECTIONAL"}
}

func mutualBinding(ids ...string) tcsim.Binding {
	return tcsim.Binding{CertIDs: slices.Sorted(slices.Values(ids)), SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL"}
}

func checkBindings(t *testing.T, sim *tcsim.Sim, when string, want map[[2]string]tcsim.Binding) {
	t.Helper()
	for where, w := range want {
		if got := boundAt(t, sim, where[0], where[1]); !slices.Equal(got.CertIDs, w.CertIDs) || got.SSLMode != w.SSLMode || got.CertCaID != w.CertCaID || got.SSLVerifyClient != w.SSLVerifyClient {
			t.Errorf("%s: lb-dual1/%s/%s holds %+v, want %+v", when, where[0], where[1], got, w)
		}
	}
}

func deployed(t *testing.T, sim *tcsim.Sim, st *store.Store, lin *lineage.Lineage) *deploy.Report {
	t.Helper()
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Regions: []string{"ap-guangzhou"}}).Deploy(context.Background(), lin)
	if err != nil {
		t.Fatalf("deploy %s: %v\n%+v", lin.Name, err, rep)
	}
	for _, tr := range rep.Targets {
		if tr.Status == deploy.StatusUpdated && tr.Verified != "tls" {
			t.Errorf("deploy %s: %s verified %q, want TLS handshakes", lin.Name, tr.Address, tr.Verified)
		}
	}
	return rep
}

// An operator's RSA + ECDSA pair of lineages: each renewal replaces its own member and keeps
// the other; the RSA-only SNI domain becomes a pair once the ECDSA lineage is there to renew
// the second member; mutual TLS stays OPTIONAL; running again changes nothing; rollback
// of the ECDSA lineage puts back what it replaced and removes what it added.
func TestDeployDualPairs(t *testing.T) {
	sim := simtest.Start(t, dualAccount(t))
	certbot := t.TempDir()
	start, end := time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour)
	names := []string{"example.test", "*.example.test"}
	rsaLin, err := lineage.Load(simtest.IssueKey(t, certbot, "example.test", binding.RSA, start, end, names...), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t)

	// Only the RSA lineage exists yet: the RSA member moves, the ECC one stays.
	rep := deployed(t, sim, st, rsaLin)
	newRSA := rep.CertID
	checkBindings(t, sim, "after the RSA lineage", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding(newRSA, "HandECC"), {"lbl-sni1", "example.test"}: wantBinding(newRSA, "HandECC"),
		{"lbl-sni1", "api.example.test"}: wantBinding(newRSA), {"lbl-mtls1", ""}: mutualBinding(newRSA),
	})
	for _, tr := range rep.Targets {
		if tr.Outcome != binding.Replaced {
			t.Errorf("RSA lineage on %s: outcome %s, want replaced", tr.Address, tr.Outcome)
		}
	}

	ecdsaLin, err := lineage.Load(simtest.IssueKey(t, certbot, "example.test-ecdsa", binding.ECC, start, end, names...), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep = deployed(t, sim, st, ecdsaLin)
	newECC := rep.CertID
	checkBindings(t, sim, "after the ECDSA lineage", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding(newRSA, newECC), {"lbl-sni1", "example.test"}: wantBinding(newRSA, newECC),
		{"lbl-sni1", "api.example.test"}: wantBinding(newRSA, newECC), {"lbl-mtls1", ""}: mutualBinding(newRSA, newECC),
	})
	outcomes := map[string]binding.Outcome{}
	for _, tr := range rep.Targets {
		outcomes[tr.Address.String()] = tr.Outcome
	}
	if outcomes["lb-dual1/lbl-sni1/api.example.test"] != binding.Added || outcomes["lb-dual1/lbl-mtls1"] != binding.Added || outcomes["lb-dual1/lbl-dual1"] != binding.Replaced {
		t.Errorf("ECDSA lineage outcomes %v: want the single-RSA bindings added to, the pairs replaced", outcomes)
	}
	// A client without a certificate still gets through the OPTIONAL listener.
	if got := simtest.ServedLeaf(t, sim.ListenerAddr("lb-dual1", "lbl-mtls1"), "www.example.test"); got != ecdsaLin.Fingerprint && got != rsaLin.Fingerprint {
		t.Errorf("the mutual listener serves %s…, neither new leaf", got[:12])
	}

	before := mutations(sim)
	for _, lin := range []*lineage.Lineage{rsaLin, ecdsaLin} {
		rep := deployed(t, sim, st, lin)
		if got := targetsWith(rep, deploy.StatusUnchanged); len(got) != 4 {
			t.Errorf("re-run of %s: unchanged %v, want all four", lin.Name, got)
		}
	}
	if n := mutations(sim) - before; n != 0 {
		t.Errorf("re-runs made %d changing calls", n)
	}

	back, err := newDeployerWith(t, sim, st, deploy.Options{Regions: []string{"ap-guangzhou"}}).Rollback(context.Background(), "example.test-ecdsa")
	if err != nil {
		t.Fatalf("%v\n%+v", err, back)
	}
	checkBindings(t, sim, "after rolling the ECDSA lineage back", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding(newRSA, "HandECC"), {"lbl-sni1", "example.test"}: wantBinding(newRSA, "HandECC"),
		{"lbl-sni1", "api.example.test"}: wantBinding(newRSA), {"lbl-mtls1", ""}: mutualBinding(newRSA),
	})
}

// A lineage alone in its config dir replaces a certificate of the other key algorithm (rule
// 2b, a migration), keeping mutual TLS as it was; rollback puts back the original member,
// mode, CA and verification.
func TestDeployLoneLineageMigratesAndRollsBack(t *testing.T) {
	sim := simtest.Start(t, dualAccount(t))
	lin, err := lineage.Load(simtest.IssueKey(t, t.TempDir(), "example.test", binding.ECC, time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour), "example.test", "*.example.test"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	rep := deployed(t, sim, st, lin)
	checkBindings(t, sim, "after the lone ECDSA lineage", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding("HandRSA", rep.CertID), {"lbl-sni1", "api.example.test"}: wantBinding(rep.CertID), {"lbl-mtls1", ""}: mutualBinding(rep.CertID),
	})
	back, err := newDeployerWith(t, sim, st, deploy.Options{Regions: []string{"ap-guangzhou"}}).Rollback(context.Background(), "example.test")
	if err != nil {
		t.Fatalf("%v\n%+v", err, back)
	}
	checkBindings(t, sim, "after the rollback", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding("HandRSA", "HandECC"), {"lbl-sni1", "api.example.test"}: wantBinding("HandRSA"), {"lbl-mtls1", ""}: mutualBinding("HandRSA"),
	})
	for _, tr := range back.Targets {
		if tr.Status != deploy.StatusUpdated || tr.Verified != "tls" {
			t.Errorf("rollback of %s: %s, verified %q", tr.Address, tr.Status, tr.Verified)
		}
	}
}

// Rolling back one lineage of a pair after the other renewed its member takes back only that
// lineage's member: the RSA rollback puts the old RSA certificate back beside the renewed
// ECDSA one (mutual TLS as it was), and the ECDSA rollback after it then finds the bindings
// as they were before either deploy. Restoring the whole recorded binding would revert the
// other lineage's renewal; skipping the targets (as rollback did) rolled nothing back and
// still exited 0.
func TestRollbackOneLineageOfARenewedPair(t *testing.T) {
	sim := simtest.Start(t, dualAccount(t))
	certbot := t.TempDir()
	start, end := time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour)
	names := []string{"example.test", "*.example.test"}
	var lins []*lineage.Lineage
	for _, l := range []struct {
		name string
		alg  binding.Algorithm
	}{{"example.test", binding.RSA}, {"example.test-ecdsa", binding.ECC}} {
		lin, err := lineage.Load(simtest.IssueKey(t, certbot, l.name, l.alg, start, end, names...), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		lins = append(lins, lin)
	}
	st := newStore(t)
	deployed(t, sim, st, lins[0])
	newECC := deployed(t, sim, st, lins[1]).CertID

	rollback := func(name string) {
		t.Helper()
		back, err := newDeployerWith(t, sim, st, deploy.Options{Regions: []string{"ap-guangzhou"}}).Rollback(context.Background(), name)
		if err != nil {
			t.Fatalf("rollback %s: %v\n%+v", name, err, back)
		}
		for _, tr := range back.Targets {
			if tr.Status != deploy.StatusUpdated || tr.Verified != "tls" {
				t.Errorf("rollback %s of %s: %s %s, verified %q", name, tr.Address, tr.Status, tr.Error, tr.Verified)
			}
		}
	}
	rollback("example.test")
	checkBindings(t, sim, "after rolling the RSA lineage back", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding("HandRSA", newECC), {"lbl-sni1", "example.test"}: wantBinding("HandRSA", newECC),
		{"lbl-sni1", "api.example.test"}: wantBinding("HandRSA", newECC), {"lbl-mtls1", ""}: mutualBinding("HandRSA", newECC),
	})
	rollback("example.test-ecdsa")
	checkBindings(t, sim, "after rolling both lineages back", map[[2]string]tcsim.Binding{
		{"lbl-dual1", ""}: wantBinding("HandRSA", "HandECC"), {"lbl-sni1", "example.test"}: wantBinding("HandRSA", "HandECC"),
		{"lbl-sni1", "api.example.test"}: wantBinding("HandRSA"), {"lbl-mtls1", ""}: mutualBinding("HandRSA"),
	})
}
