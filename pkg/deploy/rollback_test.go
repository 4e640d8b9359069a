package deploy_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// servedEverywhere fails t unless each example.test target reachable over
// TCP serves the leaf with fingerprint fp.
func servedEverywhere(t *testing.T, sim *tcsim.Sim, fp string) {
	t.Helper()
	for _, c := range []struct{ lb, lbl, sni string }{
		{"lb-gz1", "lbl-https1", "www.example.test"},
		{"lb-gz1", "lbl-sni1", "example.test"},
		{"lb-gz1", "lbl-tls1", "example.test"},
		{"lb-sh1", "lbl-sni2", "a.example.test"},
	} {
		if got := simtest.ServedLeaf(t, sim.ListenerAddr(c.lb, c.lbl), c.sni); got != fp {
			t.Errorf("%s/%s (SNI %s) serves %s…, want %s…", c.lb, c.lbl, c.sni, got[:12], fp[:12])
		}
	}
}

// deployTwice deploys good-rsa, then good-ecdsa-2, with one state dir, and
// returns the state and good-rsa's upload.
func deployTwice(t *testing.T, sim *tcsim.Sim) (*store.Store, string) {
	t.Helper()
	st := newStore(t)
	first, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-rsa", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test")); err != nil {
		t.Fatal(err)
	}
	return st, first.CertID
}

func TestRollbackPutsThePreviousBackOnce(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st, firstID := deployTwice(t, sim)
	first, second := simtest.Lineage(t, "good-rsa", "example.test"), simtest.Lineage(t, "good-ecdsa-2", "example.test")
	servedEverywhere(t, sim, second.Fingerprint)
	ctx := context.Background()

	// A dry run shows the plan and changes nothing.
	before := mutations(sim)
	rep, err := newDeployerWith(t, sim, st, deploy.Options{DryRun: true}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != len(exampleTargets) || !rep.DryRun {
		t.Fatalf("dry run: %+v", rep)
	}
	for _, tr := range rep.Targets {
		if tr.Status != deploy.StatusPlanned || tr.To != firstID {
			t.Errorf("dry run %s: %s to %s, want planned to %s", tr.Address, tr.Status, tr.To, firstID)
		}
	}
	if n := mutations(sim) - before; n != 0 {
		t.Fatalf("a dry run made %d changes", n)
	}
	servedEverywhere(t, sim, second.Fingerprint)

	rep, err = newDeployerWith(t, sim, st, deploy.Options{}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	var rolled []string
	for _, tr := range rep.Targets {
		if tr.Status != deploy.StatusUpdated || tr.To != firstID {
			t.Errorf("%s: %s to %s: %s", tr.Address, tr.Status, tr.To, tr.Error)
		}
		if tr.Protocol != "QUIC" && tr.Verified != "tls" {
			t.Errorf("%s verified %q, want a TLS handshake", tr.Address, tr.Verified)
		}
		rolled = append(rolled, tr.Address.String())
	}
	slices.Sort(rolled)
	if !slices.Equal(rolled, exampleTargets) {
		t.Fatalf("rolled back %v, want %v", rolled, exampleTargets)
	}
	servedEverywhere(t, sim, first.Fingerprint)
	if got := sim.ServedCert("lb-gz1", "lbl-sni1", "other.test"); got != "OtherCrt" {
		t.Errorf("other.test serves %s after the rollback", got)
	}

	// Again: nothing to do, and nothing is done.
	before = mutations(sim)
	rep, err = newDeployerWith(t, sim, st, deploy.Options{}).Rollback(ctx, "example.test")
	if err != nil || !strings.HasPrefix(rep.Note, "nothing to roll back") || len(rep.Targets) != 0 {
		t.Fatalf("second rollback: %+v, %v", rep, err)
	}
	if n := mutations(sim) - before; n != 0 {
		t.Fatalf("the second rollback made %d changes", n)
	}
	servedEverywhere(t, sim, first.Fingerprint)

	// Rolling forward is a deployment, after which rollback works again.
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, second); err != nil {
		t.Fatal(err)
	}
	servedEverywhere(t, sim, second.Fingerprint)
	if rep, err = newDeployerWith(t, sim, st, deploy.Options{}).Rollback(ctx, "example.test"); err != nil || len(rep.Targets) != len(exampleTargets) {
		t.Fatalf("rollback after rolling forward: %+v, %v", rep, err)
	}
	servedEverywhere(t, sim, first.Fingerprint)
}

// bindByHand sets a listener's certificate as an operator would in the
// console, and waits until it is served.
func bindByHand(t *testing.T, sim *tcsim.Sim, lb, lbl, certID string) {
	t.Helper()
	client := simtest.CLB(t, simtest.Config(t, sim), "ap-guangzhou")
	req := clb.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = common.StringPtr(lb), common.StringPtr(lbl)
	req.Certificate = &clb.CertificateInput{CertId: common.StringPtr(certID), SSLMode: common.StringPtr("UNIDIRECTIONAL")}
	if _, err := client.ModifyListener(req); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, lb+"/"+lbl+" serves "+certID, func() bool {
		return sim.ServedCert(lb, lbl, "") == certID
	})
}

