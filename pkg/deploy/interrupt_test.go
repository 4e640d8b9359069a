package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// quickBusyRetries gives up on a busy load balancer after a few
// milliseconds, far sooner than any task here runs, so only deploy's own
// wait for the load balancer can ride one out.
var quickBusyRetries = tencent.RetryPolicy{MaxAttempts: 2, Base: 5 * time.Millisecond, Cap: 10 * time.Millisecond}

func deployerWithRetry(t *testing.T, sim *tcsim.Sim, st *store.Store, retry tencent.RetryPolicy, opts deploy.Options) *deploy.Deployer {
	t.Helper()
	cfg := simtest.Config(t, sim)
	cfg.Retry = retry
	opts.Regions = []string{"ap-guangzhou", "ap-shanghai"}
	opts.TaskPoll = 20 * time.Millisecond
	d, err := deploy.New(cfg, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// orphanTask starts a CLB task on lb-gz1 as a killed run leaves one behind:
// submitted, never awaited.
func orphanTask(t *testing.T, sim *tcsim.Sim) {
	t.Helper()
	client := simtest.CLB(t, simtest.Config(t, sim), "ap-guangzhou")
	req := clb.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = common.StringPtr("lb-gz1"), common.StringPtr("lbl-https1")
	req.Certificate = &clb.CertificateInput{CertId: common.StringPtr("HandCrt1"), SSLMode: common.StringPtr("UNIDIRECTIONAL")}
	if _, err := client.ModifyListener(req); err != nil {
		t.Fatal(err)
	}
}

// An interrupted deployment says so, names the CLB tasks it submitted that
// are still running, and does not blame a task timeout; running it again
// finishes the job with the one upload.
func TestInterruptedDeployNamesItsRunningTasks(t *testing.T) {
	opts := account(t)
	opts.TaskDelay = 500 * time.Millisecond
	sim := simtest.Start(t, opts)
	st := newStore(t)
	lin := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newDeployerWith(t, sim, st, deploy.Options{})
	type outcome struct {
		rep *deploy.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := d.Deploy(ctx, lin)
		done <- outcome{rep, err}
	}()
	eventually.True(t, 20*time.Second, "the deploy bound two targets", func() bool {
		return sim.Calls("ModifyListener")+sim.Calls("ModifyDomainAttributes") >= 2
	})
	cancel()
	o := <-done
	rep, err := o.rep, o.err
	if err == nil || rep == nil {
		t.Fatalf("interrupted deploy: rep %+v, err %v", rep, err)
	}
	msg := err.Error()
	for _, bad := range []string{"still running after", "console", "2m0s"} {
		if strings.Contains(msg, bad) {
			t.Errorf("the error blames a timeout (%q): %s", bad, msg)
		}
	}
	if !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "running again finishes the job") {
		t.Errorf("the error does not say it was interrupted and how to finish: %s", msg)
	}
	var running []string
	for _, tr := range rep.Targets {
		if tr.Status == deploy.StatusFailed {
			t.Errorf("%s failed (%s): an interrupted target is not a failed one", tr.Address, tr.Error)
		}
		if tr.Task != "" {
			running = append(running, tr.Task)
			if tr.Status != deploy.StatusInterrupted || !strings.Contains(msg, tr.LoadBalancerID+" task "+tr.Task) {
				t.Errorf("%s: status %s, task %s not named in %s", tr.Address, tr.Status, tr.Task, msg)
			}
		}
	}
	if len(running) == 0 {
		t.Fatalf("no running task reported: %+v", rep.Targets)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "interrupted") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
	t.Logf("%s\n%s", table.String(), msg)

	again, err := newDeployerWith(t, sim, st, deploy.Options{TaskTimeout: 10 * time.Second}).Deploy(context.Background(), lin)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if again.Uploaded || sim.UploadCount() != 1 {
		t.Fatalf("re-run uploaded=%v, %d uploads: want the first one reused", again.Uploaded, sim.UploadCount())
	}
	servedEverywhere(t, sim, lin.Fingerprint)
}

// behindAnOrphanedTask is a deployer, with quick busy retries and taskTimeout,
// for account where lb-gz1 is busy with a task of taskDelay that no run waits for.
func behindAnOrphanedTask(t *testing.T, taskDelay, taskTimeout time.Duration) *deploy.Deployer {
	t.Helper()
	opts := account(t)
	opts.TaskDelay = taskDelay
	sim := simtest.Start(t, opts)
	orphanTask(t, sim)
	return deployerWithRetry(t, sim, newStore(t), quickBusyRetries, deploy.Options{TaskTimeout: taskTimeout})
}

// A killed run's task keeps its load balancer busy for longer than the
// API retries last: the re-run waits it out.
func TestRerunWaitsOutAnOrphanedTask(t *testing.T) {
	rep, err := behindAnOrphanedTask(t, 400*time.Millisecond, 10*time.Second).Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	if got := targetsWith(rep, deploy.StatusUpdated); !slices.Equal(got, exampleTargets) {
		t.Fatalf("updated %v, want %v", got, exampleTargets)
	}
}

// The wait for a busy load balancer is bounded by the task timeout, and the
// error says what kept it busy.
func TestBusyWaitIsBoundedByTheTaskTimeout(t *testing.T) {
	d := behindAnOrphanedTask(t, 5*time.Second, 300*time.Millisecond)
	start := time.Now()
	rep, err := d.Deploy(context.Background(), simtest.Lineage(t, "good-ecdsa-2", "example.test"))
	if err == nil {
		t.Fatalf("deploy succeeded while lb-gz1 was busy: %+v", rep)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("took %s with a 300ms task timeout", took)
	}
	for _, tr := range rep.Targets {
		if tr.LoadBalancerID == "lb-gz1" && !strings.Contains(tr.Error, "lb-gz1 stayed busy with another CLB task for 300ms") {
			t.Errorf("%s: %s %q", tr.Address, tr.Status, tr.Error)
		}
	}
}
