// Package watch deploys certbot lineages the moment they change on disk:
// it watches certbot's live/ directory and each live/NAME/ with inotify
// (fsnotify), waits until certbot has finished swapping a lineage's links,
// and hands the lineage to a Deployer when its leaf differs from the one
// last deployed. It covers renewals made without a deploy hook — by
// certbot's timer, by hand, by another tool — and, because the last
// deployed leaf is kept in the state dir, renewals made while it was not
// running.
//
// How certbot renews (docs/certbot.md): new archive files are written
// first, then four previous_*.pem backup links are created, each live link
// is unlinked and re-created in turn, and the backup links are removed. A
// watcher sees 16 events and, between them, moments when cert.pem is
// missing or a new leaf sits beside the old key. The watcher therefore acts
// only after a quiet period with no event, no previous_*.pem left and a key
// that matches the leaf; anything else waits for the next event.
package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	certmetrics "github.com/clbcert/clbcert/pkg/metrics"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/store"
)

// Deployer deploys one lineage; the error says why it failed. The watcher
// never runs two deployments of the same lineage at once.
type Deployer interface {
	// Deploy returns the targets the deployment was about, failed or not.
	Deploy(ctx context.Context, lin *lineage.Lineage) (Served, error)
}

// Served maps each target of a deployment ("lb-id/lbl-id[/domain]") to
// whether it serves the deployed leaf afterwards; nil when not known.
type Served map[string]bool

// Options configures a Watcher. Zero values take the defaults given per
// field; CertbotDir, Deployer and Store are required.
type Options struct {
	// CertbotDir is certbot's config dir (/etc/letsencrypt); its live/
	// subdirectory is watched. It, or any parent, may not exist yet: the
	// watcher waits for it to be created.
	CertbotDir string
	// Deployer deploys a lineage whose leaf changed.
	Deployer Deployer
	// Store keeps the fingerprint last deployed per lineage.
	Store *store.Store
	// Quiet is how long a lineage must see no event before it is read.
	// certbot's 16 events of a renewal come within milliseconds, so the
	// default 2 s is ample yet keeps deployment prompt.
	Quiet time.Duration
	// RetryMin is the wait before retrying a failed deployment; it doubles
	// per consecutive failure up to RetryMax. Defaults 10 s and 10 min:
	// soon enough to ride out a brief outage, rare enough not to hammer a
	// broken account for the weeks a certificate has left.
	RetryMin, RetryMax time.Duration
	// Parallel is how many lineages are deployed at once. Default 1: two
	// lineages often share a load balancer, and CLB refuses a second task on
	// a busy one.
	Parallel int
	// Registerer receives the per-lineage metrics (also those of package
	// metrics: expiry, renewal due, level, served targets); nil keeps them
	// unexported.
	Registerer prometheus.Registerer
	// Rule judges the level metric; the zero value is the lifetime rule.
	Rule level.Rule
	// Notifier hears of a lineage's first failed deployment and of the
	// success that ends the failures; nil tells no one.
	Notifier *notify.Notifier
	// Clock is the time source; nil means the wall clock.
	Clock Clock
	// Logger says what was noticed and deployed; nil discards.
	Logger *slog.Logger
}

// withDefaults gives every unset option its default; a negative duration or
// Parallel counts as unset.
func (o Options) withDefaults() Options {
	o.Quiet = cmp.Or(max(o.Quiet, 0), 2*time.Second)
	o.RetryMin = cmp.Or(max(o.RetryMin, 0), 10*time.Second)
	o.RetryMax = cmp.Or(max(o.RetryMax, 0), 10*time.Minute)
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	o.Parallel = cmp.Or(max(o.Parallel, 0), 1)
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	o.Clock = cmp.Or[Clock](o.Clock, realClock{})
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return o
}

// Watcher watches one certbot config dir. Build it with New and call Run
// once.
type Watcher struct {
	opts    Options
	live    string
	log     *slog.Logger
	metrics *metrics

	// Channels into the loop: timers, finished deployments, reloads.
	wake    chan wakeup
	results chan result
	reload  chan reloaded
	// stopped is closed when Run returns, so that late timers and Reload
	// calls do not block forever.
	stopped chan struct{}
	ran     atomic.Bool
	// notifying counts notifications in flight, which Run waits for: a
	// slow webhook must not hold the loop.
	notifying sync.WaitGroup

	// Owned by Run's goroutine.
	fsw       *fsnotify.Watcher
	attached  bool   // live/ is watched
	parent    string // while live/ is missing: the nearest existing ancestor, watched
	lineages  map[string]*tracked
	deployed  map[string]deployed
	queue     []string // lineages waiting for a free deployment slot
	running   int
	deployer  Deployer
	notifier  *notify.Notifier
	deployCtx context.Context
	stopping  bool // Run is draining: no retries are scheduled
}

// tracked is what the loop knows of one live/NAME.
type tracked struct {
	// gen identifies the pending timer: a wakeup carrying an older value
	// was superseded by a later event and is ignored.
	gen       uint64
	stopTimer func() bool
	deploying bool
	queued    bool
	// recheck: an event came in while deploying; look again afterwards.
	recheck  bool
	failures int
	// told: the failures since the last success were told (or the message
	// is on its way); the notifier's goroutine sets it too.
	told atomic.Bool
	// incomplete counts the looks in a row that found the lineage not
	// deployable as it is; it sets the wait before the next one.
	incomplete int
	// leaf is the fingerprint last read, served where its last deployment
	// left it.
	leaf   string
	served Served
}

