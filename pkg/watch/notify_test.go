package watch_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/notifytest"
	"github.com/clbcert/clbcert/pkg/notify"
)

// A lineage's first failed deployment is told once, not at every retry;
// the success that ends the failures is told too. Meanwhile the level
// metric says the leaf lags its deployment, and the served metric where.
func TestFailureAndRecoveryAreToldOnce(t *testing.T) {
	hook := notifytest.New(t)
	messages := hook.Messages
	waitMessages := func(n int) []notify.Message {
		t.Helper()
		eventually.True(t, soon, fmt.Sprintf("%d notifications", n), func() bool { return len(messages()) >= n })
		return messages()
	}

	e := newEnv(t)
	clock := e.clock
	opts := e.options()
	opts.RetryMin, opts.RetryMax = 10*time.Second, 10*time.Second
	n, err := notify.New([]notify.Endpoint{{URL: hook.URL, Kind: notify.JSON}}, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Notifier = n
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	start(t, opts)

	var release func()
	for i := range 2 {
		expectDeploy(t, e.deployer, "example.test", fp)
		clock.nextTimer(t)
		if i == 0 {
			if ms := waitMessages(1); len(ms) != 1 || ms[0].Event != notify.EventDeployFailed || ms[0].Details[0] != errCloudDown.Error() || ms[0].Command == "" {
				t.Fatalf("after the first failure: %+v", ms)
			}
		}
		if v, _ := gauge(t, e.reg, "clbcert_certificate_level", "example.test"); v != 1 {
			t.Errorf("level %v while the renewal waits for its deployment, want 1 (WARNING)", v)
		}
		if v, ok := gauge(t, e.reg, "clbcert_target_serves_current", "example.test"); !ok || v != 0 {
			t.Errorf("served %v (%v), want 0", v, ok)
		}
		if i == 1 {
			// Before the advance that starts the next attempt, which
			// would otherwise read the failure still set.
			e.deployer.setFail(nil)
			release = e.deployer.hold() // the next attempt waits until the level is read
		}
		clock.advance(10 * time.Second)
	}
	clock.advance(time.Hour) // past the deploy grace: the lag is critical now
	expectDeploy(t, e.deployer, "example.test", fp)
	if v, _ := gauge(t, e.reg, "clbcert_certificate_level", "example.test"); v != 2 {
		t.Errorf("level %v an hour on, want 2 (CRITICAL)", v)
	}
	release()
	ms := waitMessages(2)
	if len(ms) != 2 || ms[1].Event != notify.EventDeployRecovered {
		t.Fatalf("after the success: %+v", ms)
	}
	e.waitGauge(t, "clbcert_target_serves_current", "example.test", 1)
	if v, _ := gauge(t, e.reg, "clbcert_certificate_level", "example.test"); v != 0 {
		t.Errorf("level %v once deployed, want 0", v)
	}
	for _, name := range []string{"clbcert_certificate_not_after_seconds", "clbcert_certificate_renewal_due_seconds"} {
		if _, ok := gauge(t, e.reg, name, "example.test"); !ok {
			t.Errorf("no %s", name)
		}
	}
}

// A failure whose notification the webhook did not take is told again at
// the next failed attempt, once: the alarm is not lost to a webhook that
// was down for a moment.
func TestFailureNotDeliveredIsToldAtTheNextAttempt(t *testing.T) {
	hook := notifytest.New(t)
	hook.Refuse(1)
	received := func() int { return len(hook.Messages()) }

	e := newEnv(t)
	opts := e.options()
	opts.RetryMin, opts.RetryMax = 10*time.Second, 10*time.Second
	n, err := notify.New([]notify.Endpoint{{URL: hook.URL, Kind: notify.JSON}}, notify.Options{Logger: opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	opts.Notifier = n
	e.deployer.setFail(errCloudDown)
	fp := e.certbot.issue("example.test")
	_, stop := start(t, opts)
	for i := range 3 {
		expectDeploy(t, e.deployer, "example.test", fp)
		e.clock.nextTimer(t)
		if i == 0 {
			eventually.True(t, soon, "the first message refused", func() bool { return strings.Contains(e.log.String(), "notification not delivered") })
		}
		if i == 1 {
			eventually.True(t, soon, "the failure told at the second attempt", func() bool { return received() == 1 })
		}
		e.clock.advance(10 * time.Second)
	}
	expectDeploy(t, e.deployer, "example.test", fp)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := received(); n != 1 {
		t.Fatalf("the webhook took %d failure messages, want 1", n)
	}
}
