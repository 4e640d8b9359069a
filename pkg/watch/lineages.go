package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/notify"
)

// check looks at live/NAME once it has been quiet, and deploys it if it is
// complete and its leaf is not the one last deployed. Anything short of a
// complete lineage waits for the next event on it.
func (w *Watcher) check(name string, t *tracked) {
	if t.deploying {
		t.recheck = true
		return
	}
	if t.queued {
		return
	}
	dir := filepath.Join(w.live, name)
	prev, err := previousLinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return // it went away; the Remove event on live/ follows
	}
	if err != nil {
		w.incomplete(name, t)
		w.log.Error("cannot read a lineage directory: waiting for it to change", "lineage", name, "err", err)
		return
	}
	if len(prev) > 0 {
		w.incomplete(name, t)
		w.log.Warn("certbot's backup links are still there: certbot is swapping the links or was interrupted (its next run repairs that); waiting for them to go",
			"lineage", name, "links", prev)
		return
	}
	lin, err := lineage.Load(dir, w.opts.Clock.Now())
	if err != nil {
		w.incomplete(name, t)
		w.metrics.setInvalid(name)
		w.log.Warn("lineage cannot be deployed as it is: waiting for it to change", "lineage", name, "err", err)
		return
	}
	t.incomplete = 0
	w.metrics.setIncomplete(name, false)
	w.metrics.setExpiry(name, lin.Leaf.NotAfter)
	if t.leaf != lin.Fingerprint {
		t.leaf, t.served = lin.Fingerprint, nil
	}
	renewBefore, err := lineage.RenewBefore(dir)
	if err != nil {
		w.log.Warn("certbot's renewal conf cannot be read: judging the lineage by certbot's default schedule", "lineage", name, "err", err)
	}
	written, err := lineage.Written(dir)
	if err != nil {
		written = lin.Leaf.NotBefore
	}
	w.metrics.setLineage(lin, t, written, renewBefore)
	if d, ok := w.deployed[name]; ok && d.Fingerprint == lin.Fingerprint {
		if t.failures > 0 {
			// The leaf that kept failing was replaced by the deployed one.
			t.failures = 0
			w.metrics.setFailures(name, 0)
		}
		w.log.Debug("lineage already deployed", "lineage", lin)
		return
	}
	if w.running >= w.opts.Parallel {
		t.queued = true
		w.queue = append(w.queue, name)
		return
	}
	w.start(name, t, lin)
}

// incomplete marks a lineage that cannot be deployed as it is, and looks
// at it again after a growing wait (RetryMin doubling up to RetryMax) unless
// an event on it comes first. Waiting for events alone is not enough:
// certbot writes a new lineage's archive files after linking them, and
// those writes make no event in live/NAME, so a lineage caught between the
// two (at start, or when live/ reappears) would wait for its next renewal.
// Tested by TestLineageCaughtHalfWrittenIsLookedAtAgain.
func (w *Watcher) incomplete(name string, t *tracked) {
	w.metrics.setIncomplete(name, true)
	t.incomplete++
	w.after(name, t, w.backoff(t.incomplete))
}

func (w *Watcher) start(name string, t *tracked, lin *lineage.Lineage) {
	t.deploying = true
	w.running++
	d, ctx, clock := w.deployer, w.deployCtx, w.opts.Clock
	w.log.Info("deploying", "lineage", lin, "attempt", t.failures+1)
	go func() {
		begin := clock.Now()
		served, err := d.Deploy(ctx, lin)
		w.results <- result{name: name, lin: lin, served: served, err: err, took: clock.Now().Sub(begin)}
	}()
}

