package watch_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/watch"
)

// call is one Deploy the watcher made.
type call struct {
	name, fingerprint string
	at                time.Time
}

// fakeDeployer records deployments, fails while told to, and can hold each
// deployment until released.
type fakeDeployer struct {
	calls chan call

	mu      sync.Mutex
	fail    error
	gate    chan struct{} // nil: return at once; else wait for a receive to succeed
	active  map[string]int
	maxSame int // most concurrent deployments of one lineage seen
	maxAll  int // most concurrent deployments seen
}

func newFakeDeployer() *fakeDeployer {
	return &fakeDeployer{calls: make(chan call, 100), active: map[string]int{}}
}

func (d *fakeDeployer) Deploy(ctx context.Context, lin *lineage.Lineage) (watch.Served, error) {
	d.mu.Lock()
	d.active[lin.Name]++
	d.maxSame = max(d.maxSame, d.active[lin.Name])
	total := 0
	for _, n := range d.active {
		total += n
	}
	d.maxAll = max(d.maxAll, total)
	gate, fail := d.gate, d.fail
	d.mu.Unlock()

	d.calls <- call{name: lin.Name, fingerprint: lin.Fingerprint, at: time.Now()}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			fail = ctx.Err()
		}
	}
	d.mu.Lock()
	d.active[lin.Name]--
	d.mu.Unlock()
	return watch.Served{"lb-1/lbl-1": fail == nil}, fail
}

func (d *fakeDeployer) setFail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = err
}

// hold makes later deployments wait for release.
func (d *fakeDeployer) hold() (release func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	gate := make(chan struct{})
	d.gate = gate
	return func() {
		d.mu.Lock()
		d.gate = nil
		d.mu.Unlock()
		close(gate)
	}
}

func (d *fakeDeployer) concurrency() (sameLineage, all int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxSame, d.maxAll
}

// next waits for the next deployment.
func (d *fakeDeployer) next(t testing.TB, within time.Duration) call {
	t.Helper()
	select {
	case c := <-d.calls:
		return c
	case <-time.After(within):
		t.Fatalf("no deployment within %s", within)
		return call{}
	}
}

// none checks that no deployment has started beyond those taken with
// next. It does not wait: call it once the watcher has had its chance (a
// metric says it looked, or it was stopped, which waits for every
// deployment it started).
func (d *fakeDeployer) none(t testing.TB, why string) {
	t.Helper()
	select {
	case c := <-d.calls:
		t.Fatalf("%s: deployed %s (sha256 %.12s…)", why, c.name, c.fingerprint)
	default:
	}
}

var errCloudDown = errors.New("clb:ModifyListener failed (InternalError)")

// fakeClock moves only when told. Timers fire in their own goroutines, as
// time.AfterFunc's do; every timer's duration is kept for nextTimer.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	timers    []*fakeTimer
	scheduled []time.Duration // every timer's duration, in order
	taken     int             // scheduled[:taken] were returned by nextTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now()}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	tm := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	c.scheduled = append(c.scheduled, d)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// advance moves the clock and fires the timers now due, earliest first,
// each in its own goroutine, and returns how many fired once each has
// returned. The watcher's timer returns when its loop has taken the
// wakeup, so by then the loop has begun to act on it.
func (c *fakeClock) advance(d time.Duration) int {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due, later []*fakeTimer
	for _, tm := range c.timers {
		switch {
		case tm.stopped:
		case !tm.at.After(c.now):
			tm.stopped = true
			due = append(due, tm)
		default:
			later = append(later, tm)
		}
	}
	c.timers = later
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, tm := range due {
		done := make(chan struct{})
		go func() {
			defer close(done)
			tm.f()
		}()
		<-done
	}
	return len(due)
}

// nextTimer waits for the watcher to schedule its next timer and returns
// the timer's duration.
func (c *fakeClock) nextTimer(t testing.TB) time.Duration {
	t.Helper()
	var d time.Duration
	eventually.True(t, 5*time.Second, "the watcher scheduled a timer", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.taken == len(c.scheduled) {
			return false
		}
		d = c.scheduled[c.taken]
		c.taken++
		return true
	})
	return d
}

// quietPeriods waits for the watcher to take n inotify events, each of
// which starts the quiet period anew.
func (c *fakeClock) quietPeriods(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		if d := c.nextTimer(t); d != quiet {
			t.Fatalf("timer %d of %d after a change: %s, want the quiet period %s", i+1, n, d, quiet)
		}
	}
}

// gauge reads one per-lineage metric from reg; ok is false if the series
// does not exist.
func gauge(t testing.TB, reg *prometheus.Registry, name, lineageName string) (v float64, ok bool) {
	t.Helper()
	return gaugeWith(t, reg, name, "lineage", lineageName)
}

// gaugeWith reads the series of metric name whose label has value.
func gaugeWith(t testing.TB, reg *prometheus.Registry, name, label, value string) (v float64, ok bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
