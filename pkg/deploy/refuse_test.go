package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// renamed loads corpus case kase as if certbot had named its lineage name,
// e.g. example.test-0001 for a second lineage of the same names.
func renamed(t *testing.T, kase, name string) *lineage.Lineage {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "live", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"} {
		b, err := os.ReadFile(filepath.Join(simtest.Corpus(kase, "example.test"), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := lineage.Load(dir, simtest.Lineage(t, kase, "example.test").Leaf.NotBefore)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two lineages for the same names, as certbot's NAME and NAME-0001: the one
// that expires sooner, deployed second, leaves the newer certificate where
// it is, and says so; force replaces it; a certificate of another key
// algorithm is replaced whatever its dates.
func TestDeployKeepsANewerCertificate(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st := newStore(t)
	ctx := context.Background()
	newer := simtest.Lineage(t, "good-ecdsa-2", "example.test") // until 2125-03-01
	older := renamed(t, "good-ecdsa", "example.test-0001")      // until 2125-01-01
	first, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	changes := mutations(sim)

	for _, dryRun := range []bool{true, false} {
		rep, err := newDeployerWith(t, sim, st, deploy.Options{DryRun: dryRun}).Deploy(ctx, older)
		if err != nil {
			t.Fatalf("dry run %v: %v", dryRun, err)
		}
		if got := targetsWith(rep, deploy.StatusKept); !slices.Equal(got, exampleTargets) {
			t.Fatalf("dry run %v: kept %v, want %v", dryRun, got, exampleTargets)
		}
		var table strings.Builder
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		want := "kept: its certificate " + first.CertID + " expires 2125-03-01, later than this one (2125-01-01), with the same key algorithm ECC"
		if !strings.Contains(table.String(), want) {
			t.Fatalf("dry run %v: the report does not say why:\n%s", dryRun, table.String())
		}
	}
	if mutations(sim) != changes {
		t.Fatalf("keeping the newer certificate changed something: %v", sim.CallCounts())
	}
	for _, tg := range exampleTargets {
		lb, rest, _ := strings.Cut(tg, "/")
		lbl, domain, _ := strings.Cut(rest, "/")
		if got := sim.ServedCert(lb, lbl, domain); got != first.CertID {
			t.Errorf("%s serves %s, want the newer %s", tg, got, first.CertID)
		}
	}

	forced, err := newDeployerWith(t, sim, st, deploy.Options{Force: true}).Deploy(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(forced, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("forced: updated %v", got)
	}

	rsa, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, renamed(t, "good-rsa", "example.test-0002"))
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rsa, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("RSA over a later ECC certificate: updated %v", got)
	}
}

// A region CLB does not have is refused before anything changes, in a dry
// run and a real one alike.
func TestDeployUnknownRegion(t *testing.T) {
	sim := simtest.Start(t, account(t))
	for _, dryRun := range []bool{true, false} {
		_, err := newDeployer(t, sim, deploy.Options{Regions: []string{"ap-guangzhou", "ap-nowhere"}, DryRun: dryRun}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
		if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), "unknown CLB region ap-nowhere: use one of ap-bangkok") {
			t.Fatalf("dry run %v: err = %v", dryRun, err)
		}
	}
	if n := mutations(sim); n != 0 {
		t.Fatalf("an unknown region let %d changes through: %v", n, sim.CallCounts())
	}
}

// A dry run fails where the deployment would: a load balancer or a whole
// endpoint that cannot be read is a failure, not "no target".
func TestDryRunFailsLikeTheRun(t *testing.T) {
	opts := account(t)
	opts.FailingLBs = []string{"lb-sh1"}
	sim := simtest.Start(t, opts)
	lin := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	rep, err := newDeployer(t, sim, deploy.Options{DryRun: true}).Deploy(context.Background(), lin)
	if err == nil || !strings.Contains(err.Error(), "ap-shanghai lb-sh1 could not be read") || len(rep.Failures) != 1 {
		t.Fatalf("one unreadable load balancer: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	cfg := simtest.Config(t, sim)
	if cfg.Endpoint, err = tencent.ParseEndpoint(dead); err != nil {
		t.Fatal(err)
	}
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 1}
	for _, dryRun := range []bool{true, false} {
		st := newStore(t)
		d, err := deploy.New(cfg, st, deploy.Options{Regions: []string{"ap-guangzhou"}, DryRun: dryRun})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := d.Deploy(context.Background(), lin)
		// The run's error sums up; the report's failures say why.
		why := fmt.Sprint(err)
		if rep != nil {
			for _, f := range rep.Failures {
				why += "; " + f.Error
			}
		}
		if err == nil || errors.Is(err, deploy.ErrRefused) || !strings.Contains(why, "cannot reach") {
			t.Fatalf("dead endpoint, dry run %v: err = %v", dryRun, err)
		}
		if rep != nil {
			var table strings.Builder
			rep.WriteTable(&table)
			if strings.Contains(table.String(), "no target serves") {
				t.Fatalf("dead endpoint, dry run %v, says:\n%s", dryRun, table.String())
			}
		}
	}
}

// A certificate that no target serves is not uploaded, dry run or not,
// unless asked to.
func TestDeployWithoutTargetUploadsNothing(t *testing.T) {
	sim := simtest.Start(t, account(t))
	lin := simtest.Lineage(t, "single", "www.example.test")
	for _, dryRun := range []bool{true, false} {
		_, err := newDeployer(t, sim, deploy.Options{DryRun: dryRun}).Deploy(context.Background(), lin)
		if !errors.Is(err, deploy.ErrNoTarget) || !strings.Contains(err.Error(), "nothing matched: no HTTPS, TCP_SSL or QUIC listener and no SNI domain in ap-guangzhou, ap-shanghai serves a certificate whose names www.example.test (www.example.test) all cover, so nothing was uploaded; pin the targets") {
			t.Fatalf("dry run %v: err = %v", dryRun, err)
		}
	}
	if n := mutations(sim); n != 0 {
		t.Fatalf("%d changes for a certificate without targets: %v", n, sim.CallCounts())
	}
	rep, err := newDeployer(t, sim, deploy.Options{UploadAnyway: true}).Deploy(context.Background(), lin)
	if err != nil || !rep.Uploaded || rep.CertID == "" || len(rep.Targets) != 0 || sim.UploadCount() != 1 {
		t.Fatalf("upload anyway: %v, %+v", err, rep)
	}
}

// With the state dir lost (or another host's), a dry run still finds the
// upload by its alias and says so in the real run's words.
func TestDryRunSaysAlreadyUploaded(t *testing.T) {
	sim := simtest.Start(t, account(t))
	lin := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	first, err := newDeployer(t, sim, deploy.Options{}).Deploy(context.Background(), lin)
	if err != nil {
		t.Fatal(err)
	}
	for _, dryRun := range []bool{true, false} {
		rep, err := newDeployer(t, sim, deploy.Options{DryRun: dryRun}).Deploy(context.Background(), lin)
		if err != nil || rep.CertID != first.CertID {
			t.Fatalf("dry run %v: %v, cert %q, want %s", dryRun, err, rep.CertID, first.CertID)
		}
		var table strings.Builder
		if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), ": already uploaded as "+first.CertID) {
			t.Fatalf("dry run %v:\n%s", dryRun, table.String())
		}
	}
}

