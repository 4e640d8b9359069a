package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// The benchmarks run only with -bench. One issuance takes seconds, so run
// them with a fixed count, e.g. -benchtime 3x; scripts/bench.sh runs them the
// way docs/BENCHMARKS.md was measured.

const (
	// benchDelay is the propagation delay of the delayed runs.
	benchDelay = 2 * time.Second
	// sleepPerName is the baseline hook's fixed wait after each record;
	// published manual-hook scripts sleep 5 to 30 s per name.
	sleepPerName = 10 * time.Second
	// slowEnv enables the baseline, which takes ~10 s per name per issuance.
	slowEnv = "CLBCERT_BENCH_SLOW"
)

// Two nameservers, as DNSPod gives every zone: clbcert waits for both.
var benchNameservers = []tcsim.NameserverSpec{
	{Host: "ns1.tcsim.test.", IP: "127.0.0.1"},
	{Host: "ns2.tcsim.test.", IP: "127.0.0.2"},
}

// BenchmarkIssuance times whole certbot runs against pebble and tcsim.
//
// delay=2s: clbcert's hooks with a 2 s propagation delay. Each iteration
// also issues the same names with no delay (untimed, in a second world), so
// overhead-s = delayed − (no delay + 2 s) compares runs made under the same
// load; the goal is at most 1.5 s, i.e. one propagation wait per run.
//
// sleep10: the fixed-sleep baseline (see sleepHook) under the same 2 s delay.
// It runs only with CLBCERT_BENCH_SLOW=1.
func BenchmarkIssuance(b *testing.B) {
	for _, n := range []int{2, 10} {
		domains := benchDomains(n)
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			b.Run("delay="+benchDelay.String(), func(b *testing.B) {
				fast := newBenchWorld(b, 0)
				delayed := newBenchWorld(b, benchDelay)
				var nodelay, withDelay, worst time.Duration
				iters := 0
				for b.Loop() {
					b.StopTimer()
					ref := fast.issueBench(b, iters, "clbcert-dns auth", domains)
					b.StartTimer()
					got := delayed.issueBench(b, iters, "clbcert-dns auth", domains)
					nodelay += ref
					withDelay += got
					if over := got - ref - benchDelay; iters == 0 || over > worst {
						worst = over
					}
					iters++
				}
				b.ReportMetric(withDelay.Seconds()/float64(iters), "s/issuance")
				b.ReportMetric(nodelay.Seconds()/float64(iters), "nodelay-s/issuance")
				b.ReportMetric((withDelay-nodelay).Seconds()/float64(iters)-benchDelay.Seconds(), "overhead-s")
				b.ReportMetric(worst.Seconds(), "max-overhead-s")
			})
			b.Run(fmt.Sprintf("sleep%d", int(sleepPerName.Seconds())), func(b *testing.B) {
				if os.Getenv(slowEnv) != "1" {
					b.Skipf("the fixed-sleep baseline takes ~%s per issuance; set %s=1 to run it (with -benchtime 1x)",
						time.Duration(n)*sleepPerName, slowEnv)
				}
				w := newBenchWorld(b, benchDelay)
				hook := sleepHook(b)
				var total time.Duration
				iters := 0
				for b.Loop() {
					total += w.issueBench(b, iters, hook, domains)
					iters++
				}
				b.ReportMetric(total.Seconds()/float64(iters), "s/issuance")
			})
		})
	}
}

// benchDomains is the apex, its wildcard, and n-2 single-label names under it.
func benchDomains(n int) []string {
	domains := []string{"example.test", "*.example.test"}
	for i := 0; len(domains) < n; i++ {
		domains = append(domains, string(rune('a'+i))+".example.test")
	}
	return domains
}

