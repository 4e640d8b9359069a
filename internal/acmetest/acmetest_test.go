package acmetest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
)

// zoneHook publishes (auth) or withdraws (cleanup) $CERTBOT_VALIDATION in the directory served
// by startZoneServer, and logs each call so the test can count them.
const zoneHook = `#!/bin/sh
set -eu
echo "$1 $CERTBOT_DOMAIN" >> "$ACMETEST_HOOKLOG"
case "$1" in
auth) mkdir -p "$ACMETEST_ZONE/$CERTBOT_DOMAIN" && : > "$ACMETEST_ZONE/$CERTBOT_DOMAIN/$CERTBOT_VALIDATION" ;;
cleanup) rm -f "$ACMETEST_ZONE/$CERTBOT_DOMAIN/$CERTBOT_VALIDATION" ;;
esac
`

// fixture is one pebble resolving through its own zone server, and a certbot bound to it.
type fixture struct {
	peb  *Pebble
	cb   *Certbot
	zone string // directory startZoneServer serves
	bin  string // on the hooks' PATH
	env  []string
}

// newFixture starts a zone server and pebble for t; hook scripts go into f.bin, and env is
// handed to certbot (and so to the hooks) on top of PATH and the ACMETEST_* variables.
func newFixture(t *testing.T, hooks map[string]string, env ...string) *fixture {
	t.Helper()
	RequireTools(t)
	t.Parallel()
	f := &fixture{zone: t.TempDir(), bin: t.TempDir()}
	for name, script := range hooks {
		if err := os.WriteFile(filepath.Join(f.bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dnsAddr := startZoneServer(t, f.zone)
	peb, err := StartPebble(t.Context(), PebbleOptions{Dir: t.TempDir(), DNSServer: dnsAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := peb.Close(); err != nil {
			t.Error(err)
		}
	})
	f.peb = peb
	f.env = append([]string{
		"PATH=" + f.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"ACMETEST_ZONE=" + f.zone,
		"ACMETEST_HOOKLOG=" + filepath.Join(f.bin, "hook.log"),
	}, env...)
	f.cb = NewCertbot(peb, t.TempDir(), f.env)
	return f
}

// hookCalls counts the logged hook calls by kind (auth, cleanup).
func (f *fixture) hookCalls(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.bin, "hook.log"))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for line := range strings.Lines(string(data)) {
		kind, _, _ := strings.Cut(line, " ")
		calls[kind]++
	}
	return calls
}

// verifyChain checks that leaf, with lineage name's chain.pem, chains to pebble's issuer roots
// for both the apex and a name under the wildcard.
func (f *fixture) verifyChain(t *testing.T, name string, leaf *x509.Certificate) {
	t.Helper()
	rootsPEM, err := f.peb.IssuerRoots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootsPEM) {
		t.Fatalf("IssuerRoots returned no certificate:\n%s", rootsPEM)
	}
	chainPEM, err := os.ReadFile(filepath.Join(f.cb.LivePath(name), "chain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	intermediates := x509.NewCertPool()
	if !intermediates.AppendCertsFromPEM(chainPEM) {
		t.Fatalf("chain.pem holds no certificate")
	}
	for _, host := range []string{"example.test", "www.example.test"} {
		opts := x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: intermediates}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("leaf does not verify for %s: %v", host, err)
		}
	}
}

func TestIssueWildcardAndRenew(t *testing.T) {
	f := newFixture(t, map[string]string{"acme-hook": zoneHook})
	ctx := t.Context()

	res, err := f.cb.Run(ctx, "certonly", "--manual", "--preferred-challenges", "dns",
		"-d", "example.test", "-d", "*.example.test",
		"--manual-auth-hook", "acme-hook auth", "--manual-cleanup-hook", "acme-hook cleanup",
		"--cert-name", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("issuance took %s", res.Duration)
	leaf, err := f.cb.Leaf("example.test")
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(slices.Values(leaf.DNSNames))
	if want := []string{"*.example.test", "example.test"}; !slices.Equal(names, want) {
		t.Errorf("leaf names = %q, want %q", names, want)
	}
	f.verifyChain(t, "example.test", leaf)
	if calls := f.hookCalls(t); calls["auth"] != 2 || calls["cleanup"] != 2 {
		t.Errorf("hook calls after issuance = %v, want 2 auth and 2 cleanup", calls)
	}
	assertZoneEmpty(t, f.zone)

	// Renewal reuses the hooks stored in renewal/example.test.conf and, with PEBBLE_AUTHZREUSE=0,
	// must run them again; without --no-random-sleep-on-renew this would sleep for minutes.
	res, err = f.cb.Run(ctx, "renew", "--force-renewal", "--cert-name", "example.test")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("renewal took %s", res.Duration)
	renewed, err := f.cb.Leaf("example.test")
	if err != nil {
		t.Fatal(err)
	}
	if renewed.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Errorf("renewal left the same leaf (serial %s)", leaf.SerialNumber)
	}
	f.verifyChain(t, "example.test", renewed)
	if calls := f.hookCalls(t); calls["auth"] != 4 || calls["cleanup"] != 4 {
		t.Errorf("hook calls after renewal = %v, want 4 auth and 4 cleanup", calls)
	}
	assertZoneEmpty(t, f.zone)
}

