package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

var bins simtest.Binaries

func TestMain(m *testing.M) { bins.Main(m) }

// certbotDir is a copy of a corpus case (a certbot config dir, links and all).
func certbotDir(t *testing.T, kase string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "letsencrypt")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "..", "testdata", "lineages", kase), dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dst
}

func loadLineage(t *testing.T, dir string) *lineage.Lineage {
	t.Helper()
	l, err := lineage.Load(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metric reads one sample of the Prometheus text at url; ok is false if it
// is not there.
func metric(t *testing.T, url, series string) (v float64, ok bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		if found && name == series {
			v, err := strconv.ParseFloat(value, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// With every upload failing, the service stays up, retries with a growing
// wait and reports each failure in the journal and the metrics; when the
// cloud recovers the next retry deploys, and the failure count goes back
// to 0. SIGHUP reloads; SIGTERM exits 0.
func TestFailingDeployIsRetriedUntilItSucceeds(t *testing.T) {
	dir := certbotDir(t, "good-ecdsa-2")
	lin := loadLineage(t, filepath.Join(dir, "live", "example.test"))
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
		}},
		TaskDelay: 50 * time.Millisecond,
	})
	// A code retrying cannot fix, so each attempt fails at once.
	sim.FailNext("UploadCertificate", "FailedOperation.CertificateUploadFailed", 1000)

	conf := configtest.Write(t, "", 0o600)
	addr := freeAddr(t)
	url := "http://" + addr + "/metrics"
	cmd := exec.Command(filepath.Join(bins.Dir(t), "clbcert-watch"),
		"--metrics-listen", addr, "--quiet-period", "100ms", "--retry-min", "200ms", "--retry-max", "400ms")
	cmd.Env = append(simtest.HookEnv(t, sim),
		"PATH="+os.Getenv("PATH"),
		"CLBCERT_CONFIG="+conf,
		"CLBCERT_CERTBOT_DIR="+dir,
		"CLBCERT_REGIONS=ap-guangzhou")
	var stdout, stderr simtest.LockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("clbcert-watch stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
		}
	})

	failures := `clbcert_watch_deploy_failures{lineage="example.test"}`
	eventually.True(t, 10*time.Second, "three failures in the metrics", func() bool {
		v, _ := metric(t, url, failures)
		return v >= 3
	})
	select {
	case <-exited:
		t.Fatalf("clbcert-watch exited (%v) while the cloud was failing", waitErr)
	default:
	}
	if n := strings.Count(stderr.String(), "deploy failed; retrying"); n < 3 || !strings.Contains(stderr.String(), "CertificateUploadFailed") {
		t.Fatalf("%d failures in the log, want 3 or more naming the cause", n)
	}
	if v, ok := metric(t, url, `clbcert_watch_leaf_expiry_timestamp_seconds{lineage="example.test"}`); !ok || v != float64(lin.Leaf.NotAfter.Unix()) {
		t.Fatalf("expiry metric = %v (%v), want %d", v, ok, lin.Leaf.NotAfter.Unix())
	}

	sim.FailNext("UploadCertificate", "", 0)
	eventually.True(t, 10*time.Second, "a successful deployment in the metrics", func() bool {
		v, ok := metric(t, url, failures)
		s, _ := metric(t, url, `clbcert_watch_last_deploy_success_timestamp_seconds{lineage="example.test"}`)
		return ok && v == 0 && s > 0
	})
	if got := simtest.ServedLeaf(t, sim.ListenerAddr("lb-gz1", "lbl-https1"), "www.example.test"); got != lin.Fingerprint {
		t.Fatalf("the listener serves %.12s…, want the lineage's %.12s…", got, lin.Fingerprint)
	}
	if n := sim.UploadCount(); n != 1 {
		t.Fatalf("%d uploads, want 1", n)
	}
	if !strings.Contains(stdout.String(), "uploaded as") {
		t.Fatalf("no deploy report on stdout:\n%s", stdout.String())
	}

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, "the reload in the log", func() bool {
		return strings.Contains(stderr.String(), "configuration reloaded")
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v", waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clbcert-watch did not exit after SIGTERM")
	}
	if n := sim.UploadCount(); n != 1 {
		t.Fatalf("%d uploads after the reload, want 1", n)
	}
}

// A lineage that no target serves is not deployed, and not a failure: the
// watcher says so once and neither uploads nor retries.
func TestLineageWithoutTargetIsNoFailure(t *testing.T) {
	dir := certbotDir(t, "single")
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "example.test"}}},
			}},
		}},
	})
	conf := configtest.Write(t, "", 0o600)
	addr := freeAddr(t)
	cmd := exec.Command(filepath.Join(bins.Dir(t), "clbcert-watch"), "--metrics-listen", addr, "--quiet-period", "100ms", "--retry-min", "100ms")
	cmd.Env = append(simtest.HookEnv(t, sim), "PATH="+os.Getenv("PATH"), "CLBCERT_CONFIG="+conf, "CLBCERT_CERTBOT_DIR="+dir, "CLBCERT_REGIONS=ap-guangzhou")
	var stderr simtest.LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr + "/metrics"
	eventually.True(t, 10*time.Second, "a successful reconcile of www.example.test", func() bool {
		s, _ := metric(t, url, `clbcert_watch_last_deploy_success_timestamp_seconds{lineage="www.example.test"}`)
		return s > 0
	})
	if v, _ := metric(t, url, `clbcert_watch_deploy_failures{lineage="www.example.test"}`); v != 0 || sim.UploadCount() != 0 {
		t.Fatalf("failures %v, uploads %d; want none", v, sim.UploadCount())
	}
	if !strings.Contains(stderr.String(), "nothing deployed") || !strings.Contains(stderr.String(), "nothing matched") {
		t.Fatalf("the log does not say why nothing was deployed:\n%s", stderr.String())
	}
}

func TestUsageErrors(t *testing.T) {
	conf := configtest.Write(t, "", 0o600)
	badTarget := configtest.Write(t, "[[deploy]]\nlineage = \"example.test\"\ntargets = [\"nonsense\"]\n", 0o600)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{name: "argument", args: []string{"example.test"}, want: "takes no arguments"},
		{name: "no region", env: []string{"CLBCERT_REGIONS="}, want: "no CLB region given: pass --region"},
		{name: "quiet period", args: []string{"--quiet-period", "0s"}, want: "--quiet-period 0s"},
		{name: "bad target", env: []string{"CLBCERT_CONFIG=" + badTarget}, want: "[[deploy]] example.test"},
		{name: "unknown flag", args: []string{"--dry-run"}, want: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bins.Dir(t), "clbcert-watch"), tt.args...)
			cmd.Env = append([]string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
				"CLBCERT_CONFIG=" + conf, "CLBCERT_REGIONS=ap-guangzhou",
				"CLBCERT_STATE_DIR=" + t.TempDir(), "CLBCERT_CERTBOT_DIR=" + t.TempDir(),
				"TENCENTCLOUD_SECRET_ID=AKIDtest", "TENCENTCLOUD_SECRET_KEY=test",
			}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr, cmd.Stdout = &stderr, io.Discard
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("err %v, stderr %q: want exit 2 saying %q", err, stderr.String(), tt.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 {
				t.Errorf("want one line on stderr, got %d:\n%s", lines+1, stderr.String())
			}
		})
	}
}
