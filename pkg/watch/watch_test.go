package watch_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/watch"
)

// quiet is the tests' quiet period: short, yet far longer than the few
// milliseconds a renewal's 16 events take.
const quiet = 100 * time.Millisecond

// soon bounds the wait for a deployment that should come after one quiet period.
const soon = 3 * time.Second

// syncBuffer collects log output from the watcher's goroutines.
type syncBuffer struct{ simtest.LockedBuffer }

// waitFor polls the log until it contains s: the only way to know that the
// watcher reached a state that has no other outward sign.
func (b *syncBuffer) waitFor(t testing.TB, s string) {
	t.Helper()
	deadline := time.Now().Add(soon)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// env is a certbot config dir, a state dir and a fake cloud.
type env struct {
	certbot  *fakeCertbot
	store    *store.Store
	deployer *fakeDeployer
	reg      *prometheus.Registry
	log      *syncBuffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, deployer: newFakeDeployer(), log: &syncBuffer{}}
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
		RetryMin:   time.Minute, // no retry within a test unless the clock is moved
		Registerer: e.reg,
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

func expectDeploy(t *testing.T, d *fakeDeployer, name, fingerprint string) call {
	t.Helper()
	c := d.next(t, soon)
	if c.name != name || c.fingerprint != fingerprint {
		t.Fatalf("deployed %s sha256 %.12s…, want %s sha256 %.12s…", c.name, c.fingerprint, name, fingerprint)
	}
	return c
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
	for _, d := range []string{filepath.Join(cb.dir, "live"), cb.live("example.test")} {
		if err := fsw.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	cb.renew("example.test")
	var got []string
	timeout := time.After(time.Second)
collect:
	for {
		select {
		case ev := <-fsw.Events:
			if filepath.Dir(ev.Name) != cb.live("example.test") {
				t.Errorf("event outside live/NAME: %s", ev)
			}
			got = append(got, ev.Op.String()+" "+filepath.Base(ev.Name))
		case <-timeout:
			break collect
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
}

// Each renewal is deployed exactly once, a quiet period after certbot's
// last change, with the complete new lineage.
func TestEachRenewalDeployedOnce(t *testing.T) {
	e := newEnv(t)
	fp := e.certbot.issue("example.test")
	start(t, e.options())
	expectDeploy(t, e.deployer, "example.test", fp)
	for range 3 {
		fp = e.certbot.renew("example.test")
		done := time.Now()
		c := expectDeploy(t, e.deployer, "example.test", fp)
		// The timer starts when the watcher reads the last event, a
		// moment after the change; allow for that moment.
		if waited := c.at.Sub(done); waited < quiet-10*time.Millisecond {
			t.Errorf("deployed %s after the swap, before the quiet period of %s", waited, quiet)
		}
		e.deployer.none(t, 3*quiet, "after the renewal's deployment")
	}
	if v, ok := gauge(t, e.reg, "clbcert_watch_last_deploy_success_timestamp_seconds", "example.test"); !ok || v == 0 {
		t.Errorf("last success metric = %v, %v", v, ok)
	}
	if v, ok := gauge(t, e.reg, "clbcert_watch_leaf_expiry_timestamp_seconds", "example.test"); !ok || v < float64(time.Now().Unix()) {
		t.Errorf("leaf expiry metric = %v, %v", v, ok)
	}
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
			start(t, e.options())
			expectDeploy(t, e.deployer, "example.test", old)

			r := e.certbot.renewal("example.test")
			if tt.withoutP != "" {
				r.steps = r.without("create " + tt.withoutP).without("remove " + tt.withoutP).steps
			}
			r.runUntil(t, tt.stopAt)
			e.deployer.none(t, 5*quiet, "half-swapped lineage")
			r.runUntil(t, "")
			expectDeploy(t, e.deployer, "example.test", r.fingerprint)
			e.deployer.none(t, 3*quiet, "after the deployment")
		})
	}
}

// A lineage issued while the watcher runs is deployed once its files are
// written, though certbot links them before writing them.
func TestNewLineageIsPickedUp(t *testing.T) {
	e := newEnv(t)
	first := e.certbot.issue("a.test")
	start(t, e.options())
	expectDeploy(t, e.deployer, "a.test", first)

	fp := e.certbot.issue("b.test")
	expectDeploy(t, e.deployer, "b.test", fp)
	fp = e.certbot.renew("b.test")
	expectDeploy(t, e.deployer, "b.test", fp)

	if err := os.RemoveAll(e.certbot.live("b.test")); err != nil {
		t.Fatal(err)
	}
	e.log.waitFor(t, "lineage left live/")
	if _, ok := gauge(t, e.reg, "clbcert_watch_leaf_expiry_timestamp_seconds", "b.test"); ok {
		t.Error("a lineage that left live/ still has metrics")
	}
	e.deployer.none(t, 3*quiet, "after a lineage was removed")
}

// A certbot dir that does not exist yet is waited for without polling, one
// level at a time.
func TestMissingCertbotDirIsWaitedFor(t *testing.T) {
	e := newEnv(t)
	e.certbot.dir = filepath.Join(t.TempDir(), "etc", "letsencrypt")
	start(t, e.options())
	e.log.waitFor(t, "waiting for certbot's live directory")
	if err := os.MkdirAll(filepath.Join(e.certbot.dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.log.waitFor(t, "watching certbot's live directory")
	fp := e.certbot.issue("example.test")
	expectDeploy(t, e.deployer, "example.test", fp)

	// live/ going away and coming back is followed too. archive/ goes with
	// it: certbot never rewrites an archive file in place, and a re-issue
	// into the old archive would let the watcher read the old leaf through
	// the new links before the new one is written.
	for _, d := range []string{"live", "archive"} {
		if err := os.RemoveAll(filepath.Join(e.certbot.dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	e.log.waitFor(t, "live directory went away")
	if err := os.MkdirAll(filepath.Join(e.certbot.dir, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.certbot.version = map[string]int{}
	fp = e.certbot.issue("example.test")
	expectDeploy(t, e.deployer, "example.test", fp)
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
	e.deployer.none(t, 3*quiet, "other.test is unchanged")
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	_, _ = start(t, e.options())
	e.deployer.none(t, 3*quiet, "nothing changed while stopped")

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

// A failing deployment is retried with a growing wait and reported in the
// log and the metrics until it succeeds; the watcher keeps running.
func TestFailingDeployIsRetried(t *testing.T) {
	e := newEnv(t)
	clock := newFakeClock()
	opts := e.options()
	opts.Clock = clock
	opts.RetryMin, opts.RetryMax = 10*time.Second, 30*time.Second
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	start(t, opts)

	waits := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, wantWait := range waits {
		expectDeploy(t, e.deployer, "example.test", fp)
		if got := clock.nextTimer(t); got != wantWait {
			t.Fatalf("after failure %d: retry in %s, want %s", i+1, got, wantWait)
		}
		if v, _ := gauge(t, e.reg, "clbcert_watch_deploy_failures", "example.test"); v != float64(i+1) {
			t.Fatalf("failures metric = %v after %d failures", v, i+1)
		}
		clock.advance(wantWait - time.Second)
		e.deployer.none(t, 2*quiet, "before the backoff ended")
		if i == len(waits)-1 {
			e.deployer.setFail(nil) // the cloud is back for the next retry
		}
		clock.advance(time.Second)
	}
	expectDeploy(t, e.deployer, "example.test", fp)
	if n := strings.Count(e.log.String(), "deploy failed; retrying"); n != len(waits) || !strings.Contains(e.log.String(), errCloudDown.Error()) {
		t.Fatalf("%d failures logged, want %d with the cause", n, len(waits))
	}
	e.log.waitFor(t, "msg=deployed")
	if v, _ := gauge(t, e.reg, "clbcert_watch_deploy_failures", "example.test"); v != 0 {
		t.Errorf("failures metric = %v after a success", v)
	}
	if v, _ := gauge(t, e.reg, "clbcert_watch_last_deploy_success_timestamp_seconds", "example.test"); v != float64(clock.Now().Unix()) {
		t.Errorf("last success metric = %v, want the clock's now %d", v, clock.Now().Unix())
	}
}

// A reload retries a failing lineage at once with the new deployer.
func TestReloadRetriesAtOnce(t *testing.T) {
	e := newEnv(t)
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	w, _ := start(t, e.options())
	expectDeploy(t, e.deployer, "example.test", fp)
	e.log.waitFor(t, "deploy failed; retrying")

	fixed := newFakeDeployer()
	if err := w.Reload(context.Background(), fixed); err != nil {
		t.Fatal(err)
	}
	expectDeploy(t, fixed, "example.test", fp)
	e.deployer.none(t, 2*quiet, "the old deployer after the reload")
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

	renewed := e.certbot.renew("example.test")
	e.deployer.none(t, 3*quiet, "while example.test's deployment runs")
	release()
	expectDeploy(t, e.deployer, "other.test", other)
	expectDeploy(t, e.deployer, "example.test", renewed)
	if same, all := e.deployer.concurrency(); same != 1 || all != 1 {
		t.Fatalf("concurrent deployments: %d of one lineage, %d in all; want 1 and 1", same, all)
	}

	// Stopping waits for the deployment in flight and records it.
	release = e.deployer.hold()
	fp = e.certbot.renew("other.test")
	expectDeploy(t, e.deployer, "other.test", fp)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) with a deployment in flight", err)
	case <-time.After(3 * quiet):
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	_, _ = start(t, e.options())
	e.deployer.none(t, 3*quiet, "the deployment finished at stop was recorded")
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
