// Package metrics is what clbcert tells Prometheus about certificates: per
// lineage its expiry, its renewal due and its level (package level, judged
// at every scrape, so that a level changes as time passes without an
// event), and per target whether it serves the lineage's current leaf.
// clbcert-watch serves them on /metrics; clbcert status --prometheus
// writes them for node_exporter's textfile collector.
package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/pkg/level"
)

// The metric names; scripts/monitoring's alerts and dashboard use them.
const (
	NotBefore  = "clbcert_certificate_not_before_seconds"
	NotAfter   = "clbcert_certificate_not_after_seconds"
	RenewalDue = "clbcert_certificate_renewal_due_seconds"
	Level      = "clbcert_certificate_level"
	Served     = "clbcert_target_serves_current"
)

var (
	notBeforeDesc  = prometheus.NewDesc(NotBefore, "When the lineage's current leaf became valid (Unix time); with not_after its lifetime.", []string{"lineage"}, nil)
	notAfterDesc   = prometheus.NewDesc(NotAfter, "When the lineage's current leaf expires (Unix time).", []string{"lineage"}, nil)
	renewalDueDesc = prometheus.NewDesc(RenewalDue, "When certbot renews the lineage's current leaf (Unix time): notAfter - renew_before_expiry, else 2/3 (1/2 under 10 days) of its lifetime.", []string{"lineage"}, nil)
	levelDesc      = prometheus.NewDesc(Level, "The lineage's level: 0 OK, 1 WARNING (renewal overdue, or a deployment lagging within the deploy grace), 2 CRITICAL, 3 UNKNOWN.", []string{"lineage"}, nil)
	servedDesc     = prometheus.NewDesc(Served, "1 if the target (lb-id/lbl-id[/domain]) serves the lineage's current leaf (same SHA-256 fingerprint), 0 if it still serves an older one.", []string{"lineage", "target"}, nil)
)

// Lineage is what the metrics say of one lineage.
type Lineage struct {
	Name string
	// Cert is the current leaf's dates; zero for a lineage that fails
	// validation, which then has only a level.
	Cert level.Cert
	// Written dates the renewal for the deploy grace (lineage.Written).
	Written time.Time
	// Targets are the places that should serve the lineage, each true when
	// it serves the current leaf; nil when not known.
	Targets map[string]bool
	// Pending says a deployment of the current leaf failed: it lags even
	// where no target is known to.
	Pending bool
	// Floor is the least level, whatever the dates say: Critical for a
	// lineage that fails validation, Unknown where the cloud could not be
	// read.
	Floor level.Level
}

// lagging counts the places behind the current leaf.
func (l Lineage) lagging() int {
	n := 0
	for _, ok := range l.Targets {
		if !ok {
			n++
		}
	}
	if n == 0 && l.Pending {
		n = 1
	}
	return n
}

// Verdict is the lineage's level now.
func (l Lineage) Verdict(rule level.Rule, now time.Time) level.Verdict {
	if l.Cert.NotAfter.IsZero() {
		return level.Verdict{Level: l.Floor}
	}
	v := rule.Judge(l.Cert, l.lagging(), l.Written, now)
	v.Level = level.Worse(v.Level, l.Floor)
	return v
}

// Certificates is a prometheus.Collector of the lineages set on it. Safe
// for concurrent use.
type Certificates struct {
	rule level.Rule
	now  func() time.Time

	mu       sync.Mutex
	lineages map[string]Lineage
}

// New judges by rule with the clock now (nil: time.Now).
func New(rule level.Rule, now func() time.Time) *Certificates {
	if now == nil {
		now = time.Now
	}
	return &Certificates{rule: rule, now: now, lineages: map[string]Lineage{}}
}

// Set replaces what is known of l.Name.
func (c *Certificates) Set(l Lineage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lineages[l.Name] = l
}

// Update changes what is known of the lineage name, if anything is.
func (c *Certificates) Update(name string, fn func(*Lineage)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.lineages[name]; ok {
		fn(&l)
		c.lineages[name] = l
	}
}

// Raise makes level the least of the lineage name, keeping what else is
// known of it, or knowing it by that level alone.
func (c *Certificates) Raise(name string, floor level.Level) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lineages[name]
	if !ok {
		l = Lineage{Name: name}
	}
	l.Floor = level.Worse(l.Floor, floor)
	c.lineages[name] = l
}

// Forget drops a lineage, so that its series stop.
func (c *Certificates) Forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lineages, name)
}

// Describe sends the descriptions of the metrics.
func (c *Certificates) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{notBeforeDesc, notAfterDesc, renewalDueDesc, levelDesc, servedDesc} {
		ch <- d
	}
}

// Collect judges every lineage as of now.
func (c *Certificates) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for name, l := range c.lineages {
		v := l.Verdict(c.rule, now)
		ch <- prometheus.MustNewConstMetric(levelDesc, prometheus.GaugeValue, float64(v.Level), name)
		if l.Cert.NotAfter.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(notBeforeDesc, prometheus.GaugeValue, float64(l.Cert.NotBefore.Unix()), name)
		ch <- prometheus.MustNewConstMetric(notAfterDesc, prometheus.GaugeValue, float64(l.Cert.NotAfter.Unix()), name)
		ch <- prometheus.MustNewConstMetric(renewalDueDesc, prometheus.GaugeValue, float64(v.RenewalDue.Unix()), name)
		for target, ok := range l.Targets {
			val := 0.0
			if ok {
				val = 1
			}
			ch <- prometheus.MustNewConstMetric(servedDesc, prometheus.GaugeValue, val, name, target)
		}
	}
}

// WriteTextfile writes what g gathers to path in the text format
// node_exporter's textfile collector reads (path should end in .prom),
// through a temporary file in the same directory renamed over it, so that
// the collector never reads half a file.
func WriteTextfile(path string, g prometheus.Gatherer) error {
	if err := prometheus.WriteToTextfile(path, g); err != nil {
		return fmt.Errorf("write metrics to %s: %w: give a writable directory, e.g. node_exporter's --collector.textfile.directory", path, err)
	}
	return nil
}
