package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// The scale of BenchmarkDeploy1000: one certificate onto 1,000 targets.
const (
	benchLBs       = 200
	benchTaskDelay = 500 * time.Millisecond
	// benchCLBRate and benchSSLRate are tcsim's limits, the documented ones.
	benchCLBRate = 20
	benchSSLRate = 10
)

var (
	benchRegions = []string{"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-nanjing"}
	// Load balancers share these VIPs on different ports, as tcsim allows.
	benchVIPs       = []string{"127.0.0.51", "127.0.0.52", "127.0.0.53", "127.0.0.54"}
	benchCLBActions = []string{"DescribeLoadBalancers", "DescribeListeners", "ModifyListener", "ModifyDomainAttributes", "DescribeTaskStatus", "DescribeLoadBalancerListByCertId"}
	benchSSLActions = []string{"DescribeCertificates", "UploadCertificate", "DeleteCertificate"}
)

// benchOptions is the account of the benchmark: 200 load balancers spread
// over five regions, each with five targets that serve example.test's old
// certificate — two HTTPS listeners and a TCP_SSL listener (ModifyListener),
// and two domains of an SNI listener (ModifyDomainAttributes) — so 600 +
// 400 changes. Every one of the 800 listeners really serves TLS.
func benchOptions(tb testing.TB) tcsim.Options {
	old := benchLineage(tb, "good-ecdsa")
	rates := map[string]int{}
	for _, a := range benchCLBActions {
		rates[a] = benchCLBRate
	}
	for _, a := range benchSSLActions {
		rates[a] = benchSSLRate
	}
	opts := tcsim.Options{
		Certificates: []tcsim.CertSpec{{ID: "HandCrt1", Alias: "uploaded by hand", CertPEM: old.FullchainPEM, KeyPEM: old.KeyPEM}},
		RateLimits:   rates,
		TaskDelay:    benchTaskDelay,
	}
	for i := range benchLBs {
		n := fmt.Sprintf("%04d", i)
		opts.Topology.LoadBalancers = append(opts.Topology.LoadBalancers, tcsim.LoadBalancerSpec{
			ID: "lb-bench" + n, Region: benchRegions[i%len(benchRegions)], VIP: benchVIPs[i%len(benchVIPs)],
			Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-www" + n, Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-api" + n, Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "api.example.test"}}},
				{ID: "lbl-tls" + n, Protocol: "TCP_SSL", CertID: "HandCrt1"},
				{ID: "lbl-sni" + n, Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "HandCrt1"}, {Domain: "*.example.test", CertID: "HandCrt1"}}},
			},
		})
	}
	return opts
}

// benchTargets counts the targets of benchOptions by the action that binds them.
func benchTargets(opts tcsim.Options) (listeners, domains int) {
	for _, lb := range opts.Topology.LoadBalancers {
		for _, l := range lb.Listeners {
			if !l.SNI {
				listeners++
				continue
			}
			domains += len(l.Rules)
		}
	}
	return listeners, domains
}