func assertZoneEmpty(t *testing.T, zone string) {
	t.Helper()
	err := filepath.WalkDir(zone, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("cleanup left a record behind: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFailedRunExplainsWhyAndKillsLeftovers(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// Publishes nothing, so validation fails, and leaves a process behind that Run must kill.
	lazyHook := `#!/bin/sh
sleep 300 >/dev/null 2>&1 &
echo $! > "$ACMETEST_PIDFILE"
`
	f := newFixture(t, map[string]string{"lazy-hook": lazyHook}, "ACMETEST_PIDFILE="+pidFile)

	res, err := f.cb.Run(t.Context(), "certonly", "--manual", "--preferred-challenges", "dns",
		"-d", "example.test", "--manual-auth-hook", "lazy-hook", "--cert-name", "example.test")
	if err == nil {
		t.Fatalf("certbot succeeded without a published TXT record:\n%s", res.Stderr)
	}
	if res.ExitCode != 1 {
		t.Errorf("exit code = %d, want 1", res.ExitCode)
	}
	msg := err.Error()
	for _, want := range []string{
		"certbot certonly failed",
		"Some challenges have failed",            // certbot's stderr
		"No TXT records found for DNS challenge", // the CA's problem, on certbot's stdout
		"Exiting abnormally",                     // certbot's log, before the elided traceback
		f.cb.LogPath(),
		f.peb.LogPath(),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	assertGone(t, readPID(t, pidFile))
}

func TestCancelKillsCertbotAndHooks(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	stuckHook := `#!/bin/sh
echo $$ > "$ACMETEST_PIDFILE"
exec sleep 300
`
	f := newFixture(t, map[string]string{"stuck-hook": stuckHook}, "ACMETEST_PIDFILE="+pidFile)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := f.cb.Run(ctx, "certonly", "--manual", "--preferred-challenges", "dns",
			"-d", "example.test", "--manual-auth-hook", "stuck-hook", "--cert-name", "example.test")
		done <- outcome{res, err}
	}()
	pid := readPID(t, pidFile)
	cancel()
	select {
	case o := <-done:
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("Run error = %v, want context.Canceled", o.err)
		}
		if o.res.ExitCode != -1 {
			t.Errorf("exit code = %d, want -1 (killed)", o.res.ExitCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	assertGone(t, pid)
}

// readPID waits for a hook to write its pid to path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually.Succeeds(t, 30*time.Second, func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err
	})
	return pid
}

// assertGone waits briefly for pid to die. A zombie counts as gone: once orphaned it is
// init's to reap, and not every container init reaps promptly.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	eventually.Succeeds(t, 5*time.Second, func() error {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// The state follows the command name, which is in parentheses and may contain spaces.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return nil
		}
		return fmt.Errorf("process %d still running: %s", pid, stat)
	})
}

func TestPebbleLifecycle(t *testing.T) {
	RequireTools(t)
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// One alternate root makes pebble serve /roots/0 and /roots/1, and shows Env reaches pebble.
	peb, err := StartPebble(ctx, PebbleOptions{Dir: t.TempDir(), Env: []string{"PEBBLE_ALTERNATE_ROOTS=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer peb.Close()
	roots, err := peb.IssuerRoots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for block, rest := pem.Decode(roots); block != nil; block, rest = pem.Decode(rest) {
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("IssuerRoots returned %d roots, want 2", n)
	}
	u, err := url.Parse(peb.DirectoryURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("directory URL %s is not on 127.0.0.1", u)
	}

	cancel()
	for range 2 {
		if err := peb.Close(); err != nil {
			t.Errorf("Close after the context ended: %v", err)
		}
	}
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("pebble still listens on %s after Close", u.Host)
	}
}

func TestAvailableNamesWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Available()
	if err == nil {
		t.Fatal("Available() = nil with an empty PATH")
	}
	for _, want := range []string{"certbot and pebble", "apt-get install -y certbot pebble"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Available() = %q, lacks %q", err, want)
		}
	}
}