// A state dir that cannot be written is refused before any call, with its
// real cause; root passes permission checks, so these are broken for root
// too.
func TestDeployUnwritableStateDir(t *testing.T) {
	sim := simtest.Start(t, account(t))
	lin := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	tests := []struct {
		name  string
		spoil func(dir string) error
		want  string
	}{
		{"replaced by a file", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.WriteFile(dir, nil, 0o600)
		}, "not a directory"},
		{"lock file is a directory", func(dir string) error {
			return os.Mkdir(filepath.Join(dir, "deploy-example.test.json.run.lock"), 0o700)
		}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.spoil(dir); err != nil {
				t.Fatal(err)
			}
			before := len(sim.CallCounts())
			_, err = newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), lin)
			if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "another deploy") {
				t.Fatalf("err = %v", err)
			}
			if after := len(sim.CallCounts()); after != before {
				t.Fatalf("the cloud was called: %v", sim.CallCounts())
			}
		})
	}
}

// A run killed while writing its state leaves a temp file; the next run
// removes it.
func TestDeployRemovesAKilledRunsTempFile(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st := newStore(t)
	left := filepath.Join(st.Dir(), ".deploy-example.test.json.tmp123456")
	other := filepath.Join(st.Dir(), ".deploy-other.test.json.tmp123456")
	for _, f := range []string{left, other} {
		if err := os.WriteFile(f, []byte(`{"uploads":[`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed run's temp file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another lineage's temp file was taken: %v", err)
	}
}

// Rollback puts back what a target had, even a certificate of the same key
// algorithm that expires sooner than the one it replaces.
func TestRollbackIsNotHeldBackByExpiry(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st := newStore(t)
	ctx := context.Background()
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, simtest.Lineage(t, "good-ecdsa-2", "example.test")); err != nil {
		t.Fatal(err)
	}
	rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != len(exampleTargets) {
		t.Fatalf("rolled back %d targets", len(rep.Targets))
	}
	servedEverywhere(t, sim, simtest.Lineage(t, "good-ecdsa", "example.test").Fingerprint)
}
