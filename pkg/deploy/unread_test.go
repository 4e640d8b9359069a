package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// A list the SSL service could not read is reported as not checked: the deploy fails naming
// it and what to do, what it did read moves, and the resources there stay as they are. A
// deploy to other products does not care.
func TestDeployReportsAnUnreadList(t *testing.T) {
	opts := productsAccount(t)
	opts.Topology.Resources = append(opts.Topology.Resources,
		tcsim.ResourceSpec{Type: "tke", Region: "ap-shanghai", InstanceID: "cls-sha00001", Namespace: "web", Secret: "www-tls", CertID: "HandCrt1"},
		tcsim.ResourceSpec{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-gz000001", Namespace: "web", Secret: "www-tls", CertID: "HandCrt1"},
	)
	opts.Topology.UnreadLists = []tcsim.ListSpec{{Type: "tke", Region: "ap-guangzhou"}}
	sim := simtest.Start(t, opts)
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	ctx := context.Background()

	rep, err := newDeployer(t, sim, deploy.Options{Products: []string{"cdn", "clb"}}).Deploy(ctx, renewed)
	if err != nil || rep.ProductsError != "" {
		t.Fatalf("a deploy to cdn stopped at the tke list: %v %q", err, rep.ProductsError)
	}

	rep, err = newDeployer(t, sim, deploy.Options{Products: allProducts}).Deploy(ctx, renewed)
	if err == nil {
		t.Fatal("the deploy succeeded with a list not read")
	}
	for _, want := range []string{"tke in ap-guangzhou", "unknown", "run again"} {
		if !strings.Contains(err.Error(), want) || !strings.Contains(rep.ProductsError, want) {
			t.Errorf("error %q / ProductsError %q does not say %q", err, rep.ProductsError, want)
		}
	}
	if got := resourcesWith(rep.Resources, deploy.StatusUpdated); !slices.Equal(got, []string{"cos ap-guangzhou assets-1250000000/assets.example.test", "teo zone-exa00001/edge.example.test", "tke ap-shanghai cls-sha00001/web/www-tls", "waf ap-shanghai shop.example.test"}) {
		t.Errorf("moved %v", got)
	}
	if got := sim.ResourceCert("tke", "cls-gz000001"); got != "HandCrt1" {
		t.Errorf("the tke secret in the unread region holds %s, want HandCrt1 (left alone)", got)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "tke in ap-guangzhou") {
		t.Errorf("the table does not name the unread list:\n%s", table.String())
	}
}

// Prune deletes nothing while any list of any product could not be read: a certificate held
// there would look unused.
func TestPruneDeletesNothingWhenAListIsUnread(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	st := newStore(t)
	ctx := context.Background()
	now := time.Now()
	var uploads []string
	for i := range 3 {
		from := now.Add(time.Duration(i-3) * time.Hour)
		next := simtest.IssueLineage(t, t.TempDir(), "example.test", from, from.Add(90*24*time.Hour), "example.test", "*.example.test")
		rep, err := newDeployerWith(t, sim, st, deploy.Options{Force: true}).Deploy(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		uploads = append(uploads, rep.CertID)
	}
	if err := sim.SetListUnread("mqtt", "ap-beijing", true); err != nil {
		t.Fatal(err)
	}
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Keep: deploy.KeepNone}).Prune(ctx, []string{"example.test"})
	if err == nil || !strings.Contains(err.Error(), "run clbcert prune again") {
		t.Fatalf("err = %v, want prune incomplete", err)
	}
	l := rep.Lineages[0]
	if len(l.Deleted) != 0 || !strings.Contains(l.Error, "prune skipped") || !strings.Contains(l.Error, "mqtt in ap-beijing") {
		t.Fatalf("with the mqtt list unread: deleted %v, error %q", ids(l.Deleted), l.Error)
	}
	if got := sim.CallCounts()["DeleteCertificate"]; got != 0 {
		t.Fatalf("%d certificates deleted", got)
	}

	// Once the list reads again, the first upload, which nothing holds, goes.
	if err := sim.SetListUnread("mqtt", "ap-beijing", false); err != nil {
		t.Fatal(err)
	}
	rep, err = newDeployerWith(t, sim, st, deploy.Options{Keep: deploy.KeepNone}).Prune(ctx, []string{"example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if l := rep.Lineages[0]; l.Error != "" || len(l.Deleted) != 1 || l.Deleted[0].ID != uploads[0] {
		t.Fatalf("after the list reads again: deleted %v, error %q", ids(l.Deleted), l.Error)
	}
}

// A rollback stops, changing nothing, when a list of a type it moves back could not be read
// (the resources there would look gone); a list of another type does not stop it.
func TestRollbackWithAnUnreadList(t *testing.T) {
	sim, st, rep := deployedToEveryProduct(t)
	ctx := context.Background()
	if err := sim.SetListUnread("cdn", "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Rollback(ctx, "example.test"); err == nil ||
		!strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "cdn (") {
		t.Fatalf("rollback with the cdn list unread: %v", err)
	}
	if got := heldBy(sim, rep.CertID); !slices.Equal(got, exampleHeld) {
		t.Fatalf("the failed rollback moved something: the upload is held by %v", got)
	}
	if err := sim.SetListUnread("cdn", "", false); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetListUnread("tke", "ap-hongkong", true); err != nil {
		t.Fatal(err)
	}
	if _, err := newDeployerWith(t, sim, st, deploy.Options{Products: allProducts}).Rollback(ctx, "example.test"); err != nil {
		t.Fatalf("rollback with an unread tke list: %v", err)
	}
	if got := heldBy(sim, "HandCrt1"); !slices.Equal(got, exampleHeld) {
		t.Fatalf("after the rollback the old certificate is held by %v", got)
	}
}