func benchLineage(tb testing.TB, kase string) *lineage.Lineage {
	tb.Helper()
	l, err := lineage.Load(simtest.Corpus(kase, "example.test"), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// bound is the shortest a deployment can take under the rate limits and
// one-task-at-a-time per load balancer, whatever the client does, with each
// term in seconds. Network and CPU time count as zero. A rate-limited action
// called n times needs (n − burst) / rate after its first call, with tcsim's
// burst = rate.
type bound struct {
	discovery, binding, verify, total float64
}

func lowerBound(lbs, listenerTargets, domainTargets int, rate float64, taskDelay time.Duration) bound {
	calls := func(n int) float64 { return max(0, float64(n)-rate) / rate }
	task := taskDelay.Seconds()
	perLB := float64(listenerTargets+domainTargets) / float64(lbs)
	var b bound
	// Every load balancer must be described before the first change (a
	// lineage that does not cover a pinned target is refused before any).
	// DescribeLoadBalancers (one page per region) and the SSL calls
	// (DescribeCertificates, UploadCertificate, prune's listing) are a few
	// each, within their bursts.
	b.discovery = calls(lbs)
	// A change's task runs taskDelay and must then be seen done by at least
	// one DescribeTaskStatus; tasks of one load balancer run one after
	// another. So binding lasts at least the longest of: issuing all the
	// changes of one action, then its last task; one poll per task, the
	// first not before the first task ends; one load balancer's chain.
	changes := max(calls(listenerTargets), calls(domainTargets)) + task
	polls := task + calls(listenerTargets+domainTargets)
	b.binding = max(changes, polls, perLB*task)
	// Describing each load balancer again can overlap the binding of the
	// others (its own tasks are done): it adds only what does not fit into
	// the binding phase at the same rate.
	b.verify = max(0, calls(lbs)-b.binding)
	b.total = b.discovery + b.binding + b.verify
	return b
}

// BenchmarkDeploy1000 deploys one certificate onto 1,000 targets (200 load
// balancers × 5 listeners or SNI domains, 5 regions) through tcsim at 20
// requests/s per CLB action, 10/s per SSL action, 500 ms per task, and
// reports the wall time beside the lower bound the limits allow (goal:
// ratio ≤ 1.25), API calls per target and DescribeTaskStatus calls per
// task. Every target must end updated and verified by a TLS handshake.
//
// in-process runs pkg/deploy in the test binary (for profiles: tcsim's work
// shows there too); process runs the clbcert-deploy binary, as certbot
// would, under GNU time, which gives the deploy's own peak RSS. One
// iteration takes about a minute: run with -benchtime 1x.
func BenchmarkDeploy1000(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		var planned, applied time.Duration
		iters := 0
		benchDeploy(b, func(b *testing.B, sim *tcsim.Sim, lineageDir string) (*deploy.Report, int64) {
			st, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			phases := &phaseLog{seen: map[string]time.Time{}}
			d, err := deploy.New(simtest.Config(b, sim), st, deploy.Options{Regions: benchRegions, Logger: slog.New(phases)})
			if err != nil {
				b.Fatal(err)
			}
			lin, err := lineage.Load(lineageDir, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			rep, err := d.Deploy(context.Background(), lin)
			if err != nil {
				b.Fatal(err)
			}
			end := time.Now()
			planned += phases.at("plan").Sub(start)
			applied += end.Sub(phases.at("binding"))
			iters++
			return rep, 0
		})
		b.ReportMetric(planned.Seconds()/float64(iters), "discovery-s")
		b.ReportMetric(applied.Seconds()/float64(iters), "bind+verify-s")
	})
	b.Run("process", func(b *testing.B) {
		if _, err := os.Stat(gnuTime); err != nil {
			b.Skipf("%s is needed to measure peak RSS: apt-get install -y time", gnuTime)
		}
		bin := buildDeploy(b)
		benchDeploy(b, func(b *testing.B, sim *tcsim.Sim, lineageDir string) (*deploy.Report, int64) {
			return runDeployBinary(b, bin, sim, lineageDir)
		})
	})
}

// phaseLog notes when the deploy first logs each message: "plan" ends
// discovery, "binding" starts the changes (after the upload).
type phaseLog struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (p *phaseLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *phaseLog) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *phaseLog) WithGroup(string) slog.Handler            { return p }

func (p *phaseLog) Handle(_ context.Context, r slog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.seen[r.Message]; !ok {
		p.seen[r.Message] = r.Time
	}
	return nil
}

func (p *phaseLog) at(msg string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[msg]
}

// deployRun deploys the lineage at dir against sim and returns the report
// and, if it measured one, the deploy's peak RSS in KiB.
type deployRun func(b *testing.B, sim *tcsim.Sim, dir string) (*deploy.Report, int64)

