package watch

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	certmetrics "github.com/clbcert/clbcert/pkg/metrics"
)

// metrics are the per-lineage gauges monitoring alerts on: a leaf close to
// expiry, a deployment that has not succeeded for long, failures piling up.
type metrics struct {
	expiry     *prometheus.GaugeVec
	success    *prometheus.GaugeVec
	failures   *prometheus.GaugeVec
	incomplete *prometheus.GaugeVec
	// watching tells a live/ that is watched from one waited for: a
	// --certbot-dir with a typo waits forever and deploys nothing.
	watching *prometheus.GaugeVec
	// certs are the gauges clbcert status --prometheus writes too.
	certs *certmetrics.Certificates
}

func newMetrics(reg prometheus.Registerer, certs *certmetrics.Certificates) (*metrics, error) {
	m := &metrics{
		certs:      certs,
		expiry:     gauge("clbcert_watch_leaf_expiry_timestamp_seconds", "When the leaf certificate in live/LINEAGE expires (Unix time).", "lineage"),
		success:    gauge("clbcert_watch_last_deploy_success_timestamp_seconds", "When the lineage was last deployed successfully (Unix time), as recorded in the state dir.", "lineage"),
		failures:   gauge("clbcert_watch_deploy_failures", "Failed deploy attempts of the lineage since its last success; 0 once it succeeds.", "lineage"),
		incomplete: gauge("clbcert_watch_lineage_incomplete", "1 while live/LINEAGE was found half-swapped or unreadable at the last look (certbot swapping its links, or interrupted doing so), which waits for the next change; 0 once it is whole.", "lineage"),
		watching:   gauge("clbcert_watch_live_directory_watched", "1 while certbot's live directory is watched; 0 while it does not exist and the watcher waits for it to be created.", "dir"),
	}
	for _, c := range []prometheus.Collector{m.expiry, m.success, m.failures, m.incomplete, m.watching, m.certs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register the watcher's metrics: %w", err)
		}
	}
	return m, nil
}

// gauge is a gauge of the watcher with one label.
func gauge(name, help, label string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{label})
}

func (m *metrics) setExpiry(name string, t time.Time) {
	m.expiry.WithLabelValues(name).Set(float64(t.Unix()))
}

func (m *metrics) setSuccess(name string, t time.Time) {
	m.success.WithLabelValues(name).Set(float64(t.Unix()))
	m.failures.WithLabelValues(name).Set(0)
}

func (m *metrics) setFailures(name string, n int) {
	m.failures.WithLabelValues(name).Set(float64(n))
}

func (m *metrics) setIncomplete(name string, incomplete bool) {
	m.incomplete.WithLabelValues(name).Set(gaugeBool(incomplete))
}

func (m *metrics) setWatching(live string, watching bool) {
	m.watching.WithLabelValues(live).Set(gaugeBool(watching))
}

func gaugeBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// forget drops a lineage that left live/, so that its series stop rather
// than report a certificate that is no longer there.
func (m *metrics) forget(name string) {
	m.expiry.DeleteLabelValues(name)
	m.success.DeleteLabelValues(name)
	m.failures.DeleteLabelValues(name)
	m.incomplete.DeleteLabelValues(name)
	m.certs.Forget(name)
}

// setLineage says what the watcher knows of the lineage's current leaf:
// its dates, where its last deployment left it, whether that failed.
func (m *metrics) setLineage(lin *lineage.Lineage, t *tracked, written time.Time, renewBefore time.Duration) {
	m.certs.Set(certmetrics.Lineage{
		Name:    lin.Name,
		Cert:    level.Cert{NotBefore: lin.Leaf.NotBefore, NotAfter: lin.Leaf.NotAfter, RenewBefore: renewBefore},
		Written: written,
		Targets: t.served,
		Pending: t.failures > 0,
	})
}

// setInvalid says the lineage fails validation: CRITICAL, as clbcert status
// calls it, until a leaf that passes replaces it (setLineage). Without it
// a lineage that expired while the watcher was down would have no level.
func (m *metrics) setInvalid(name string) {
	m.certs.Raise(name, level.Critical)
}

// setServed says where a deployment left the lineage's leaf.
func (m *metrics) setServed(name string, served Served, failed bool) {
	m.certs.Update(name, func(l *certmetrics.Lineage) {
		l.Targets, l.Pending = served, failed
	})
}
