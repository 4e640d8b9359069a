package watch

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-lineage gauges monitoring alerts on: a leaf close to
// expiry, a deployment that has not succeeded for long, failures piling up.
type metrics struct {
	expiry   *prometheus.GaugeVec
	success  *prometheus.GaugeVec
	failures *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clbcert_watch_leaf_expiry_timestamp_seconds",
			Help: "When the leaf certificate in live/LINEAGE expires (Unix time).",
		}, []string{"lineage"}),
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clbcert_watch_last_deploy_success_timestamp_seconds",
			Help: "When the lineage was last deployed successfully (Unix time), as recorded in the state dir.",
		}, []string{"lineage"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clbcert_watch_deploy_failures",
			Help: "Failed deploy attempts of the lineage since its last success; 0 once it succeeds.",
		}, []string{"lineage"}),
	}
	for _, c := range []prometheus.Collector{m.expiry, m.success, m.failures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register the watcher's metrics: %w", err)
		}
	}
	return m, nil
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

// forget drops a lineage that left live/, so that its series stop rather
// than report a certificate that is no longer there.
func (m *metrics) forget(name string) {
	m.expiry.DeleteLabelValues(name)
	m.success.DeleteLabelValues(name)
	m.failures.DeleteLabelValues(name)
}
