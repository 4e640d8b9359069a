package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
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
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// watchDeadline is how soon after certbot exits every listener must serve
// the new leaf: the watcher's default quiet period of 2 s plus one
// deployment (certbot exits about 1 s after its swap).
const watchDeadline = 3 * time.Second

// watchProc is a running clbcert-watch.
type watchProc struct {
	cmd     *exec.Cmd
	stderr  *simtest.LockedBuffer
	exited  chan struct{}
	waitErr error
}

// startWatch runs the built clbcert-watch on the world's certbot config dir
// with the defaults, configured through the environment as the systemd
// unit configures it.
func startWatch(t testing.TB, sim *tcsim.Sim, certbotDir string) *watchProc {
	t.Helper()
	conf := configtest.Write(t, "", 0o600)
	p := &watchProc{stderr: &simtest.LockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(bins.Dir(t), "clbcert-watch"))
	p.cmd.Env = append(simtest.HookEnv(t, sim),
		"PATH="+os.Getenv("PATH"),
		"CLBCERT_CONFIG="+conf,
		"CLBCERT_CERTBOT_DIR="+certbotDir,
		"CLBCERT_REGIONS=ap-guangzhou,ap-shanghai")
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("clbcert-watch output:\n%s", p.stderr.String())
		}
	})
	return p
}

// stop sends SIGTERM and expects a clean exit.
func (p *watchProc) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			t.Fatalf("clbcert-watch after SIGTERM: %v", p.waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clbcert-watch did not exit after SIGTERM")
	}
}

// serves reports whether a TLS client of the listener gets the leaf with
// fingerprint fp.
func serves(sim *tcsim.Sim, lb, lbl, serverName, fp string) bool {
	conn, err := tls.Dial("tcp", sim.ListenerAddr(lb, lbl), &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		return false
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:]) == fp
}

// certbot renews with no deploy hook at all; clbcert-watch notices each
// renewal in live/ and every listener serves the new leaf within 3 s of
// certbot's exit. Five renewals in a row: five deployments, one upload each.
func TestWatchDeploysEachRenewal(t *testing.T) {
	w := newWorld(t, tcsim.Options{
		Zones:        []tcsim.ZoneSpec{{Name: "example.test"}},
		Certificates: []tcsim.CertSpec{simtest.HandUploadedUntil(t, "HandCrt1", time.Now().Add(10*24*time.Hour), "example.test", "*.example.test")},
		// One target per load balancer: load balancers are worked on in
		// parallel, so a deployment lasts one CLB task (pkg/deploy first
		// asks about a task 1 s after starting it), which the 3 s allow.
		// Two targets on one load balancer take two tasks in turn.
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gzweb1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
			{ID: "lb-gzweb2", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "example.test", CertID: "HandCrt1"}}},
			}},
			{ID: "lb-shweb1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-sni2", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "*.example.test", CertID: "HandCrt1"}}},
			}},
		}},
		TaskDelay: 100 * time.Millisecond,
	})
	targets := []struct{ lb, lbl, sni string }{
		{"lb-gzweb1", "lbl-https1", "www.example.test"},
		{"lb-gzweb2", "lbl-sni1", "example.test"},
		{"lb-shweb1", "lbl-sni2", "x.example.test"},
	}
	// waitServed returns how long after since every target served the
	// current leaf, failing after limit.
	waitServed := func(what string, since time.Time, limit time.Duration) (string, time.Duration) {
		t.Helper()
		leaf, err := w.certbot.Leaf("example.test")
		if err != nil {
			t.Fatal(err)
		}
		fp := lineage.Fingerprint(leaf.Raw)
		eventually.True(t, limit-time.Since(since), fmt.Sprintf("%s: every listener serves the new leaf %.12s…", what, fp), func() bool {
			for _, tg := range targets {
				if !serves(w.sim, tg.lb, tg.lbl, tg.sni, fp) {
					return false
				}
			}
			return true
		})
		return fp, time.Since(since)
	}

	// Issued before the watcher runs, without a deploy hook: the watcher's
	// first look at live/ deploys it.
	w.issue(t, "example.test", "clbcert-dns auth", nil, "example.test", "*.example.test")
	proc := startWatch(t, w.sim, w.certbot.ConfigDir())
	deployedFPs := []string{}
	fp, _ := waitServed("at start", time.Now(), 30*time.Second)
	deployedFPs = append(deployedFPs, fp)

	var latencies []time.Duration
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		_, err := w.certbot.Run(ctx, "renew", "--force-renewal", "--cert-name", "example.test")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		fp, took := waitServed(fmt.Sprintf("renewal %d", i+1), time.Now(), watchDeadline)
		latencies = append(latencies, took)
		deployedFPs = append(deployedFPs, fp)
	}
	t.Logf("certbot exit → every listener serves the new leaf: %v", latencies)

	if n := w.sim.UploadCount(); n != len(deployedFPs) {
		t.Errorf("%d uploads for %d certificates", n, len(deployedFPs))
	}
	if uniq := slices.Compact(slices.Sorted(slices.Values(deployedFPs))); len(uniq) != len(deployedFPs) {
		t.Errorf("the six leaves are not all different: %v", deployedFPs)
	}
	// A listener serves the new leaf before the deployment has verified
	// every target and pruned: stopping lets it finish, and log it.
	proc.stop(t)
	for _, msg := range []string{"msg=deploying", "msg=deployed"} {
		if n := strings.Count(proc.stderr.String(), msg); n != len(deployedFPs) {
			t.Errorf("%d times %q in the log, want %d", n, msg, len(deployedFPs))
		}
	}
}