// finished takes a deployment's result and decides what comes next: a
// fresh look if the lineage changed meanwhile (behind the lineages already
// waiting for a slot, first come first served), a retry after a failure,
// the next lineage waiting for a slot.
func (w *Watcher) finished(r result) {
	w.record(r)
	if t := w.lineages[r.name]; t != nil {
		t.deploying = false
		switch {
		case t.recheck:
			t.recheck = false
			t.queued = true
			w.queue = append(w.queue, r.name)
		case r.err != nil:
			w.after(r.name, t, w.backoff(t.failures))
		}
	}
	for w.running < w.opts.Parallel && len(w.queue) > 0 {
		name := w.queue[0]
		w.queue = w.queue[1:]
		if t := w.lineages[name]; t != nil && t.queued {
			t.queued = false
			w.check(name, t)
		}
	}
}

// record keeps a deployment's outcome in the state dir, the metrics and
// the log.
func (w *Watcher) record(r result) {
	w.running--
	t := w.lineages[r.name]
	if r.err == nil {
		d := deployed{Fingerprint: r.lin.Fingerprint, At: w.opts.Clock.Now()}
		w.deployed[r.name] = d
		if err := saveDeployed(w.deployCtx, w.opts.Store, r.name, d); err != nil {
			w.log.Error("deployed, but not recorded", "lineage", r.name, "err", err)
		}
		if t != nil {
			if t.failures > 0 {
				w.notify(notify.Message{Event: notify.EventDeployRecovered, Lineage: r.name,
					Title:   fmt.Sprintf("%s deployed after %d failed attempts: the failure is over", r.name, t.failures),
					Details: servedDetails(r.served)}, nil)
			}
			t.failures, t.served = 0, r.served
			w.metrics.setSuccess(r.name, d.At)
			w.metrics.setServed(r.name, r.served, false)
		}
		w.log.Info("deployed", "lineage", r.lin, "took", r.took.Round(time.Millisecond))
		return
	}
	if t == nil {
		w.log.Error("deploy failed; the lineage has left live/ since", "lineage", r.name, "err", r.err)
		return
	}
	t.failures++
	t.served = r.served
	w.metrics.setFailures(r.name, t.failures)
	w.metrics.setServed(r.name, r.served, true)
	if t.failures == 1 {
		t.told.Store(false)
	}
	// The first failure is told, and again at the next attempt if a
	// webhook did not take it: an alarm lost to a webhook down for a moment
	// would leave the failures unheard until they end.
	if !t.told.Load() {
		crit := level.Critical
		w.notify(notify.Message{Event: notify.EventDeployFailed, Failure: true, Lineage: r.name, Level: &crit,
			Title:   fmt.Sprintf("clbcert-watch could not deploy %s; it retries with a growing wait and tells when it succeeds", r.name),
			Details: []string{r.err.Error()}, Command: notify.FinishCommand(r.lin.Dir)}, &t.told)
	}
	if w.stopping {
		w.log.Error("deploy failed; it is tried again at the next start", "lineage", r.lin, "attempt", t.failures, "err", r.err)
		return
	}
	w.log.Error("deploy failed; retrying", "lineage", r.lin, "attempt", t.failures,
		"retry_in", w.backoff(t.failures), "err", r.err)
}

// backoff is the wait after the nth consecutive failure.
func (w *Watcher) backoff(n int) time.Duration {
	d := w.opts.RetryMin
	for i := 1; i < n && d < w.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, w.opts.RetryMax)
}

// notify sends m without holding up the loop; Run waits for it at the end.
// told, where not nil, is true while m is on its way and stays true once
// every endpoint took it.
func (w *Watcher) notify(m notify.Message, told *atomic.Bool) {
	n := w.notifier
	if !n.Enabled(m) {
		return
	}
	if told != nil {
		told.Store(true)
	}
	w.notifying.Add(1)
	go func() {
		defer w.notifying.Done()
		if err := n.Notify(w.deployCtx, m); err != nil && told != nil {
			told.Store(false)
		}
	}()
}

// servedDetails lists the targets a deployment left, for a message.
func servedDetails(served Served) []string {
	var out []string
	for target, ok := range served {
		state := "serves the new certificate"
		if !ok {
			state = "still serves an older certificate"
		}
		out = append(out, target+": "+state)
	}
	slices.Sort(out)
	return out
}