// newBenchWorld is newWorld with the zone and nameservers of the
// benchmarks. The ACME account is registered here, outside the timer: a
// renewal reuses the account.
func newBenchWorld(tb testing.TB, delay time.Duration) *world {
	tb.Helper()
	w := newWorld(tb, tcsim.Options{
		Zones:            []tcsim.ZoneSpec{{Name: "example.test"}},
		Nameservers:      benchNameservers,
		PropagationDelay: delay,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.certbot.Run(ctx, "register"); err != nil {
		tb.Fatal(err)
	}
	return w
}

// issueBench issues domains as a new lineage per iteration (certbot would
// otherwise keep the existing certificate) and returns certbot's wall time.
func (w *world) issueBench(tb testing.TB, iter int, authHook string, domains []string) time.Duration {
	tb.Helper()
	return w.issue(tb, "bench-"+strconv.Itoa(iter), authHook, nil, domains...).Duration
}

// sleepHook writes the baseline auth hook and returns its path. It is what
// "sleep per name" scripts do: add the record, then sleep a fixed time. The
// record is added by clbcert-dns told that more challenges follow, so it
// never waits itself; cleanup is the normal clbcert-dns cleanup.
func sleepHook(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "sleep-auth-hook")
	script := fmt.Sprintf("#!/bin/sh\nCERTBOT_REMAINING_CHALLENGES=1 clbcert-dns auth || exit\nexec sleep %d\n", int(sleepPerName.Seconds()))
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	return path
}

// gnuTime measures a process's peak RSS. The rusage that os/exec reports
// cannot: Go starts children with vfork, and Linux counts the parent's peak
// RSS (here the whole test binary, tcsim included) into the child's
// ru_maxrss at exec. GNU time forks from a ~1 MB process instead.
const gnuTime = "/usr/bin/time"

// BenchmarkHookProcess runs `clbcert-dns auth` (the last challenge, so it
// includes the propagation check on both nameservers) and `clbcert-dns
// cleanup` as certbot would, against tcsim on loopback with no delay. It
// reports each command's median wall time and peak RSS; the goals are 30 ms
// and 30 MB. Wall times include starting GNU time (under 1 ms).
func BenchmarkHookProcess(b *testing.B) {
	if _, err := os.Stat(gnuTime); err != nil {
		b.Skipf("%s is needed to measure peak RSS: apt-get install -y time", gnuTime)
	}
	sim := simtest.Start(b, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}, Nameservers: benchNameservers})
	bin := filepath.Join(bins.Dir(b), "clbcert-dns")
	env := append(simtest.HookEnv(b, sim),
		"CERTBOT_DOMAIN=example.test",
		"CERTBOT_ALL_DOMAINS=example.test",
		"CERTBOT_REMAINING_CHALLENGES=0",
	)
	rssFile := filepath.Join(b.TempDir(), "rss")
	var auth, cleanup measured
	for i := 0; b.Loop(); i++ {
		value := "CERTBOT_VALIDATION=bench-" + strconv.Itoa(i)
		out := auth.run(b, rssFile, append(slices.Clone(env), value), bin, "auth")
		cleanup.run(b, rssFile, append(slices.Clone(env), value, "CERTBOT_AUTH_OUTPUT="+strings.TrimSpace(out)), bin, "cleanup")
	}
	if left := (&world{sim: sim}).txt("example.test"); len(left) != 0 {
		b.Fatalf("TXT records left after cleanup: %v", left)
	}
	b.ReportMetric(auth.medianMs(), "auth-median-ms")
	b.ReportMetric(cleanup.medianMs(), "cleanup-median-ms")
	b.ReportMetric(auth.maxRSSMiB(), "auth-maxrss-MiB")
	b.ReportMetric(cleanup.maxRSSMiB(), "cleanup-maxrss-MiB")
}

// measured collects the wall times and peak RSS of runs of one command.
type measured struct {
	walls  []time.Duration
	maxRSS int64 // KiB
}

// run runs bin under GNU time, fails b unless it exits 0, records its wall
// time and peak RSS, and returns its stdout.
func (m *measured) run(b *testing.B, rssFile string, env []string, bin string, args ...string) string {
	b.Helper()
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, bin}, args...)...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m.walls = append(m.walls, time.Since(start))
	if err != nil {
		b.Fatalf("clbcert-dns %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	data, err := os.ReadFile(rssFile)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("%s wrote %q, want the peak RSS in KiB: %v", gnuTime, data, err)
	}
	m.maxRSS = max(m.maxRSS, kib)
	return stdout.String()
}

func (m *measured) medianMs() float64 {
	s := slices.Sorted(slices.Values(m.walls))
	mid := s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + mid) / 2
	}
	return float64(mid) / float64(time.Millisecond)
}

func (m *measured) maxRSSMiB() float64 { return float64(m.maxRSS) / 1024 }
