package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// runOps runs a built binary of ./hooks with env only (and PATH).
func runOps(t *testing.T, env []string, bin string, args ...string) simtest.Result {
	t.Helper()
	cmd := exec.Command(filepath.Join(bins.Dir(t), bin), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	return simtest.Run(t, cmd)
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// clbcert status through the binary: the exit status is the level, the
// table names every place, --json says the same, and a load balancer that
// cannot be read makes it UNKNOWN.
func TestStatusCommand(t *testing.T) {
	certbot := t.TempDir()
	now := time.Now()
	load := func(dir string) *lineage.Lineage {
		l, err := lineage.Load(dir, now)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	day := 24 * time.Hour
	example := load(simtest.Issue(t, certbot, "example.test", now.Add(-day), now.Add(60*day+time.Hour), "example.test", "*.example.test"))
	// 91 days, 71 gone: certbot should have renewed it 10 days ago.
	www := load(simtest.Issue(t, certbot, "www.example.test", now.Add(-71*day), now.Add(20*day+time.Hour), "www.example.test"))
	opts := simtest.ThreeTargets(simtest.UploadedByHand("ExCrt001", example), simtest.UploadedByHand("WwwCrt01", www))
	opts.Topology.LoadBalancers[0].Listeners[0].CertID = "WwwCrt01"
	sim := simtest.Start(t, opts)
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CERTBOT_DIR="+certbot)

	r := runOps(t, env, "clbcert", "status", "--region", "ap-guangzhou", "--region", "ap-shanghai")
	dueAt := func(l *lineage.Lineage) string {
		return level.Cert{NotBefore: l.Leaf.NotBefore, NotAfter: l.Leaf.NotAfter}.RenewalDue().UTC().Format("2006-01-02 15:04 UTC")
	}
	due := func(l *lineage.Lineage) string {
		return "  renew   due " + dueAt(l) + ", lifetime " + level.Words(l.Leaf.NotAfter.Sub(l.Leaf.NotBefore))
	}
	want := []string{
		"WARNING: 2 lineages: 0 critical, 1 warning, 1 ok",
		"OK        example.test: 60 days left, expires " + example.Leaf.NotAfter.UTC().Format(time.DateOnly),
		"  names   *.example.test, example.test",
		due(example),
		"  served  ap-guangzhou lb-gz1/lbl-sni1/example.test HTTPS",
		"  served  ap-shanghai lb-sh1/lbl-tls1 TCP_SSL",
		"WARNING   www.example.test: 20 days left, expires " + www.Leaf.NotAfter.UTC().Format(time.DateOnly),
		"  names   www.example.test",
		due(www),
		"  why     renewal overdue: due since " + dueAt(www) + " (10 days ago), 20 days",
		"  why     left: check that certbot renew runs and succeeds",
		"  served  ap-guangzhou lb-gz1/lbl-https1 HTTPS",
	}
	if r.Code != 1 || !slices.Equal(lines(r.Stdout), want) || r.Stderr != "" {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s\nwant exit 1 and:\n%s", r.Code, r.Stdout, r.Stderr, strings.Join(want, "\n"))
	}

	r = runOps(t, append(env, "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai"), "clbcert", "status", "--json")
	var doc struct {
		Status   string
		ExitCode int
		Lineages []struct {
			Name     string
			Status   string
			DaysLeft int
			Served   []struct{ Target string }
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != 1 {
		t.Fatalf("--json: exit %d, %v\n%s", r.Code, err, r.Stdout)
	}
	if doc.Status != "WARNING" || doc.ExitCode != 1 || len(doc.Lineages) != 2 || doc.Lineages[1].DaysLeft != 20 || doc.Lineages[1].Served[0].Target != "lb-gz1/lbl-https1" {
		t.Fatalf("--json: %+v", doc)
	}

	// Local facts only: the cloud is not asked.
	before := len(sim.CallCounts())
	r = runOps(t, env, "clbcert", "status")
	if r.Code != 1 || lines(r.Stdout)[len(lines(r.Stdout))-1] != "served and drift not checked: pass --region (e.g. --region ap-guangzhou), set CLBCERT_REGIONS, or put regions in the config file" || len(sim.CallCounts()) != before {
		t.Fatalf("without regions: exit %d\n%s", r.Code, r.Stdout)
	}

	r = runOps(t, env, "clbcert", "status", "--critical-days", "40")
	if r.Code != 2 || len(lines(r.Stderr)) != 1 || !strings.Contains(r.Stderr, "--warn-days at least --critical-days") {
		t.Fatalf("bad thresholds: %+v", r)
	}
	r = runOps(t, append(env, "CLBCERT_CERTBOT_DIR="+filepath.Join(certbot, "nope")), "clbcert", "status")
	if r.Code != 2 || !strings.Contains(r.Stderr, "--certbot-dir") {
		t.Fatalf("missing certbot dir: %+v", r)
	}
}

func TestStatusCommandUnknown(t *testing.T) {
	certbot := t.TempDir()
	now := time.Now()
	l := simtest.IssueLineage(t, certbot, "example.test", now.Add(-24*time.Hour), now.Add(90*24*time.Hour), "example.test", "*.example.test")
	opts := simtest.ThreeTargets(simtest.UploadedByHand("ExCrt001", l))
	opts.FailingLBs = []string{"lb-sh1"}
	sim := simtest.Start(t, opts)
	r := runOps(t, append(simtest.HookEnv(t, sim), "CLBCERT_CERTBOT_DIR="+certbot, "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai"), "clbcert", "status")
	out := lines(r.Stdout)
	if r.Code != 3 || out[0] != "UNKNOWN: 1 lineage: 0 critical, 0 warning, 1 ok; 1 part of the cloud unreadable" ||
		!strings.HasPrefix(out[len(out)-1], "UNKNOWN   ap-shanghai lb-sh1: could not be read: list listeners of lb-sh1 in ap-shanghai") {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// Deploy twice with clbcert-deploy, then roll back with clbcert rollback:
// the dry run changes nothing, the rollback puts the first certificate back
// on every target, a second one has nothing to do.
func TestRollbackCommand(t *testing.T) {
	first, second := simtest.Lineage(t, "good-rsa", "example.test"), simtest.Lineage(t, "good-ecdsa-2", "example.test")
	sim := simtest.Start(t, simtest.ThreeTargets(simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")))
	env := append(simtest.HookEnv(t, sim), "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai")
	for _, kase := range []string{"good-rsa", "good-ecdsa-2"} {
		if r := runOps(t, env, "clbcert-deploy", "--lineage", simtest.Corpus(kase, "example.test")); r.Code != 0 {
			t.Fatalf("deploy %s: %+v", kase, r)
		}
	}
	served := func(fp string) {
		t.Helper()
		for _, c := range []struct{ lb, lbl, sni string }{{"lb-gz1", "lbl-https1", "www.example.test"}, {"lb-gz1", "lbl-sni1", "example.test"}, {"lb-sh1", "lbl-tls1", "example.test"}} {
			if got := simtest.ServedLeaf(t, sim.ListenerAddr(c.lb, c.lbl), c.sni); got != fp {
				t.Errorf("%s/%s serves %s…, want %s…", c.lb, c.lbl, got[:12], fp[:12])
			}
		}
	}
	served(second.Fingerprint)
	modifies := func() int { return sim.Calls("ModifyListener") + sim.Calls("ModifyDomainAttributes") }

	before := modifies()
	r := runOps(t, env, "clbcert", "rollback", "--dry-run", "--json", "example.test")
	var plan struct {
		DryRun  bool
		Targets []struct {
			Status string
			To     string
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil || r.Code != 0 || !plan.DryRun || len(plan.Targets) != 3 {
		t.Fatalf("dry run: %v %+v\n%s", err, r, r.Stdout)
	}
	for _, tg := range plan.Targets {
		if tg.Status != "planned" {
			t.Errorf("dry run target %+v", tg)
		}
	}
	if modifies() != before {
		t.Fatal("the dry run modified a listener")
	}

	r = runOps(t, env, "clbcert", "rollback", "example.test")
	if r.Code != 0 || strings.Count(r.Stdout, " updated ") != 3 || strings.Count(r.Stdout, " tls\n") != 3 {
		t.Fatalf("rollback: %+v\n%s", r, r.Stdout)
	}
	served(first.Fingerprint)
	before = modifies()
	r = runOps(t, env, "clbcert", "rollback", "example.test")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "nothing to roll back") || modifies() != before {
		t.Fatalf("second rollback: %+v", r)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback"}, "takes one lineage"},
		{[]string{"rollback", "nope.test"}, "no deployment of nope.test is recorded"},
		{[]string{"rollback", "example.test", "--dry-run"}, "--dry-run after the lineage: put options first"},
	} {
		if r := runOps(t, env, "clbcert", tt.args...); r.Code != 2 || len(lines(r.Stderr)) != 1 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("%v: %+v, want exit 2 and %q", tt.args, r, tt.want)
		}
	}
}

// Three renewals deployed with keep 5: clbcert prune --keep 0 deletes the
// oldest (the newest is current, the middle one a rollback target); its
// dry run deletes nothing.
func TestPruneCommand(t *testing.T) {
	sim := simtest.Start(t, simtest.ThreeTargets(simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")))
	env := append(simtest.HookEnv(t, sim), "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai")
	certbot := t.TempDir()
	now := time.Now()
	for i := range 3 {
		from := now.Add(time.Duration(i-3) * 24 * time.Hour)
		dir := simtest.Issue(t, certbot, "example.test", from, from.Add(90*24*time.Hour), "example.test", "*.example.test")
		// --force: HandCrt1, the corpus's good-ecdsa, expires in 2125, later
		// than these renewals.
		if r := runOps(t, env, "clbcert-deploy", "--lineage", dir, "--keep", "5", "--force"); r.Code != 0 {
			t.Fatalf("deploy %d: %+v", i, r)
		}
	}
	var uploads []tcsim.CertInfo
	for _, c := range sim.Certificates() {
		if strings.HasPrefix(c.Alias, "clbcert/example.test/") {
			uploads = append(uploads, c)
		}
	}
	if len(uploads) != 3 {
		t.Fatalf("uploads %+v", uploads)
	}
	slices.SortFunc(uploads, func(a, b tcsim.CertInfo) int { return a.NotBefore.Compare(b.NotBefore) })
	oldest := uploads[0].ID

	r := runOps(t, env, "clbcert", "prune", "--keep", "0", "--dry-run")
	if r.Code != 0 || !strings.Contains(r.Stdout, "example.test  "+oldest+"  ") || !strings.Contains(r.Stdout, "would delete") || sim.Calls("DeleteCertificate") != 0 {
		t.Fatalf("dry run: %+v\n%s", r, r.Stdout)
	}
	r = runOps(t, env, "clbcert", "prune", "--keep", "0", "--json")
	var rep struct {
		Lineages []struct {
			Deleted []struct{ CertID string }
			Kept    []struct{ CertID, Reason string }
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || r.Code != 0 || len(rep.Lineages) != 1 {
		t.Fatalf("prune: %v %+v", err, r)
	}
	l := rep.Lineages[0]
	if len(l.Deleted) != 1 || l.Deleted[0].CertID != oldest || len(l.Kept) != 2 {
		t.Fatalf("prune: %+v", l)
	}
	for _, c := range sim.Certificates() {
		if c.ID == oldest {
			t.Fatalf("%s is still in the store", oldest)
		}
	}

	// A lineage neither recorded nor uploaded is a typo, as for rollback.
	for _, args := range [][]string{{"prune", "--dry-run", "nope.test"}, {"prune", "nope.test"}} {
		if r := runOps(t, env, "clbcert", args...); r.Code != 2 || len(lines(r.Stderr)) != 1 || !strings.Contains(r.Stderr, "no upload of nope.test") || !strings.Contains(r.Stderr, "recorded: example.test") {
			t.Errorf("%v: %+v, want exit 2 naming the recorded lineages", args, r)
		}
	}
}

// Usage errors exit 2, with one line that says what to do.
func TestUsageErrorsExit2(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"frobnicate", "--region", "x"}, `unknown command "frobnicate"`},
	} {
		r := runOps(t, []string{"HOME=" + t.TempDir()}, "clbcert", tt.args...)
		if r.Code != 2 || len(lines(r.Stderr)) != 1 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("%v: %+v, want exit 2 and %q", tt.args, r, tt.want)
		}
	}
}

// TestReadCommandsKeepSecrets: status, listeners and doctor read certificate
// details, whose answer carries the private key, with debug logs on: neither
// the key nor the API secret reaches their output.
func TestReadCommandsKeepSecrets(t *testing.T) {
	certbot := t.TempDir()
	now := time.Now()
	l := simtest.IssueLineage(t, certbot, "example.test", now.Add(-24*time.Hour), now.Add(60*24*time.Hour), "example.test", "*.example.test")
	sim := simtest.Start(t, simtest.ThreeTargets(simtest.UploadedByHand("ExCrt001", l)))
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CERTBOT_DIR="+certbot, "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai", "CLBCERT_LOG_LEVEL=debug")
	keyBody := strings.Split(strings.TrimSpace(l.KeyPEM), "\n")[1]
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"listeners", "--json"}, {"doctor", "--json"}, {"doctor"}} {
		r := runOps(t, env, "clbcert", args...)
		if sim.Calls("DescribeCertificateDetail") == 0 && args[0] == "status" {
			t.Fatalf("%v never asked for a certificate's detail; the test shows nothing", args)
		}
		for what, secret := range map[string]string{"the private key": keyBody, "the API secret": sim.Credential().SecretKey} {
			if strings.Contains(r.Stdout+r.Stderr, secret) {
				t.Errorf("clbcert %v printed %s", args, what)
			}
		}
	}
}
