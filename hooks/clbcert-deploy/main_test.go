package main

import (
	"crypto/tls"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

var bins simtest.Binaries

func TestMain(m *testing.M) { bins.Main(m) }

// account: example.test's old certificate (uploaded by hand) on a non-SNI
// HTTPS listener and an SNI domain of lb-gz1, and on lb-sh1's TCP_SSL
// listener; other.test on lb-gz1's SNI listener too.
func account(t *testing.T, taskDelay time.Duration) tcsim.Options {
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"),
			simtest.HandUploaded(t, "OtherCrt", "other", "other.test"),
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "HandCrt1"}, {Domain: "other.test", CertID: "OtherCrt"}}},
			}},
			{ID: "lb-sh1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
			}},
		}},
		TaskDelay: taskDelay,
	}
}

func deployCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bins.Dir(t), "clbcert-deploy"), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai"}, env...)
	return cmd
}

func runDeploy(t *testing.T, env []string, args ...string) simtest.Result {
	t.Helper()
	return simtest.Run(t, deployCmd(t, env, args...))
}

func TestBadLineagesChangeNothing(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	env := simtest.HookEnv(t, sim)
	tests := []struct{ kase, wantErr string }{
		{"key-mismatch", "does not match"},
		{"expired", "expired"},
		{"not-yet-valid", "not valid until"},
		{"broken-chain", "chain"},
		{"garbage-pem", "fullchain.pem"},
		{"empty-file", "empty"},
		{"missing-privkey", "privkey.pem"},
		{"unreadable-file", "privkey.pem"},
		{"symlink-loop", "loop"},
		{"encrypted-key", "encrypted"},
		{"no-san", "name"},
		{"leaf-only", "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.kase, func(t *testing.T) {
			r := runDeploy(t, env, "--lineage", simtest.Corpus(tt.kase, "example.test"))
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if (r.Code != 1 && r.Code != 2) || len(lines) != 1 || !strings.Contains(strings.ToLower(lines[0]), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q: want exit 1 or 2 and one line mentioning %q", r.Code, r.Stderr, tt.wantErr)
			}
		})
	}
	if n := len(sim.CallCounts()); n != 0 {
		t.Fatalf("bad lineages reached the API: %v", sim.CallCounts())
	}
	if r := runDeploy(t, env); r.Code != 2 || !strings.Contains(r.Stderr, "no lineage: pass --lineage") {
		t.Fatalf("no lineage: %+v", r)
	}
}

