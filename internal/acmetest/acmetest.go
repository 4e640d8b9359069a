// Package acmetest runs the real certbot against a real pebble ACME server on loopback, for
// end-to-end tests and benchmarks of the hooks.
//
// A test starts a Pebble (which generates its own throwaway CA and server certificate, because
// Debian's pebble package ships none), points it at a DNS server the test controls with
// PebbleOptions.DNSServer, and drives certbot through a Certbot bound to that Pebble:
//
//	acmetest.RequireTools(t)
//	peb, err := acmetest.StartPebble(ctx, acmetest.PebbleOptions{Dir: t.TempDir(), DNSServer: dnsAddr})
//	defer peb.Close()
//	cb := acmetest.NewCertbot(peb, t.TempDir(), env)
//	res, err := cb.Run(ctx, "certonly", "--manual", ...)
//	leaf, err := cb.Leaf("example.test")
//
// Every process the package starts lives in its own process group, dies with the test binary,
// and is killed (with everything it spawned) when its context ends or it is closed.
package acmetest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireE2EEnv is the environment variable that turns a missing certbot or pebble from a
// skipped test into a failed one, so CI cannot silently skip the end-to-end tests.
const RequireE2EEnv = "CLBCERT_REQUIRE_E2E"

// Available reports whether certbot and pebble are on PATH; the error names what is missing
// and how to install it.
func Available() error {
	return Missing("apt-get install -y certbot pebble", "certbot", "pebble")
}

// Missing is nil when every command of names is on PATH; otherwise its error names those that
// are not and the install command that brings them.
func Missing(install string, names ...string) error {
	var missing []string
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	list := strings.Join(missing, ", ")
	if n := len(missing); n > 1 {
		list = strings.Join(missing[:n-1], ", ") + " and " + missing[n-1]
	}
	return fmt.Errorf("%s not found on PATH; install with: %s", list, install)
}

// Require skips tb when err (what a test needs and lacks, as Missing says it) is not nil, or
// fails it when CLBCERT_REQUIRE_E2E=1, so CI cannot silently skip what it is meant to run.
func Require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireE2EEnv) == "1" {
		tb.Fatalf("%v (%s=1 requires this test to run)", err, RequireE2EEnv)
	}
	tb.Skipf("%v (set %s=1 to fail instead of skipping)", err, RequireE2EEnv)
}

// RequireTools skips tb when certbot or pebble is missing, or fails it when
// CLBCERT_REQUIRE_E2E=1.
func RequireTools(tb testing.TB) {
	tb.Helper()
	Require(tb, Available())
}

// tail returns the last n lines of s, so a failure message shows the end of a long output
// (where certbot and pebble put the reason) without drowning the test log.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailFile is tail for a file; an unreadable file yields a note instead of an error because it
// is only ever used to decorate another error.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return tail(string(b), n)
}