func benchDeploy(b *testing.B, run deployRun) {
	opts := benchOptions(b)
	listeners, domains := benchTargets(opts)
	targets := listeners + domains
	// Each CLB region's calls go to its regional host, an access region with
	// its own budget per action: the regions proceed side by side, so the
	// bound is one region's share. The bound with one budget for all (calls
	// through the plain host) is reported beside it.
	r := len(benchRegions)
	lb := lowerBound(benchLBs/r, listeners/r, domains/r, benchCLBRate, benchTaskDelay)
	shared := lowerBound(benchLBs, listeners, domains, benchCLBRate, benchTaskDelay)
	newCert := benchLineage(b, "good-ecdsa-2")
	var wall time.Duration
	var calls, polls int
	var maxRSS int64
	iters := 0
	for b.Loop() {
		b.StopTimer()
		sim, err := tcsim.Start(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rep, rss := run(b, sim, simtest.Corpus("good-ecdsa-2", "example.test"))
		took := time.Since(start)
		b.StopTimer()
		checkBenchReport(b, rep, targets, newCert.Fingerprint)
		for _, n := range sim.CallCounts() {
			calls += n
		}
		polls += sim.Calls("DescribeTaskStatus")
		sim.Close()
		wall += took
		maxRSS = max(maxRSS, rss)
		iters++
		b.StartTimer()
	}
	mean := wall.Seconds() / float64(iters)
	b.ReportMetric(mean, "wall-s")
	b.ReportMetric(lb.total, "bound-s")
	b.ReportMetric(shared.total, "one-budget-bound-s")
	b.ReportMetric(mean/lb.total, "ratio")
	b.ReportMetric(float64(calls)/float64(iters*targets), "calls/target")
	b.ReportMetric(float64(polls)/float64(iters*targets), "polls/task")
	if maxRSS > 0 {
		b.ReportMetric(float64(maxRSS)/1024, "maxrss-MiB")
	}
	b.Logf("%d targets on %d load balancers in %d regions: wall %.1f s, lower bound with a budget per access region %.1f s (discovery %.1f + binding %.1f + verification %.1f), ratio %.2f (goal 1.25); with one budget for all regions the bound would be %.1f s",
		targets, benchLBs, r, mean, lb.total, lb.discovery, lb.binding, lb.verify, mean/lb.total, shared.total)
}

// checkBenchReport fails b unless every target was updated and a TLS
// handshake saw the new certificate on it.
func checkBenchReport(b *testing.B, rep *deploy.Report, targets int, fingerprint string) {
	b.Helper()
	if len(rep.Targets) != targets || rep.Fingerprint != fingerprint {
		b.Fatalf("report has %d targets for %q, want %d for %q", len(rep.Targets), rep.Fingerprint, targets, fingerprint)
	}
	for _, t := range rep.Targets {
		if t.Status != deploy.StatusUpdated || t.Verified != "tls" {
			b.Fatalf("%s: %s, verified %q: %s", t.Address, t.Status, t.Verified, t.Error)
		}
	}
}

// gnuTime measures the deploy process's peak RSS. The rusage that os/exec
// reports cannot: Go starts children with vfork, and Linux counts the
// parent's peak RSS (the test binary with tcsim's 800 listeners) into the
// child's ru_maxrss at exec.
const gnuTime = "/usr/bin/time"

// buildDeploy builds clbcert-deploy into a temporary directory.
func buildDeploy(b *testing.B) string {
	b.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "clbcert-deploy")
	cmd := exec.Command("go", "build", "-o", bin, "./hooks/clbcert-deploy")
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build clbcert-deploy: %v\n%s", err, out)
	}
	return bin
}

func runDeployBinary(b *testing.B, bin string, sim *tcsim.Sim, dir string) (*deploy.Report, int64) {
	b.Helper()
	tmp := b.TempDir()
	rssFile := filepath.Join(tmp, "rss")
	abs, err := filepath.Abs(dir)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(gnuTime, "-f", "%M", "-o", rssFile, bin, "--lineage", abs, "--json")
	cmd.Env = append(simtest.Env(sim),
		"HOME="+tmp,
		"CLBCERT_STATE_DIR="+filepath.Join(tmp, "state"),
		"CLBCERT_REGIONS="+strings.Join(benchRegions, ","),
		"CLBCERT_LOG_LEVEL=warn",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("clbcert-deploy: %v\n%s", err, stderr.String())
	}
	var rep deploy.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		b.Fatalf("clbcert-deploy --json: %v\n%s", err, stdout.String())
	}
	data, err := os.ReadFile(rssFile)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("GNU time wrote %q: %v", data, err)
	}
	return &rep, kib
}