// BenchmarkWatchIdle runs clbcert-watch on 50 lineages and, once its
// start-up deployments are done, measures its CPU time over 60 s of no
// change and its peak RSS. Goals: ~0 CPU (inotify, no polling), peak RSS
// under 25 MB. Run it with -benchtime 1x: each iteration takes 60 s.
func BenchmarkWatchIdle(b *testing.B) {
	const lineages = 50
	sim := simtest.Start(b, tcsim.Options{})
	dir := filepath.Join(b.TempDir(), "letsencrypt")
	corpus := filepath.Join("..", "..", "testdata", "lineages", "good-ecdsa", "archive", "example.test")
	for i := range lineages {
		name := fmt.Sprintf("site%02d.example.test", i)
		if out, err := exec.Command("mkdir", "-p", filepath.Join(dir, "archive"), filepath.Join(dir, "live", name)).CombinedOutput(); err != nil {
			b.Fatalf("mkdir: %v: %s", err, out)
		}
		if out, err := exec.Command("cp", "-a", corpus, filepath.Join(dir, "archive", name)).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		for _, kind := range []string{"cert", "chain", "fullchain", "privkey"} {
			if err := os.Symlink(fmt.Sprintf("../../archive/%s/%s1.pem", name, kind), filepath.Join(dir, "live", name, kind+".pem")); err != nil {
				b.Fatal(err)
			}
		}
	}
	proc := startWatch(b, sim, dir)
	eventually.True(b, 2*time.Minute, fmt.Sprintf("the %d start-up deployments finished", lineages), func() bool {
		return strings.Count(proc.stderr.String(), "msg=deployed") >= lineages
	})
	pid := proc.cmd.Process.Pid
	var cpu time.Duration
	for b.Loop() {
		before := cpuTime(b, pid)
		time.Sleep(time.Minute)
		cpu += cpuTime(b, pid) - before
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/60s")
	b.ReportMetric(procStatusMB(b, pid, "VmHWM"), "peak-rss-MB")
	b.ReportMetric(procStatusMB(b, pid, "VmRSS"), "idle-rss-MB")
	proc.stop(b)
}

// cpuTime is the user + system time a process has used (/proc/PID/stat,
// in USER_HZ ticks, which Linux fixes at 100 per second).
func cpuTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var utime, stime int64
	if _, err := fmt.Sscan(fields[11]+" "+fields[12], &utime, &stime); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// procStatusMB reads a kB field of /proc/PID/status in MB.
func procStatusMB(tb testing.TB, pid int, field string) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
