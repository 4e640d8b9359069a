package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// renewals is example.test renewed four times (A, B, C, D: each newer) and
// deployed after each renewal, keeping every upload. A went to a load
// balancer in ap-beijing only (pinned) and stays there; B, C and D went
// everywhere else, so D is served, C is what a rollback would put back,
// and B is unused.
type renewals struct {
	sim        *tcsim.Sim
	st         *store.Store
	a, b, c, d string // upload ids
}

func renew(t *testing.T) *renewals {
	t.Helper()
	opts := account(t)
	opts.Topology.LoadBalancers = append(opts.Topology.LoadBalancers, tcsim.LoadBalancerSpec{
		ID: "lb-bj1", Region: "ap-beijing", VIP: "127.0.0.31", Listeners: []tcsim.ListenerSpec{{ID: "lbl-bj1", Protocol: "TCP_SSL", CertID: "HandCrt1"}},
	})
	r := &renewals{sim: simtest.Start(t, opts)}
	var err error
	if r.st, err = store.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	certbot := t.TempDir()
	now := time.Now()
	ids := []*string{&r.a, &r.b, &r.c, &r.d}
	for i, id := range ids {
		from := now.Add(time.Duration(i-4) * 20 * 24 * time.Hour)
		lin := simtest.IssueLineage(t, certbot, "example.test", from, from.Add(365*24*time.Hour), "example.test", "*.example.test")
		// Force: HandCrt1, the corpus's good-ecdsa, expires in 2125, later
		// than these renewals.
		o := deploy.Options{Keep: 10, Force: true}
		if i == 0 {
			o.Regions = []string{"ap-beijing"}
			o.Targets = []clb.Address{{LoadBalancerID: "lb-bj1", ListenerID: "lbl-bj1"}}
		}
		rep, err := newDeployerWith(t, r.sim, r.st, o).Deploy(context.Background(), lin)
		if err != nil {
			t.Fatal(err)
		}
		*id = rep.CertID
	}
	return r
}

func (r *renewals) stored() []string {
	var out []string
	for _, c := range r.sim.Certificates() {
		if strings.HasPrefix(c.Alias, "clbcert/") {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

func ids(cs []deploy.PrunedCert) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID+":"+c.Reason)
	}
	slices.Sort(out)
	return out
}

func sortedIDs(ss ...string) []string {
	slices.Sort(ss)
	return ss
}

func TestPruneKeepsWhatIsNeeded(t *testing.T) {
	regions := []string{"ap-guangzhou", "ap-shanghai", "ap-beijing"}
	tests := []struct {
		name        string
		keep        int
		dryRun      bool
		wantDeleted func(r *renewals) []string
		wantKept    func(r *renewals) []string
	}{
		{
			name: "keep none", keep: deploy.KeepNone,
			wantDeleted: func(r *renewals) []string { return []string{r.b + ":"} },
			wantKept: func(r *renewals) []string {
				return sortedIDs(r.d+":"+deploy.KeptCurrent, r.c+":"+deploy.KeptRollback, r.a+":"+deploy.KeptBound)
			},
		},
		{
			name: "keep one", keep: 1,
			wantDeleted: func(r *renewals) []string { return []string{r.b + ":"} },
			wantKept: func(r *renewals) []string {
				return sortedIDs(r.d+":"+deploy.KeptCurrent, r.c+":"+deploy.KeptKeep, r.a+":"+deploy.KeptBound)
			},
		},
		{
			name: "default keeps two", keep: 0,
			wantDeleted: func(r *renewals) []string { return nil },
			wantKept: func(r *renewals) []string {
				return sortedIDs(r.d+":"+deploy.KeptCurrent, r.c+":"+deploy.KeptKeep, r.b+":"+deploy.KeptKeep, r.a+":"+deploy.KeptBound)
			},
		},
		{
			name: "dry run", keep: deploy.KeepNone, dryRun: true,
			wantDeleted: func(r *renewals) []string { return []string{r.b + ":"} },
			wantKept: func(r *renewals) []string {
				return sortedIDs(r.d+":"+deploy.KeptCurrent, r.c+":"+deploy.KeptRollback, r.a+":"+deploy.KeptBound)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := renew(t)
			all := sortedIDs(r.a, r.b, r.c, r.d)
			if got := r.stored(); !slices.Equal(got, all) {
				t.Fatalf("before pruning the store holds %v, want %v", got, all)
			}
			deletes := r.sim.Calls("DeleteCertificate")
			rep, err := newDeployerWith(t, r.sim, r.st, deploy.Options{Regions: regions, Keep: tt.keep, DryRun: tt.dryRun}).Prune(context.Background(), []string{"example.test"})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Lineages) != 1 || rep.DryRun != tt.dryRun {
				t.Fatalf("report %+v", rep)
			}
			res := rep.Lineages[0]
			if got, want := ids(res.Deleted), tt.wantDeleted(r); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
			if got, want := ids(res.Kept), tt.wantKept(r); !slices.Equal(got, want) {
				t.Errorf("kept %v, want %v", got, want)
			}
			wantStored := all
			if !tt.dryRun {
				wantStored = slices.DeleteFunc(slices.Clone(all), func(id string) bool { return slices.Contains(tt.wantDeleted(r), id+":") })
			}
			if got := r.stored(); !slices.Equal(got, wantStored) {
				t.Errorf("the store holds %v, want %v", got, wantStored)
			}
			if tt.dryRun && r.sim.Calls("DeleteCertificate") != deletes {
				t.Errorf("a dry run called DeleteCertificate")
			}
		})
	}
}

// A deployment's own prune keeps what a rollback needs too, even with
// nothing else to keep.
func TestDeployPruneKeepsTheRollbackTarget(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st := newStore(t)
	first, err := newDeployerWith(t, sim, st, deploy.Options{Keep: deploy.KeepNone}).Deploy(context.Background(), simtest.Lineage(t, "good-rsa", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := newDeployerWith(t, sim, st, deploy.Options{Keep: deploy.KeepNone}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pruned) != 0 || len(rep.PruneNotes) != 1 || !strings.Contains(rep.PruneNotes[0], "kept "+first.CertID+": a rollback would put it back") {
		t.Fatalf("pruned %v, notes %q", rep.Pruned, rep.PruneNotes)
	}
	if _, err := newDeployerWith(t, sim, st, deploy.Options{}).Rollback(context.Background(), "example.test"); err != nil {
		t.Fatal(err)
	}
	servedEverywhere(t, sim, simtest.Lineage(t, "good-rsa", "example.test").Fingerprint)
}

func TestRecorded(t *testing.T) {
	r := renew(t)
	names, err := deploy.RecordedLineages(r.st)
	if err != nil || !slices.Equal(names, []string{"example.test"}) {
		t.Fatalf("lineages %v, %v", names, err)
	}
	regions, err := deploy.RecordedRegions(r.st, names...)
	if err != nil || !slices.Equal(regions, []string{"ap-beijing", "ap-guangzhou", "ap-shanghai"}) {
		t.Fatalf("regions %v, %v", regions, err)
	}
}