type wakeup struct {
	name string
	gen  uint64
}

type result struct {
	name   string
	lin    *lineage.Lineage
	served Served
	err    error
	took   time.Duration
}

// New checks opts and reads the state; nothing is watched until Run.
func New(opts Options) (*Watcher, error) {
	opts = opts.withDefaults()
	switch {
	case opts.CertbotDir == "":
		return nil, fmt.Errorf("no certbot config dir given: %w", lineage.ErrNoCertbotDir)
	case opts.Deployer == nil:
		return nil, errors.New("watch: no Deployer given")
	case opts.Store == nil:
		return nil, errors.New("watch: no state store given")
	case opts.Rule.Check() != nil:
		return nil, opts.Rule.Check()
	}
	dir, err := filepath.Abs(opts.CertbotDir)
	if err != nil {
		return nil, fmt.Errorf("certbot config dir %s: %w", opts.CertbotDir, err)
	}
	done, err := loadState(opts.Store)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer, certmetrics.New(opts.Rule, opts.Clock.Now))
	if err != nil {
		return nil, err
	}
	return &Watcher{
		opts:     opts,
		live:     filepath.Join(dir, "live"),
		log:      opts.Logger,
		metrics:  m,
		wake:     make(chan wakeup),
		results:  make(chan result),
		reload:   make(chan reloaded),
		stopped:  make(chan struct{}),
		lineages: map[string]*tracked{},
		deployed: done,
		deployer: opts.Deployer,
		notifier: opts.Notifier,
	}, nil
}

// Run watches until ctx ends, then lets the deployments in flight finish
// (they are not cancelled: a half-done deployment is finished by the next
// one anyway, but finishing it now leaves no listener waiting) and returns
// nil. It returns early only when watching is impossible: an inotify limit
// (the error names the sysctl to raise), a permission problem, live/ not
// being a directory.
func (w *Watcher) Run(ctx context.Context) error {
	if w.ran.Swap(true) {
		return errors.New("watch: Run called twice: build a new Watcher with New")
	}
	defer close(w.stopped)
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return watchError(w.live, err)
	}
	defer fsw.Close()
	w.fsw = fsw
	w.deployCtx = context.WithoutCancel(ctx)
	defer w.stopTimers()

	if err := w.attach(); err != nil {
		return w.drain(err)
	}
	for {
		select {
		case <-ctx.Done():
			return w.drain(nil)
		case ev, ok := <-fsw.Events:
			if !ok {
				return w.drain(errors.New("inotify stopped delivering events: restart clbcert-watch"))
			}
			if err := w.handle(ev); err != nil {
				return w.drain(err)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return w.drain(errors.New("inotify stopped delivering events: restart clbcert-watch"))
			}
			if err := w.onError(err); err != nil {
				return w.drain(err)
			}
		case wk := <-w.wake:
			if t := w.lineages[wk.name]; t != nil && t.gen == wk.gen {
				t.stopTimer = nil
				w.check(wk.name, t)
			}
		case r := <-w.results:
			w.finished(r)
		case r := <-w.reload:
			w.deployer, w.notifier = r.deployer, r.notifier
			w.log.Info("configuration reloaded: checking every lineage again")
			if w.attached {
				w.reconcile()
			}
		}
	}
}

// reloaded is what a new configuration brings.
type reloaded struct {
	deployer Deployer
	notifier *notify.Notifier
}

// Reload makes later deployments use d and later notifications n (its
// webhooks, and the API key it keeps out of messages: a reload may bring a
// new one), and checks every lineage again, so that one failing for a
// reason the new configuration fixes is retried at once. A lineage whose
// leaf is already deployed is not deployed again: run clbcert-deploy
// --lineage to push it to new targets.
func (w *Watcher) Reload(ctx context.Context, d Deployer, n *notify.Notifier) error {
	select {
	case w.reload <- reloaded{d, n}:
		return nil
	case <-w.stopped:
		return errors.New("the watcher has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain waits for the deployments in flight and returns err.
func (w *Watcher) drain(err error) error {
	w.stopping = true
	if w.running > 0 {
		w.log.Info("stopping: waiting for the deployments in flight to finish", "running", w.running)
	}
	w.queue = nil
	for w.running > 0 {
		w.record(<-w.results)
	}
	w.notifying.Wait()
	return err
}

func (w *Watcher) stopTimers() {
	for _, t := range w.lineages {
		if t.stopTimer != nil {
			t.stopTimer()
		}
	}
}

// after runs a wakeup for name once d has passed, replacing any pending one.
func (w *Watcher) after(name string, t *tracked, d time.Duration) {
	if t.stopTimer != nil {
		t.stopTimer()
	}
	t.gen++
	wk := wakeup{name: name, gen: t.gen}
	t.stopTimer = w.opts.Clock.AfterFunc(d, func() {
		select {
		case w.wake <- wk:
		case <-w.stopped:
		}
	})
}