func TestPinnedTargetNotCoveredIsRefused(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	cfg := configtest.Write(t, "[[deploy]]\nlineage = \"example.test\"\ntargets = [\"lb-gz1/lbl-https1\", \"lb-gz1/lbl-sni1/other.test\"]\n", 0o600)
	r := runDeploy(t, append(simtest.HookEnv(t, sim), "CLBCERT_CONFIG="+cfg), "--lineage", simtest.Corpus("good-ecdsa-2", "example.test"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "lb-gz1/lbl-sni1/other.test serves other.test, which example.test does not cover") {
		t.Fatalf("%+v", r)
	}
	for _, a := range []string{"UploadCertificate", "ModifyListener", "ModifyDomainAttributes", "DeleteCertificate"} {
		if n := sim.Calls(a); n != 0 {
			t.Fatalf("%s called %d times", a, n)
		}
	}
}

// certbot's deploy hook: RENEWED_LINEAGE, a report on stdout, and a second
// run that changes nothing.
func TestDeployHookReportAndRerun(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	env := append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"), "RENEWED_DOMAINS=example.test *.example.test", "CLBCERT_LOG_LEVEL=debug")

	dry := runDeploy(t, env, "--dry-run")
	if dry.Code != 0 || !strings.Contains(dry.Stdout, "not uploaded yet (dry run)") || strings.Count(dry.Stdout, "planned") != 3 {
		t.Fatalf("dry run: %+v", dry)
	}
	first := runDeploy(t, env)
	if first.Code != 0 || strings.Count(first.Stdout, "updated") != 3 || !strings.Contains(first.Stdout, "uploaded as") {
		t.Fatalf("first run: %+v", first)
	}
	for _, c := range []struct{ lb, lbl, domain, want string }{
		{"lb-gz1", "lbl-https1", "", renewed.Fingerprint},
		{"lb-gz1", "lbl-sni1", "example.test", renewed.Fingerprint},
		{"lb-sh1", "lbl-tls1", "", renewed.Fingerprint},
	} {
		id := sim.ServedCert(c.lb, c.lbl, c.domain)
		if fp := fingerprintOf(sim, id); fp != c.want {
			t.Errorf("%s/%s/%s serves %s", c.lb, c.lbl, c.domain, id)
		}
	}
	if id := sim.ServedCert("lb-gz1", "lbl-sni1", "other.test"); id != "OtherCrt" {
		t.Errorf("other.test now serves %s", id)
	}

	second := runDeploy(t, env, "--json")
	var rep struct {
		Uploaded bool
		Targets  []struct{ Status string }
	}
	if err := json.Unmarshal([]byte(second.Stdout), &rep); err != nil || second.Code != 0 || rep.Uploaded || len(rep.Targets) != 3 {
		t.Fatalf("second run: %v %+v", err, second)
	}
	for _, tr := range rep.Targets {
		if tr.Status != "unchanged" {
			t.Fatalf("second run: %+v", rep)
		}
	}
	if sim.UploadCount() != 1 || sim.Calls("ModifyListener") != 2 || sim.Calls("ModifyDomainAttributes") != 1 {
		t.Fatalf("calls after two runs: %v", sim.CallCounts())
	}
	cred := sim.Credential()
	for _, out := range []string{dry.Stdout, dry.Stderr, first.Stdout, first.Stderr, second.Stdout, second.Stderr} {
		if strings.Contains(out, cred.SecretKey) || strings.Contains(out, "PRIVATE KEY") {
			t.Fatalf("a secret reached the output:\n%s", out)
		}
	}
}

func fingerprintOf(sim *tcsim.Sim, id string) string {
	for _, c := range sim.Certificates() {
		if c.ID == id {
			return c.Fingerprint
		}
	}
	return ""
}

// Killed in the middle of binding and run again, it finishes the job with
// exactly one upload.
func TestKilledHalfwayFinishesOnRerun(t *testing.T) {
	sim := simtest.Start(t, account(t, 700*time.Millisecond))
	env := append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"))
	cmd := deployCmd(t, env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually.True(t, 20*time.Second, "the deploy started binding", func() bool {
		return sim.Calls("ModifyListener")+sim.Calls("ModifyDomainAttributes") > 0
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r := runDeploy(t, env)
	if r.Code != 0 {
		t.Fatalf("re-run: %+v", r)
	}
	if n := sim.UploadCount(); n != 1 {
		t.Fatalf("%d uploads after a kill and a re-run, want 1", n)
	}
	for _, c := range []struct{ lb, lbl, domain string }{{"lb-gz1", "lbl-https1", ""}, {"lb-gz1", "lbl-sni1", "example.test"}, {"lb-sh1", "lbl-tls1", ""}} {
		if id := sim.ServedCert(c.lb, c.lbl, c.domain); id == "HandCrt1" {
			t.Errorf("%s/%s/%s still serves the old certificate", c.lb, c.lbl, c.domain)
		}
	}
}

// SIGTERM in the middle of binding: the report says the run was
// interrupted, names the CLB tasks still running and that running again
// finishes the job (exit 1, no timeout blamed); the re-run finishes with the
// one upload.
func TestSIGTERMReportsInterruptedAndRerunFinishes(t *testing.T) {
	sim := simtest.Start(t, account(t, time.Second))
	env := append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"))
	cmd := deployCmd(t, env)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// Two changes submitted, and two task polls: the deploy polls a task
	// only once it has CLB's answer, so by then it knows both task ids
	// (the tasks run 1 s, the first poll comes after 500 ms).
	eventually.True(t, 20*time.Second, "the deploy bound two targets and awaits their tasks", func() bool {
		return sim.Calls("ModifyListener")+sim.Calls("ModifyDomainAttributes") >= 2 && sim.Calls("DescribeTaskStatus") >= 2
	})
	cmd.Process.Signal(syscall.SIGTERM)
	start := time.Now()
	cmd.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to stop after SIGTERM", took)
	}
	code := cmd.ProcessState.ExitCode()
	msg := stderr.String()
	if code != 1 || !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "running again finishes the job") || !strings.Contains(msg, "lb-gz1 task ") || !strings.Contains(msg, "lb-sh1 task ") {
		t.Fatalf("exit %d, stderr %q: want 1, interrupted, the running tasks and how to finish", code, msg)
	}
	if strings.Contains(msg, "still running after") || strings.Contains(msg, "console") {
		t.Fatalf("an interrupted run blames a timeout: %s", msg)
	}
	if !strings.Contains(stdout.String(), "interrupted") || !strings.Contains(stdout.String(), "finishes on its own") {
		t.Fatalf("report:\n%s", stdout.String())
	}
	r := runDeploy(t, env)
	if r.Code != 0 || sim.UploadCount() != 1 {
		t.Fatalf("re-run: %+v; %d uploads, want 1", r, sim.UploadCount())
	}
	for _, c := range []struct{ lb, lbl, domain string }{{"lb-gz1", "lbl-https1", ""}, {"lb-gz1", "lbl-sni1", "example.test"}, {"lb-sh1", "lbl-tls1", ""}} {
		if id := sim.ServedCert(c.lb, c.lbl, c.domain); id == "HandCrt1" {
			t.Errorf("%s/%s/%s still serves the old certificate", c.lb, c.lbl, c.domain)
		}
	}
}

func TestMissingLineageDirIsAUsageError(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	r := runDeploy(t, simtest.HookEnv(t, sim), "--lineage", filepath.Join(t.TempDir(), "live", "nowhere.test"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "does not exist") {
		t.Fatalf("%+v: want exit 2 naming the missing directory", r)
	}
	if n := len(sim.CallCounts()); n != 0 {
		t.Fatalf("calls: %v", sim.CallCounts())
	}
}

// A fullchain.pem without the leaf's issuer is refused before any call,
// naming the issuer and the flag; with the flag, chain.pem completes it and
// the listener serves leaf and intermediate.
func TestDeployRefusesMissingIssuer(t *testing.T) {
	opts := account(t, 0)
	opts.Certificates[0] = simtest.HandUploadedUntil(t, "HandCrt1", time.Now().Add(10*24*time.Hour), "example.test", "*.example.test")
	sim := simtest.Start(t, opts)
	env := simtest.HookEnv(t, sim)
	dir := simtest.Corpus("leaf-only", "example.test")
	for _, args := range [][]string{{"--lineage", dir}, {"--lineage", dir, "--dry-run"}} {
		r := runDeploy(t, env, args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.Code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "not its issuer CN=clbcert Test E1") || !strings.Contains(lines[0], "--chain-from-chain-pem") {
			t.Fatalf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
	}
	if n := len(sim.CallCounts()); n != 0 {
		t.Fatalf("a lineage without its issuer reached the API: %v", sim.CallCounts())
	}
	if r := runDeploy(t, env, "--lineage", dir, "--chain-from-chain-pem"); r.Code != 0 || strings.Count(r.Stdout, "updated") != 3 {
		t.Fatalf("with --chain-from-chain-pem: %+v", r)
	}
	conn, err := tls.Dial("tcp", sim.ListenerAddr("lb-gz1", "lbl-https1"), &tls.Config{ServerName: "www.example.test", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chain := conn.ConnectionState().PeerCertificates
	if len(chain) != 2 || chain[1].Subject.CommonName != "clbcert Test E1" {
		t.Fatalf("served %d certificates, want the leaf and clbcert Test E1", len(chain))
	}
}

// The exit codes table: what is refused before any change exits 2, in a dry
// run as in a real one; --upload-anyway lets a certificate without targets
// be uploaded.
func TestDeployRefusalsExitTwo(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	env := simtest.HookEnv(t, sim)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good, single := simtest.Corpus("good-ecdsa-2", "example.test"), simtest.Corpus("single", "www.example.test")
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown region", []string{"CLBCERT_REGIONS=ap-guangzhou,ap-nowhere"}, []string{"--lineage", good}, "unknown CLB region ap-nowhere"},
		{"state dir under a file", []string{"CLBCERT_STATE_DIR=" + filepath.Join(file, "state")}, []string{"--lineage", good}, "not a directory"},
		{"no target", nil, []string{"--lineage", single}, "nothing matched"},
	}
	for _, tt := range tests {
		for _, dry := range []bool{false, true} {
			args := tt.args
			if dry {
				args = append(slices.Clone(args), "--dry-run")
			}
			r := runDeploy(t, append(slices.Clone(env), tt.env...), args...)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("%s (dry run %v): exit %d, stderr %q: want exit 2 and one line saying %q", tt.name, dry, r.Code, r.Stderr, tt.want)
			}
		}
	}
	for _, a := range []string{"UploadCertificate", "ModifyListener", "ModifyDomainAttributes", "DeleteCertificate"} {
		if n := sim.Calls(a); n != 0 {
			t.Fatalf("%s called %d times", a, n)
		}
	}
	r := runDeploy(t, env, "--lineage", single)
	if !strings.Contains(r.Stderr, "pin the targets in the config file") || !strings.Contains(r.Stderr, "--upload-anyway") {
		t.Fatalf("no target: the message does not say what to do: %q", r.Stderr)
	}
	if r := runDeploy(t, env, "--lineage", single, "--upload-anyway"); r.Code != 0 || sim.UploadCount() != 1 {
		t.Fatalf("--upload-anyway: %+v, %d uploads", r, sim.UploadCount())
	}
}

// A dry run exits as the run would: 1 when a load balancer cannot be read.
func TestDryRunExitsLikeTheRun(t *testing.T) {
	opts := account(t, 0)
	opts.FailingLBs = []string{"lb-sh1"}
	sim := simtest.Start(t, opts)
	env := append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"))
	dry := runDeploy(t, env, "--dry-run")
	run := runDeploy(t, env)
	if dry.Code != 1 || run.Code != 1 || !strings.Contains(dry.Stderr, "lb-sh1") || strings.Contains(dry.Stdout, "no target serves") {
		t.Fatalf("dry run %+v\nrun %+v", dry, run)
	}
}
