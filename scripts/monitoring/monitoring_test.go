// Package monitoring_test checks the alert rules and the dashboard shipped
// in scripts/monitoring against the metrics the code exports.
package monitoring_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/internal/acmetest"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/metrics"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/watch"
)

// promtool checks the rules and runs alerts_test.yml: lifetime-aware
// thresholds for 160-hour and 90-day certificates, deploy lag, a critical
// level, the watcher down.
func TestAlertRules(t *testing.T) {
	acmetest.Require(t, acmetest.Missing("apt-get install -y prometheus (scripts/deps.sh does)", "promtool"))
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// recorder is a Registerer that keeps what is registered.
type recorder struct{ collectors []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}
func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}
func (r *recorder) Unregister(prometheus.Collector) bool { return false }

var fqName = regexp.MustCompile(`fqName: "([a-z_:]+)"`)

// exported are the metric names clbcert-watch registers (which include
// every one clbcert status --prometheus writes), read from their
// descriptions.
func exported(t *testing.T) []string {
	t.Helper()
	rec := &recorder{}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = watch.New(watch.Options{
		CertbotDir: t.TempDir(), Store: st, Registerer: rec,
		Deployer: noDeploy{},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.MustRegister(metrics.New(level.Rule{}, nil))
	var names []string
	for _, c := range rec.collectors {
		ch := make(chan *prometheus.Desc, 16)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil && !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// expressions are the values of every "expr" key in v, at any depth.
func expressions(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "expr" {
				out = append(out, s)
			}
			out = append(out, expressions(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, expressions(e)...)
		}
	}
	return out
}

var metricName = regexp.MustCompile(`\bclbcert_[a-z_]+`)

// Every expression of the dashboard and the rules names metrics the code
// exports (or Prometheus' own up), and the dashboard is valid JSON.
func TestDashboardAndRulesUseExportedMetrics(t *testing.T) {
	names := exported(t)
	for _, want := range []string{metrics.NotBefore, metrics.NotAfter, metrics.RenewalDue, metrics.Level, metrics.Served} {
		if !slices.Contains(names, want) {
			t.Fatalf("the watcher does not export %s: %v", want, names)
		}
	}
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	exprs := expressions(dash)
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	// The rules' expressions, without a YAML parser: each "expr:" and the
	// lines indented under it.
	lines := strings.Split(string(rules), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "expr:"); ok {
			e := strings.TrimSuffix(strings.TrimSpace(rest), "|")
			indent := len(l) - len(strings.TrimLeft(l, " "))
			for j := i + 1; j < len(lines) && len(lines[j])-len(strings.TrimLeft(lines[j], " ")) > indent; j++ {
				e += " " + strings.TrimSpace(lines[j])
			}
			exprs = append(exprs, e)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	for _, e := range exprs {
		used := metricName.FindAllString(e, -1)
		if len(used) == 0 && !strings.Contains(e, "up{") {
			t.Errorf("%q names no metric", e)
		}
		for _, m := range used {
			if !slices.Contains(names, m) {
				t.Errorf("%q uses %s, which clbcert does not export (it exports %v)", e, m, names)
			}
		}
	}
}

// noDeploy is a watch.Deployer that deploys nothing: the metrics of a
// watcher are what this test reads.
type noDeploy struct{}

func (noDeploy) Deploy(context.Context, *lineage.Lineage) (watch.Served, error) { return nil, nil }
