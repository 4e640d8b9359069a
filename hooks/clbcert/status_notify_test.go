package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/notifytest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// clbcert status --notify, run as cron would: a lineage is told when its
// level gets worse than at its last notification, not at every run;
// --prometheus writes the textfile; the exit status stays the level.
func TestStatusNotifyAndPrometheus(t *testing.T) {
	hook := notifytest.New(t)
	messages := hook.Messages

	certbot, dir := t.TempDir(), t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[[notify]]\nurl = %q\nkind = \"json\"\n", hook.URL+"/in")), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(dir, "clbcert.prom")
	env := []string{"HOME=" + dir, "CLBCERT_CONFIG=" + cfg, "CLBCERT_STATE_DIR=" + filepath.Join(dir, "state"), "CLBCERT_CERTBOT_DIR=" + certbot}
	now, day := time.Now(), 24*time.Hour
	simtest.Issue(t, certbot, "ok.test", now.Add(-day), now.Add(89*day), "ok.test")
	// 90 days, 70 gone: overdue.
	simtest.Issue(t, certbot, "late.test", now.Add(-70*day), now.Add(20*day), "late.test")

	run := func(wantCode int) {
		t.Helper()
		r := runOps(t, env, "clbcert", "status", "--notify", "--prometheus", prom)
		if r.Code != wantCode || r.Stderr != "" {
			t.Fatalf("exit %d, want %d; stderr %q\n%s", r.Code, wantCode, r.Stderr, r.Stdout)
		}
	}
	run(1)
	if ms := messages(); len(ms) != 1 || ms[0].Lineage != "late.test" || ms[0].Event != notify.EventLevelWorse || !strings.Contains(ms[0].Title, "late.test is WARNING (was OK)") {
		t.Fatalf("first run: %+v", ms)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`clbcert_certificate_level{lineage="late.test"} 1`, `clbcert_certificate_level{lineage="ok.test"} 0`, `clbcert_certificate_renewal_due_seconds{lineage="ok.test"}`, `clbcert_certificate_not_after_seconds{lineage="late.test"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s:\n%s", prom, want, b)
		}
	}

	run(1) // the same levels: nothing to tell
	if n := len(messages()); n != 1 {
		t.Fatalf("second run sent %d messages in all, want still 1", n)
	}

	// Renewal still not done, now with 5 days left: worse.
	simtest.Issue(t, certbot, "late.test", now.Add(-85*day), now.Add(5*day), "late.test")
	run(2)
	if ms := messages(); len(ms) != 2 || !strings.Contains(ms[1].Title, "late.test is CRITICAL (was WARNING)") {
		t.Fatalf("third run: %+v", ms)
	}
}

// With regions, status asks the cloud with the API key: the key never reaches a notification,
// even where a message would carry it (here, as the lineage's name).
func TestStatusNotifyScrubsTheAPIKey(t *testing.T) {
	const key = "late-secret-key.example.test"
	sim := simtest.Start(t, tcsim.Options{Credentials: []tcsim.Credential{{SecretID: "AKIDstatusnotify", SecretKey: key}}})
	hook := notifytest.New(t)
	certbot, dir := t.TempDir(), t.TempDir()
	cfg := configtest.Write(t, fmt.Sprintf("[[notify]]\nurl = %q\nkind = \"json\"\n", hook.URL+"/in"), 0o600)
	now, day := time.Now(), 24*time.Hour
	simtest.Issue(t, certbot, key, now.Add(-70*day), now.Add(20*day), key)
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CONFIG="+cfg, "CLBCERT_CERTBOT_DIR="+certbot, "HOME="+dir)

	r := runOps(t, env, "clbcert", "status", "--notify", "--region", "ap-guangzhou")
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1 (WARNING)\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	ms := hook.Messages()
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1: %+v", len(ms), ms)
	}
	if m := fmt.Sprintf("%+v", ms[0]); strings.Contains(m, key) || !strings.Contains(m, "WARNING") {
		t.Errorf("message %s: want the level told and the API key scrubbed", m)
	}
}

// A level-worse message the webhook did not take is not recorded as told:
// the next run (cron's next hour) tells it again, rather than the alarm
// being lost until the level gets worse still.
func TestStatusNotifyRetriesWhatWasNotDelivered(t *testing.T) {
	hook := notifytest.New(t)
	hook.Refuse(1)

	certbot, dir := t.TempDir(), t.TempDir()
	cfg := configtest.Write(t, fmt.Sprintf("[[notify]]\nurl = %q\nkind = \"json\"\n", hook.URL+"/in"), 0o600)
	env := []string{"HOME=" + dir, "CLBCERT_CONFIG=" + cfg, "CLBCERT_STATE_DIR=" + filepath.Join(dir, "state"), "CLBCERT_CERTBOT_DIR=" + certbot}
	now, day := time.Now(), 24*time.Hour
	// 6 days, 4 gone: overdue.
	simtest.Issue(t, certbot, "late.test", now.Add(-4*day), now.Add(2*day), "late.test")

	run := func() {
		t.Helper()
		if r := runOps(t, env, "clbcert", "status", "--notify"); r.Code != 1 {
			t.Fatalf("exit %d, want 1 (WARNING)\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
	}
	run() // refused
	run()
	run()
	if ms := hook.Messages(); len(ms) != 1 {
		t.Fatalf("the webhook took %d messages once it was back, want 1 (the one it missed, once): %+v", len(ms), ms)
	}
}