// A target someone changed since the deploy is left alone (and forgotten);
// one that already serves the previous certificate — a rollback killed
// before it could record its work — is checked and recorded.
func TestRollbackLeavesOthersChangesAlone(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st, firstID := deployTwice(t, sim)
	bindByHand(t, sim, "lb-gz1", "lbl-tls1", "HandCrt1")
	bindByHand(t, sim, "lb-gz1", "lbl-https1", firstID)

	rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(context.Background(), "example.test")
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	got := map[string]string{}
	for _, tr := range rep.Targets {
		got[tr.Address.String()] = tr.Status
		if tr.Address.String() == "lb-gz1/lbl-tls1" && !strings.Contains(tr.Error, "serves HandCrt1 now") {
			t.Errorf("skipped target says %q", tr.Error)
		}
	}
	want := map[string]string{
		"lb-gz1/lbl-https1": deploy.StatusUnchanged, "lb-gz1/lbl-tls1": deploy.StatusSkipped,
		"lb-gz1/lbl-sni1/example.test": deploy.StatusUpdated, "lb-sh1/lbl-quic1": deploy.StatusUpdated, "lb-sh1/lbl-sni2/*.example.test": deploy.StatusUpdated,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if served := sim.ServedCert("lb-gz1", "lbl-tls1", ""); served != "HandCrt1" {
		t.Errorf("the changed target serves %s, want HandCrt1 left alone", served)
	}
	if rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(context.Background(), "example.test"); err != nil || rep.Note == "" {
		t.Fatalf("second rollback: %+v, %v", rep, err)
	}
}

func TestRollbackRefusesAGoneOrExpiredCertificate(t *testing.T) {
	t.Run("deleted", func(t *testing.T) {
		sim := simtest.Start(t, account(t))
		st, firstID := deployTwice(t, sim)
		client := simtest.SSL(t, simtest.Config(t, sim))
		req := ssl.NewDeleteCertificateRequest()
		req.CertificateId = common.StringPtr(firstID)
		if _, err := client.DeleteCertificate(req); err != nil {
			t.Fatal(err)
		}
		before := mutations(sim)
		_, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(context.Background(), "example.test")
		if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), "certificate "+firstID+", which ") || !strings.Contains(err.Error(), "is no longer in the SSL service") || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("err = %v", err)
		}
		if n := mutations(sim) - before; n != 0 {
			t.Fatalf("a refused rollback made %d changes", n)
		}
		servedEverywhere(t, sim, simtest.Lineage(t, "good-ecdsa-2", "example.test").Fingerprint)
	})
	t.Run("expired", func(t *testing.T) {
		dir := simtest.Corpus("expired", "example.test")
		var pemOf = func(f string) string {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		opts := account(t)
		opts.Certificates = append(opts.Certificates, tcsim.CertSpec{ID: "Expired1", Alias: "by hand", CertPEM: pemOf("fullchain.pem"), KeyPEM: pemOf("privkey.pem")})
		opts.Topology.LoadBalancers[0].Listeners[2].CertID = "Expired1" // lbl-tls1
		sim := simtest.Start(t, opts)
		st := newStore(t)
		if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test")); err != nil {
			t.Fatal(err)
		}
		before := mutations(sim)
		_, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(context.Background(), "example.test")
		if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), "certificate Expired1, which lb-gz1/lbl-tls1 served before, expired on 2020-04-01") {
			t.Fatalf("err = %v", err)
		}
		if n := mutations(sim) - before; n != 0 {
			t.Fatalf("a refused rollback made %d changes", n)
		}
	})
}

// A target changed outside clbcert between two deploys: the second deploy
// replaces what it found there (its BEFORE column), and rollback puts that
// back, not what the first deploy replaced.
func TestRollbackRestoresWhatTheLastDeployReplaced(t *testing.T) {
	opts := account(t)
	opts.Certificates = append(opts.Certificates, simtest.HandUploaded(t, "HandCrt2", "good-rsa", "example.test"))
	sim := simtest.Start(t, opts)
	st := newStore(t)
	lin := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	ctx := context.Background()
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, lin); err != nil {
		t.Fatal(err)
	}
	bindByHand(t, sim, "lb-gz1", "lbl-tls1", "HandCrt2")
	rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, lin)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Targets {
		if tr.Address.String() == "lb-gz1/lbl-tls1" && (tr.Current != "HandCrt2" || tr.Status != deploy.StatusUpdated) {
			t.Fatalf("second deploy on lb-gz1/lbl-tls1: before %s, %s; want HandCrt2 replaced", tr.Current, tr.Status)
		}
	}
	back, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatalf("%v\n%+v", err, back)
	}
	for _, tr := range back.Targets {
		want := "HandCrt1"
		if tr.Address.String() == "lb-gz1/lbl-tls1" {
			want = "HandCrt2"
		}
		if tr.To != want {
			t.Errorf("rollback of %s to %s, want %s", tr.Address, tr.To, want)
		}
	}
	if got := sim.ServedCert("lb-gz1", "lbl-tls1", ""); got != "HandCrt2" {
		t.Errorf("lb-gz1/lbl-tls1 serves %s after the rollback, want HandCrt2 (what the last deploy replaced)", got)
	}
}
