package watch_test

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkSwapToDeploy times, with the default quiet period of 2 s, the
// wait from the end of certbot's swap (its last previous_*.pem removed) to
// the Deploy call, over real inotify and real symlink swaps. Goal: median
// under the quiet period + 200 ms. Each iteration takes the quiet period;
// run it with a fixed count, e.g. -benchtime 10x.
func BenchmarkSwapToDeploy(b *testing.B) {
	e := newEnv(b)
	opts := e.options()
	opts.Quiet = 0   // the default
	opts.Clock = nil // real time: the latency is the point
	fp := e.certbot.issue("example.test")
	start(b, opts)
	if c := e.deployer.next(b, 10*time.Second); c.fingerprint != fp {
		b.Fatal("the first deployment is not the issued leaf")
	}
	var lat []time.Duration
	for b.Loop() {
		e.certbot.renew("example.test")
		done := time.Now()
		c := e.deployer.next(b, 10*time.Second)
		lat = append(lat, c.at.Sub(done))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64((lat[len(lat)/2]-2*time.Second).Microseconds())/1000, "over-quiet-ms")
}
