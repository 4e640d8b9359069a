package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// account has example.test's old certificate (good-ecdsa, uploaded by hand)
// on five targets in two regions, and other.test's on two that must stay.
func account(t *testing.T) tcsim.Options {
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "HandCrt1"}, {Domain: "other.test", CertID: "OtherCrt"}}},
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
				{ID: "lbl-http1", Protocol: "HTTP", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
			{ID: "lb-gz2", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-other1", Protocol: "HTTPS", CertID: "OtherCrt", Rules: []tcsim.RuleSpec{{Domain: "other.test"}}},
			}},
			{ID: "lb-sh1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-sni2", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "*.example.test", CertID: "HandCrt1"}}},
				{ID: "lbl-quic1", Protocol: "QUIC", CertID: "HandCrt1"},
			}},
		}},
		TaskDelay: 50 * time.Millisecond,
	}
}

var exampleTargets = []string{"lb-gz1/lbl-https1", "lb-gz1/lbl-sni1/example.test", "lb-gz1/lbl-tls1", "lb-sh1/lbl-quic1", "lb-sh1/lbl-sni2/*.example.test"}

func newDeployer(t *testing.T, sim *tcsim.Sim, opts deploy.Options) *deploy.Deployer {
	t.Helper()
	return newDeployerWith(t, sim, newStore(t), opts)
}

// newStore is an empty state dir.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newDeployerWith(t *testing.T, sim *tcsim.Sim, st *store.Store, opts deploy.Options) *deploy.Deployer {
	t.Helper()
	if opts.Regions == nil {
		opts.Regions = []string{"ap-guangzhou", "ap-shanghai"}
	}
	opts.TaskPoll = 20 * time.Millisecond
	d, err := deploy.New(simtest.Config(t, sim), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func targetsWith(rep *deploy.Report, status string) []string {
	var out []string
	for _, t := range rep.Targets {
		if t.Status == status {
			out = append(out, t.Address.String())
		}
	}
	slices.Sort(out)
	return out
}

func mutations(sim *tcsim.Sim) int {
	return sim.Calls("UploadCertificate") + sim.Calls("ModifyListener") + sim.Calls("ModifyDomainAttributes") + sim.Calls("DeleteCertificate")
}

func TestDeployDiscoversAndBindsEverywhere(t *testing.T) {
	sim := simtest.Start(t, account(t))
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	other := simtest.Lineage(t, "other", "other.test")
	st := newStore(t)
	ctx := context.Background()

	rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("updated %v, want %v", got, exampleTargets)
	}
	for _, tr := range rep.Targets {
		if tr.Protocol != "QUIC" && tr.Verified != "tls" {
			t.Errorf("%s verified %q, want a TLS handshake", tr.Address, tr.Verified)
		}
	}
	if !rep.Uploaded || sim.UploadCount() != 1 {
		t.Fatalf("uploaded=%v, store holds %d certificates; want one new upload", rep.Uploaded, sim.UploadCount())
	}
	for _, c := range []struct{ lb, lbl, sni, want string }{
		{"lb-gz1", "lbl-https1", "www.example.test", renewed.Fingerprint},
		{"lb-gz1", "lbl-sni1", "example.test", renewed.Fingerprint},
		{"lb-gz1", "lbl-sni1", "other.test", other.Fingerprint},
		{"lb-gz1", "lbl-tls1", "example.test", renewed.Fingerprint},
		{"lb-gz2", "lbl-other1", "other.test", other.Fingerprint},
		{"lb-sh1", "lbl-sni2", "a.example.test", renewed.Fingerprint},
	} {
		if got := simtest.ServedLeaf(t, sim.ListenerAddr(c.lb, c.lbl), c.sni); got != c.want {
			t.Errorf("%s/%s (SNI %s) serves %s…, want %s…", c.lb, c.lbl, c.sni, got[:12], c.want[:12])
		}
	}

	// Running again changes nothing: no upload, no modification.
	before := sim.CallCounts()
	rep, err = newDeployerWith(t, sim, st, deploy.Options{}).Deploy(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rep, deploy.StatusUnchanged); !slices.Equal(got, exampleTargets) || rep.Uploaded {
		t.Fatalf("second run: unchanged %v, uploaded %v", got, rep.Uploaded)
	}
	after := sim.CallCounts()
	for _, a := range []string{"UploadCertificate", "ModifyListener", "ModifyDomainAttributes", "DeleteCertificate"} {
		if after[a] != before[a] {
			t.Errorf("second run called %s %d times", a, after[a]-before[a])
		}
	}
	// Discovery describes the bound certificates, prune lists the uploads;
	// the recorded upload, which discovery found bound, is not asked again.
	if n := after["DescribeCertificates"] - before["DescribeCertificates"]; n != 2 {
		t.Errorf("second run called DescribeCertificates %d times, want 2", n)
	}
}

