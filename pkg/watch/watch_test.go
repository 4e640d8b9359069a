package watch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/notifytest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/watch"
)

// quiet is the tests' quiet period. It passes on the fake clock only, when
// a test says so.
const quiet = 100 * time.Millisecond

// soon bounds the real time the watcher may take to act once it should:
// to read an event, to deploy once its clock says so.
const soon = 5 * time.Second

// env is a certbot config dir, a state dir, a fake cloud and a fake clock.
type env struct {
	certbot  *fakeCertbot
	store    *store.Store
	deployer *fakeDeployer
	clock    *fakeClock
	reg      *prometheus.Registry
	log      *simtest.LockedBuffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, deployer: newFakeDeployer(), clock: newFakeClock(), log: &simtest.LockedBuffer{}}
	e.certbot = newFakeCertbot(t, filepath.Join(t.TempDir(), "letsencrypt"))
	if err := os.MkdirAll(filepath.Join(e.certbot.dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("watcher log:\n%s", e.log.String())
		}
	})
	return e
}

func (e *env) options() watch.Options {
	e.reg = prometheus.NewRegistry()
	return watch.Options{
		CertbotDir: e.certbot.dir,
		Deployer:   e.deployer,
		Store:      e.store,
		Quiet:      quiet,
		RetryMin:   time.Minute,
		Registerer: e.reg,
		Clock:      e.clock,
		Logger:     slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// start runs a watcher until the returned stop is called (or the test ends).
func start(t testing.TB, opts watch.Options) (w *watch.Watcher, stop func() error) {
	t.Helper()
	w, err := watch.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return w, stop
}

func expectDeploy(t *testing.T, d *fakeDeployer, name, fingerprint string) {
	t.Helper()
	checkCall(t, d.next(t, soon), name, fingerprint)
}

func checkCall(t *testing.T, c call, name, fingerprint string) {
	t.Helper()
	if c.name != name || c.fingerprint != fingerprint {
		t.Fatalf("deployed %s sha256 %.12s…, want %s sha256 %.12s…", c.name, c.fingerprint, name, fingerprint)
	}
}

// renew renews a lineage the way certbot does and waits for the watcher to
// take each of its events; the quiet period has not passed yet.
func (e *env) renew(t *testing.T, name string) (fingerprint string) {
	t.Helper()
	r := e.certbot.renewal(name)
	e.clock.quietPeriods(t, r.runUntil(t, ""))
	return r.fingerprint
}

// expectDeployWhenQuiet lets quiet periods pass until the watcher deploys:
// for changes whose events the watcher does not all see (a new lineage's
// first ones come before its watch), or whose events are not counted.
func (e *env) expectDeployWhenQuiet(t *testing.T, name, fingerprint string) {
	t.Helper()
	var c call
	eventually.True(t, soon, "a deployment of "+name, func() bool {
		e.clock.advance(quiet)
		select {
		case c = <-e.deployer.calls:
			return true
		default:
			return false
		}
	})
	checkCall(t, c, name, fingerprint)
}

// waitGauge waits until a per-lineage metric has value v.
func (e *env) waitGauge(t *testing.T, name, lineageName string, v float64) {
	t.Helper()
	eventually.Succeeds(t, soon, func() error {
		if got, ok := gauge(t, e.reg, name, lineageName); !ok || got != v {
			return fmt.Errorf("%s{lineage=%q} = %v (present %v), want %v", name, lineageName, got, ok, v)
		}
		return nil
	})
}

// waitWatching waits until the watcher watches live/ (true) or waits for
// it to be created (false).
func (e *env) waitWatching(t *testing.T, watching bool) {
	t.Helper()
	want := map[bool]float64{false: 0, true: 1}[watching]
	eventually.Succeeds(t, soon, func() error {
		live := filepath.Join(e.certbot.dir, "live")
		if got, ok := gaugeWith(t, e.reg, "clbcert_watch_live_directory_watched", "dir", live); !ok || got != want {
			return fmt.Errorf("live directory watched = %v (present %v), want %v", got, ok, want)
		}
		return nil
	})
}

// The helper does what docs/certbot.md says certbot does: 16 events on
// live/NAME per renewal, none on live/.
func TestFakeCertbotMatchesCertbotsEvents(t *testing.T) {
	cb := newFakeCertbot(t, t.TempDir())
	cb.issue("example.test")
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer fsw.Close()
	live := filepath.Join(cb.dir, "live")
	for _, d := range []string{live, cb.live("example.test")} {
		if err := fsw.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	r := cb.renewal("example.test")
	events := r.runUntil(t, "")
	// One inotify queue keeps the order of changes: once the sentinel's
	// event is read, every event of the renewal has been.
	sentinel := filepath.Join(live, "sentinel")
	if err := os.WriteFile(sentinel, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(soon)
collect:
	for {
		select {
		case ev := <-fsw.Events:
			if ev.Name == sentinel {
				break collect
			}
			if filepath.Dir(ev.Name) != cb.live("example.test") {
				t.Errorf("event outside live/NAME: %s", ev)
			}
			got = append(got, ev.Op.String()+" "+filepath.Base(ev.Name))
		case err := <-fsw.Errors:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("the sentinel's event did not come within %s; got:\n%s", soon, strings.Join(got, "\n"))
		}
	}
	want := []string{
		"CREATE previous_cert.pem", "CREATE previous_privkey.pem", "CREATE previous_chain.pem", "CREATE previous_fullchain.pem",
		"REMOVE cert.pem", "CREATE cert.pem", "REMOVE privkey.pem", "CREATE privkey.pem",
		"REMOVE chain.pem", "CREATE chain.pem", "REMOVE fullchain.pem", "CREATE fullchain.pem",
		"REMOVE previous_cert.pem", "REMOVE previous_privkey.pem", "REMOVE previous_chain.pem", "REMOVE previous_fullchain.pem",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if events != len(want) {
		t.Fatalf("the renewal's steps count %d events, want %d", events, len(want))
	}
}

// Each renewal is deployed exactly once, a quiet period after certbot's
// last change, with the complete new lineage.
func TestEachRenewalDeployedOnce(t *testing.T) {
	e := newEnv(t)
	fp := e.certbot.issue("example.test")
	_, stop := start(t, e.options())
	expectDeploy(t, e.deployer, "example.test", fp)
	for range 3 {
		fp = e.renew(t, "example.test")
		if n := e.clock.advance(quiet - time.Millisecond); n != 0 {
			t.Fatalf("%d timers fired before the quiet period after the last change ended", n)
		}
		e.deployer.none(t, "before the quiet period ended")
		e.clock.advance(time.Millisecond)
		expectDeploy(t, e.deployer, "example.test", fp)
	}
	e.waitGauge(t, "clbcert_watch_last_deploy_success_timestamp_seconds", "example.test", float64(e.clock.Now().Unix()))
	if v, ok := gauge(t, e.reg, "clbcert_watch_leaf_expiry_timestamp_seconds", "example.test"); !ok || v < float64(time.Now().Unix()) {
		t.Errorf("leaf expiry metric = %v, %v", v, ok)
	}
	e.clock.advance(time.Hour)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "after the renewals' deployments")
}

// A lineage caught half-way through a swap is left alone until it is whole
// again, however long that takes.
func TestHalfSwappedLineageWaits(t *testing.T) {
	tests := []struct {
		name     string
		withoutP string // drop the steps starting with this (a tool other than certbot)
		stopAt   string // the last step run before the pause
	}{
		{name: "certbot: new cert, new key, old fullchain", stopAt: "link privkey"},
		{name: "certbot: cert.pem missing", stopAt: "unlink cert"},
		{name: "certbot: all links new, backups still there", stopAt: "link fullchain"},
		{name: "certbot: one backup left", stopAt: "remove previous_chain"},
		{name: "no backups: key swapped, fullchain not yet", withoutP: "previous_", stopAt: "link privkey"},
		{name: "no backups: fullchain.pem missing", withoutP: "previous_", stopAt: "unlink fullchain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			old := e.certbot.issue("example.test")
			_, stop := start(t, e.options())
			expectDeploy(t, e.deployer, "example.test", old)
			e.waitGauge(t, "clbcert_watch_lineage_incomplete", "example.test", 0)

			r := e.certbot.renewal("example.test")
			if tt.withoutP != "" {
				r.steps = r.without("create " + tt.withoutP).without("remove " + tt.withoutP).steps
			}
			e.clock.quietPeriods(t, r.runUntil(t, tt.stopAt))
			e.clock.advance(time.Hour)
			e.waitGauge(t, "clbcert_watch_lineage_incomplete", "example.test", 1)
			if d := e.clock.nextTimer(t); d != time.Minute {
				t.Fatalf("an incomplete lineage is looked at again after %s, want RetryMin (1m)", d)
			}
			e.deployer.none(t, "half-swapped lineage")

			e.clock.quietPeriods(t, r.runUntil(t, ""))
			e.clock.advance(quiet)
			expectDeploy(t, e.deployer, "example.test", r.fingerprint)
			e.waitGauge(t, "clbcert_watch_lineage_incomplete", "example.test", 0)
			e.clock.advance(time.Hour)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			e.deployer.none(t, "after the deployment")
		})
	}
}

// certbot links a new lineage's files before it writes them, and the writes
// make no event in live/NAME: a lineage the watcher finds in between is
// looked at again after RetryMin, and deployed then.
func TestLineageCaughtHalfWrittenIsLookedAtAgain(t *testing.T) {
	e := newEnv(t)
	name := "example.test"
	for _, d := range []string{e.certbot.archive(name), e.certbot.live(name)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range kinds {
		if err := os.Symlink(fmt.Sprintf("../../archive/%s/%s1.pem", name, k), filepath.Join(e.certbot.live(name), k+".pem")); err != nil {
			t.Fatal(err)
		}
	}
	opts := e.options()
	_, stop := start(t, opts)
	e.waitGauge(t, "clbcert_watch_lineage_incomplete", name, 1)
	fp := e.certbot.writeVersion(name, 1)
	e.clock.advance(opts.RetryMin)
	expectDeploy(t, e.deployer, name, fp)
	e.waitGauge(t, "clbcert_watch_lineage_incomplete", name, 0)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A lineage issued while the watcher runs is deployed once its files are
// written, though certbot links them before writing them.
func TestNewLineageIsPickedUp(t *testing.T) {
	e := newEnv(t)
	first := e.certbot.issue("a.test")
	_, stop := start(t, e.options())
	expectDeploy(t, e.deployer, "a.test", first)

	fp := e.certbot.issue("b.test")
	e.expectDeployWhenQuiet(t, "b.test", fp)
	fp = e.certbot.renew("b.test")
	e.expectDeployWhenQuiet(t, "b.test", fp)

	if err := os.RemoveAll(e.certbot.live("b.test")); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, soon, "the metrics of b.test, which left live/, are gone", func() bool {
		_, ok := gauge(t, e.reg, "clbcert_watch_leaf_expiry_timestamp_seconds", "b.test")
		return !ok
	})
	e.clock.advance(time.Hour)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "after a lineage was removed")
}

// A certbot dir that does not exist yet is waited for without polling, one
// level at a time.
func TestMissingCertbotDirIsWaitedFor(t *testing.T) {
	e := newEnv(t)
	e.certbot.dir = filepath.Join(t.TempDir(), "etc", "letsencrypt")
	start(t, e.options())
	e.waitWatching(t, false)
	if err := os.MkdirAll(filepath.Join(e.certbot.dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.waitWatching(t, true)
	fp := e.certbot.issue("example.test")
	e.expectDeployWhenQuiet(t, "example.test", fp)

	// live/ going away and coming back is followed too. archive/ goes with
	// it: certbot never rewrites an archive file in place, and a re-issue
	// into the old archive would let the watcher read the old leaf through
	// the new links before the new one is written.
	for _, d := range []string{"live", "archive"} {
		if err := os.RemoveAll(filepath.Join(e.certbot.dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	e.waitWatching(t, false)
	if err := os.MkdirAll(filepath.Join(e.certbot.dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Issued only once live/ is watched: a lineage the watcher finds at
	// attach, linked but not yet written, waits for an event that never
	// comes (the files are written in archive/).
	e.waitWatching(t, true)
	e.certbot.version = map[string]int{}
	fp = e.certbot.issue("example.test")
	e.expectDeployWhenQuiet(t, "example.test", fp)
}

// A renewal made while the watcher was stopped is deployed when it starts
// again; a lineage unchanged since its last deployment is not.
func TestRenewalWhileStoppedIsDeployedAtStart(t *testing.T) {
	e := newEnv(t)
	fp := e.certbot.issue("example.test")
	e.certbot.issue("other.test")
	_, stop := start(t, e.options())
	first := e.deployer.next(t, soon)
	second := e.deployer.next(t, soon)
	if first.name != "example.test" || second.name != "other.test" || first.fingerprint != fp {
		t.Fatalf("deployed %s then %s at start", first.name, second.name)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	fp = e.certbot.renew("example.test")
	_, stop = start(t, e.options())
	expectDeploy(t, e.deployer, "example.test", fp)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "other.test is unchanged")

	_, stop = start(t, e.options())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "nothing changed while stopped")

	var state struct {
		Lineages map[string]struct{ Fingerprint string } `json:"lineages"`
	}
	b, err := os.ReadFile(filepath.Join(e.store.Dir(), "watch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &state); err != nil || state.Lineages["example.test"].Fingerprint != fp {
		t.Fatalf("state file: %s (%v)", b, err)
	}
}

// A failing deployment is retried with a growing wait and counted in the
// metrics until it succeeds; the watcher keeps running.
func TestFailingDeployIsRetried(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.RetryMin, opts.RetryMax = 10*time.Second, 30*time.Second
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	start(t, opts)

	waits := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, wantWait := range waits {
		expectDeploy(t, e.deployer, "example.test", fp)
		if got := e.clock.nextTimer(t); got != wantWait {
			t.Fatalf("after failure %d: retry in %s, want %s", i+1, got, wantWait)
		}
		if v, _ := gauge(t, e.reg, "clbcert_watch_deploy_failures", "example.test"); v != float64(i+1) {
			t.Fatalf("failures metric = %v after %d failures", v, i+1)
		}
		if n := e.clock.advance(wantWait - time.Second); n != 0 {
			t.Fatalf("%d timers fired before the backoff of %s ended", n, wantWait)
		}
		e.deployer.none(t, "before the backoff ended")
		if i == len(waits)-1 {
			e.deployer.setFail(nil) // the cloud is back for the next retry
		}
		e.clock.advance(time.Second)
	}
	expectDeploy(t, e.deployer, "example.test", fp)
	e.waitGauge(t, "clbcert_watch_deploy_failures", "example.test", 0)
	if v, _ := gauge(t, e.reg, "clbcert_watch_last_deploy_success_timestamp_seconds", "example.test"); v != float64(e.clock.Now().Unix()) {
		t.Errorf("last success metric = %v, want the clock's now %d", v, e.clock.Now().Unix())
	}
}

// A reload retries a failing lineage at once with the new deployer, and
// tells with the new notifier (its webhooks, the API key it keeps out).
func TestReloadRetriesAtOnce(t *testing.T) {
	e := newEnv(t)
	notifier := func(hook *notifytest.Receiver) *notify.Notifier {
		n, err := notify.New([]notify.Endpoint{{URL: hook.URL, Kind: notify.JSON}}, notify.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, after := notifytest.New(t), notifytest.New(t)
	opts := e.options()
	opts.Notifier = notifier(before)
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	w, stop := start(t, opts)
	expectDeploy(t, e.deployer, "example.test", fp)
	e.waitGauge(t, "clbcert_watch_deploy_failures", "example.test", 1)
	eventually.True(t, soon, "the failure told", func() bool { return len(before.Messages()) == 1 })

	fixed := newFakeDeployer()
	if err := w.Reload(context.Background(), fixed, notifier(after)); err != nil {
		t.Fatal(err)
	}
	expectDeploy(t, fixed, "example.test", fp)
	eventually.True(t, soon, "the recovery told by the new notifier", func() bool {
		ms := after.Messages()
		return len(ms) == 1 && ms[0].Event == notify.EventDeployRecovered
	})
	if ms := before.Messages(); len(ms) != 1 {
		t.Errorf("the notifier of before the reload got %d messages, want the failure alone: %+v", len(ms), ms)
	}
	e.clock.advance(time.Hour)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "the old deployer after the reload")
	fixed.none(t, "after the deployment")
}

// One deployment per lineage at a time (and, by default, one at all): a
// renewal during a deployment is deployed after it; stopping lets the
// deployment in flight finish.
func TestOneDeployAtATime(t *testing.T) {
	e := newEnv(t)
	release := e.deployer.hold()
	fp := e.certbot.issue("example.test")
	other := e.certbot.issue("other.test")
	_, stop := start(t, e.options())
	expectDeploy(t, e.deployer, "example.test", fp)

	renewed := e.renew(t, "example.test")
	e.clock.advance(quiet) // the watcher looks while example.test's deployment runs
	release()
	expectDeploy(t, e.deployer, "other.test", other)
	expectDeploy(t, e.deployer, "example.test", renewed)
	if same, all := e.deployer.concurrency(); same != 1 || all != 1 {
		t.Fatalf("concurrent deployments: %d of one lineage, %d in all; want 1 and 1", same, all)
	}

	// Stopping waits for the deployment in flight and records it.
	release = e.deployer.hold()
	fp = e.renew(t, "other.test")
	e.clock.advance(quiet)
	expectDeploy(t, e.deployer, "other.test", fp)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Nothing to wait for: Run must not return, and a short look catches
	// it if it does; the state checked below catches it always.
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) with a deployment in flight", err)
	case <-time.After(3 * quiet):
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	_, stop = start(t, e.options())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.deployer.none(t, "the deployment finished at stop was recorded")
}

func TestWatchErrorSaysWhatToRaise(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"watches", syscall.ENOSPC, "sysctl -w fs.inotify.max_user_watches="},
		{"instances", syscall.EMFILE, "sysctl -w fs.inotify.max_user_instances="},
		{"permission", syscall.EACCES, "run clbcert-watch as root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := watch.WatchError("/etc/letsencrypt/live", tt.err)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "/etc/letsencrypt/live") {
				t.Fatalf("%v: want %q", err, tt.want)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		edit func(*watch.Options)
		want string
	}{
		{"no certbot dir", func(o *watch.Options) { o.CertbotDir = "" }, "no certbot config dir given"},
		{"no deployer", func(o *watch.Options) { o.Deployer = nil }, "no Deployer"},
		{"no store", func(o *watch.Options) { o.Store = nil }, "no state store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := e.options()
			tt.edit(&opts)
			if _, err := watch.New(opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
		})
	}
	opts := e.options()
	if err := os.WriteFile(filepath.Join(e.certbot.dir, "live", "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opts.CertbotDir = filepath.Join(e.certbot.dir, "live", "x")
	w, err := watch.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); !errors.Is(err, lineage.ErrNoCertbotDir) || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("Run on a file: %v", err)
	}
}

// A lineage that fails validation, such as one that expired while the
// watcher was down (certbot failing for weeks, then a reboot), is
// CRITICAL in the metrics, as clbcert status calls it: without a level
// series no alert fires for the certificate that most needs one. One
// that is repaired is judged by its dates again.
func TestInvalidLineageIsCritical(t *testing.T) {
	e := newEnv(t)
	e.certbot.issue("example.test")
	e.clock.advance(25 * time.Hour) // the fake certbot's leaves last a day
	_, stop := start(t, e.options())
	e.waitGauge(t, "clbcert_watch_lineage_incomplete", "example.test", 1)
	e.waitGauge(t, "clbcert_certificate_level", "example.test", 2)
	e.deployer.none(t, "an expired lineage")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
