package metrics

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/pkg/level"
)

// scrape is the samples reg gives, as the textfile has them, one a line,
// sorted, without HELP and TYPE.
func scrape(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.prom")
	if err := WriteTextfile(path, reg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// The level is judged at each scrape: a 160-hour certificate is OK at
// first, WARNING once its renewal is overdue, CRITICAL once half its
// window is gone; a lagging target is WARNING within the deploy grace.
func TestCollectJudgesAtScrape(t *testing.T) {
	nb := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := nb
	c := New(level.Rule{}, func() time.Time { return now })
	c.Set(Lineage{Name: "short.test", Cert: level.Cert{NotBefore: nb, NotAfter: nb.Add(160 * time.Hour)}, Written: nb,
		Targets: map[string]bool{"lb-1/lbl-1": true}})
	c.Set(Lineage{Name: "broken.test", Floor: level.Critical})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	want := func(lv string, served ...string) string {
		return strings.Join(append([]string{
			`clbcert_certificate_level{lineage="broken.test"} 2`,
			`clbcert_certificate_level{lineage="short.test"} ` + lv,
			`clbcert_certificate_not_after_seconds{lineage="short.test"} 1.7728992e+09`,
			`clbcert_certificate_not_before_seconds{lineage="short.test"} 1.7723232e+09`,
			`clbcert_certificate_renewal_due_seconds{lineage="short.test"} 1.7726112e+09`,
		}, served...), "\n")
	}
	one := `clbcert_target_serves_current{lineage="short.test",target="lb-1/lbl-1"} 1`
	for _, tt := range []struct {
		age  time.Duration
		want string
	}{{0, "0"}, {96 * time.Hour, "1"}, {120 * time.Hour, "2"}} {
		now = nb.Add(tt.age)
		if got := scrape(t, reg); got != want(tt.want, one) {
			t.Errorf("at %s:\n%s\nwant\n%s", tt.age, got, want(tt.want, one))
		}
	}

	// A renewal deploying: a target lags, WARNING for the grace, then CRITICAL.
	c.Update("short.test", func(l *Lineage) { l.Targets["lb-1/lbl-2"] = false })
	lag := `clbcert_target_serves_current{lineage="short.test",target="lb-1/lbl-2"} 0`
	now = nb.Add(time.Minute)
	if got := scrape(t, reg); got != want("1", one, lag) {
		t.Errorf("lagging in the grace:\n%s", got)
	}
	now = nb.Add(time.Hour)
	if got := scrape(t, reg); got != want("2", one, lag) {
		t.Errorf("lagging after the grace:\n%s", got)
	}
	c.Forget("short.test")
	if got := scrape(t, reg); got != `clbcert_certificate_level{lineage="broken.test"} 2` {
		t.Errorf("after Forget:\n%s", got)
	}
}

func TestPendingLagsWithoutTargets(t *testing.T) {
	nb := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	l := Lineage{Name: "x", Cert: level.Cert{NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour)}, Written: nb, Pending: true}
	if v := l.Verdict(level.Rule{}, nb.Add(2*time.Hour)); v.Level != level.Critical {
		t.Errorf("a failed deployment two hours on: %s, want CRITICAL", v.Level)
	}
	l.Pending = false
	if v := l.Verdict(level.Rule{}, nb.Add(2*time.Hour)); v.Level != level.OK {
		t.Errorf("deployed: %s", v.Level)
	}
}

func TestWriteTextfileIsAtomicAndReadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clbcert.prom")
	c := New(level.Rule{}, nil)
	c.Set(Lineage{Name: "broken.test", Floor: level.Critical})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	for range 2 {
		if err := WriteTextfile(path, reg); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `clbcert_certificate_level{lineage="broken.test"} 2`) {
		t.Fatalf("%s, %v", b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v: node_exporter must be able to read it", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteTextfile(filepath.Join(dir, "no", "such", "x.prom"), reg); err == nil || !strings.Contains(err.Error(), "writable directory") {
		t.Errorf("missing dir: %v", err)
	}
}
