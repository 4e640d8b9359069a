package watch_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// none checks that no deployment starts for a while.
func (d *fakeDeployer) none(t testing.TB, wait time.Duration, why string) {
	t.Helper()
	select {
	case c := <-d.calls:
		t.Fatalf("%s: deployed %s (sha256 %.12s…)", why, c.name, c.fingerprint)
	case <-time.After(wait):
	}
}

var errCloudDown = errors.New("clb:ModifyListener failed (InternalError)")

// fakeClock moves only when told. Timers fire in their own goroutines, as
// time.AfterFunc's do; every new timer's duration is sent on scheduled.
type fakeClock struct {
	scheduled chan time.Duration

	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{scheduled: make(chan time.Duration, 100), now: time.Now()}
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
	c.mu.Unlock()
	c.scheduled <- d
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// advance moves the clock and fires the timers now due, earliest first.
func (c *fakeClock) advance(d time.Duration) {
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
		go tm.f()
	}
}

// nextTimer waits for the watcher to schedule a timer and returns its duration.
func (c *fakeClock) nextTimer(t testing.TB) time.Duration {
	t.Helper()
	select {
	case d := <-c.scheduled:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher scheduled no timer")
		return 0
	}
}

// gauge reads one per-lineage metric from reg; ok is false if the series
// does not exist.
func gauge(t testing.TB, reg *prometheus.Registry, name, lineageName string) (v float64, ok bool) {
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
				if l.GetName() == "lineage" && l.GetValue() == lineageName {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