func TestDeployWithoutAStateDirDoesNotUploadTwice(t *testing.T) {
	sim := simtest.Start(t, account(t))
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	ctx := context.Background()
	if _, err := newDeployer(t, sim, deploy.Options{}).Deploy(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	// A fresh state dir, as after a kill before the state was written.
	if _, err := newDeployer(t, sim, deploy.Options{}).Deploy(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if n := sim.UploadCount(); n != 1 {
		t.Fatalf("%d uploads, want 1", n)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	sim := simtest.Start(t, account(t))
	rep, err := newDeployer(t, sim, deploy.Options{DryRun: true}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rep, deploy.StatusPlanned); !slices.Equal(got, exampleTargets) {
		t.Fatalf("planned %v", got)
	}
	if n := mutations(sim); n != 0 {
		t.Fatalf("a dry run made %d changing calls: %v", n, sim.CallCounts())
	}
}

func TestPinnedTargets(t *testing.T) {
	sim := simtest.Start(t, account(t))
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	pin := func(ss ...string) deploy.Options {
		var o deploy.Options
		for _, s := range ss {
			tg, err := deploy.ParseTarget(s)
			if err != nil {
				t.Fatal(err)
			}
			o.Targets = append(o.Targets, tg)
		}
		return o
	}
	_, err := newDeployer(t, sim, pin("lb-gz1/lbl-tls1", "lb-gz1/lbl-sni1/other.test")).Deploy(context.Background(), renewed)
	if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), "lb-gz1/lbl-sni1/other.test serves other.test, which example.test does not cover") {
		t.Fatalf("err = %v", err)
	}
	_, err = newDeployer(t, sim, pin("lb-gz1/lbl-nope")).Deploy(context.Background(), renewed)
	if !errors.Is(err, deploy.ErrRefused) || !strings.Contains(err.Error(), "is not a TLS listener or SNI domain") {
		t.Fatalf("err = %v", err)
	}
	if n := mutations(sim); n != 0 {
		t.Fatalf("refused deployments made %d changing calls", n)
	}
	rep, err := newDeployer(t, sim, pin("lb-gz1/lbl-tls1")).Deploy(context.Background(), renewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, []string{"lb-gz1/lbl-tls1"}) {
		t.Fatalf("updated %v", got)
	}
}

func TestFaultsConverge(t *testing.T) {
	opts := account(t)
	opts.FaultRate = 0.1
	opts.Seed = 7
	opts.RateLimits = map[string]int{"DescribeListeners": 5, "ModifyListener": 3, "ModifyDomainAttributes": 3, "DescribeTaskStatus": 10}
	sim := simtest.Start(t, opts)
	rep, err := newDeployer(t, sim, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("updated %v", got)
	}
}

func TestOneFailingLoadBalancer(t *testing.T) {
	opts := account(t)
	opts.FailingLBs = []string{"lb-sh1"}
	sim := simtest.Start(t, opts)
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	rep, err := newDeployer(t, sim, deploy.Options{}).Deploy(context.Background(), renewed)
	if err == nil || !strings.Contains(err.Error(), "1 load balancer could not be read (ap-shanghai lb-sh1)") {
		t.Fatalf("err = %v", err)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].LoadBalancerID != "lb-sh1" {
		t.Fatalf("failures = %+v", rep.Failures)
	}
	want := []string{"lb-gz1/lbl-https1", "lb-gz1/lbl-sni1/example.test", "lb-gz1/lbl-tls1"}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, want) {
		t.Fatalf("updated %v, want the reachable ones %v", got, want)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "ap-shanghai lb-sh1: could not be read: ") {
		t.Fatalf("table does not name the failing load balancer:\n%s", table.String())
	}
}

// Every target to change is recorded with the certificate it had, for
// rollback, before the first change.
func TestDeployRecordsWhatItReplaces(t *testing.T) {
	sim := simtest.Start(t, account(t))
	st := newStore(t)
	rep, err := newDeployerWith(t, sim, st, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Bindings map[string]struct{ Previous, Current string }
	}
	if err := store.ReadJSON(st, "deploy-example.test.json", &state); err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for key, b := range state.Bindings {
		if b.Previous != "HandCrt1" || b.Current != rep.CertID {
			t.Errorf("%s: recorded %s → %s, want HandCrt1 → %s", key, b.Previous, b.Current, rep.CertID)
		}
		_, target, _ := strings.Cut(key, "/")
		recorded = append(recorded, target)
	}
	slices.Sort(recorded)
	if !slices.Equal(recorded, exampleTargets) {
		t.Fatalf("recorded %v, want %v", recorded, exampleTargets)
	}
}

// A task is first asked about TaskPoll after it starts: with tasks shorter
// than that, one DescribeTaskStatus per change, the budget's minimum.
func TestTaskPolledOnceWhenItEndsBeforeTaskPoll(t *testing.T) {
	sim := simtest.Start(t, account(t)) // TaskDelay 50 ms
	st := newStore(t)
	d, err := deploy.New(simtest.Config(t, sim), st, deploy.Options{Regions: []string{"ap-guangzhou", "ap-shanghai"}, TaskPoll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test")); err != nil {
		t.Fatal(err)
	}
	if polls := sim.Calls("DescribeTaskStatus"); polls != len(exampleTargets) {
		t.Fatalf("%d DescribeTaskStatus calls for %d tasks", polls, len(exampleTargets))
	}
}

// A load balancer busy with someone else's task answers ResourceInOperating:
// deploy waits it out and converges.
func TestBusyLoadBalancerIsWaitedOut(t *testing.T) {
	opts := account(t)
	opts.TaskDelay = 800 * time.Millisecond
	sim := simtest.Start(t, opts)
	client := simtest.CLB(t, simtest.Config(t, sim), "ap-guangzhou")
	req := clb.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = common.StringPtr("lb-gz1"), common.StringPtr("lbl-tls1")
	req.ListenerName = common.StringPtr("renamed by an operator")
	if _, err := client.ModifyListener(req); err != nil {
		t.Fatal(err)
	}
	rep, err := newDeployer(t, sim, deploy.Options{}).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("updated %v", got)
	}
	// 1 by the operator + 3 by deploy, and at least one refused while busy.
	if n := sim.Calls("ModifyListener"); n < 5 {
		t.Fatalf("ModifyListener called %d times: the busy load balancer was never hit", n)
	}
}
