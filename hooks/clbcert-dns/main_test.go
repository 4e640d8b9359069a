package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

var bins simtest.Binaries

func TestMain(m *testing.M) { bins.Main(m) }

// hookEnv is what certbot would give the hook, minus the CERTBOT_* values.
func hookEnv(t *testing.T, sim *tcsim.Sim) []string {
	return append(simtest.HookEnv(t, sim), "PATH="+os.Getenv("PATH"), "CLBCERT_LOG_LEVEL=debug")
}

// outputs collects everything every hook process printed, to check for secrets.
type outputs struct{ all []string }

func (o *outputs) run(t *testing.T, env []string, args ...string) simtest.Result {
	t.Helper()
	cmd := exec.Command(filepath.Join(bins.Dir(t), "clbcert-dns"), args...)
	cmd.Env = env
	r := simtest.Run(t, cmd)
	o.all = append(o.all, r.Stdout, r.Stderr)
	return r
}

func (o *outputs) assertNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	for _, out := range o.all {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Fatalf("a secret (%.4s…) appears in the output:\n%s", s, out)
			}
		}
	}
}

func with(env []string, kv ...string) []string {
	return append(slices.Clone(env), kv...)
}

// A certbot run for example.test + *.example.test, hook by hook: two auth
// calls (the second waits for both values on both nameservers, one lagging)
// and two cleanups that leave another client's record alone.
func TestCertbotRun(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{
		Credentials: []tcsim.Credential{{SecretID: "AKIDsimtoken0000000000000000000000", SecretKey: "sim-secret-key-0123456789abcdef", Token: "sim-session-token-xyz"}},
		Zones: []tcsim.ZoneSpec{{Name: "example.test", Records: []tcsim.RecordSpec{
			{Name: "_acme-challenge", Type: "TXT", Value: "another-clients-record"},
		}}},
		Nameservers: []tcsim.NameserverSpec{
			{Host: "ns1.tcsim.test.", IP: "127.0.0.1"},
			{Host: "ns2.tcsim.test.", IP: "127.0.0.2", Lag: time.Second},
		},
		PropagationDelay: 500 * time.Millisecond,
	})
	var o outputs
	env := with(hookEnv(t, sim), "CERTBOT_DOMAIN=example.test", "CERTBOT_ALL_DOMAINS=example.test,*.example.test")

	first := o.run(t, with(env, "CERTBOT_VALIDATION=apex-value", "CERTBOT_REMAINING_CHALLENGES=1"), "auth")
	if first.Code != 0 || !strings.HasPrefix(first.Stdout, "zone=example.test id=") {
		t.Fatalf("first auth: %+v", first)
	}
	start := time.Now()
	second := o.run(t, with(env, "CERTBOT_VALIDATION=wildcard-value", "CERTBOT_REMAINING_CHALLENGES=0"), "auth")
	if second.Code != 0 {
		t.Fatalf("second auth: %+v", second)
	}
	took := time.Since(start)
	want := []string{"another-clients-record", "apex-value", "wildcard-value"}
	for _, addr := range sim.NameserverAddrs() {
		if got := simtest.ServedTXT(t, addr, "_acme-challenge.example.test"); !slices.Equal(got, want) {
			t.Fatalf("the last auth returned (after %v) while %s serves %v", took, addr, got)
		}
	}

	for _, c := range []struct{ value, out string }{{"apex-value", first.Stdout}, {"wildcard-value", second.Stdout}} {
		r := o.run(t, with(env, "CERTBOT_VALIDATION="+c.value, "CERTBOT_AUTH_OUTPUT="+strings.TrimSpace(c.out)), "cleanup")
		if r.Code != 0 {
			t.Fatalf("cleanup: %+v", r)
		}
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"another-clients-record"}) {
		t.Fatalf("after cleanup: %v", got)
	}
	cred := sim.Credential()
	o.assertNoSecrets(t, cred.SecretKey, cred.Token, cred.SecretID)
}

func TestBadInput(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	cred := sim.Credential()
	base := hookEnv(t, sim)
	certbot := with(base, "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v", "CERTBOT_REMAINING_CHALLENGES=0")
	noCreds := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "CLBCERT_ENDPOINT=" + sim.Endpoint(),
		"CLBCERT_STATE_DIR=" + t.TempDir(), "CLBCERT_RESOLVER=" + sim.NameserverAddrs()[0], "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v"}

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no CERTBOT variables", env: base, args: []string{"auth"}, wantCode: 2, wantErr: "CERTBOT_DOMAIN, CERTBOT_VALIDATION not set"},
		{name: "no CERTBOT_VALIDATION on cleanup", env: with(base, "CERTBOT_DOMAIN=example.test"), args: []string{"cleanup"}, wantCode: 2,
			wantErr: "CERTBOT_VALIDATION not set: run this as certbot's --manual-cleanup-hook (certbot sets it), or use: clbcert-dns cleanup FQDN VALUE"},
		{name: "no CERTBOT variables on auth", env: base, args: []string{"auth"}, wantCode: 2, wantErr: "or use: clbcert-dns present FQDN VALUE"},
		{name: "certbot hook without its command", env: certbot, wantCode: 2,
			wantErr: "no command given: certbot runs this as --manual-auth-hook 'clbcert-dns auth' and --manual-cleanup-hook 'clbcert-dns cleanup'"},
		{name: "SecretId and SecretKey swapped", env: with(certbot, "TENCENTCLOUD_SECRET_ID="+cred.SecretKey, "TENCENTCLOUD_SECRET_KEY="+cred.SecretID), args: []string{"auth"}, wantCode: 2,
			wantErr: "look swapped"},
		{name: "unknown subcommand", env: certbot, args: []string{"foo"}, wantCode: 2, wantErr: `unknown command "foo": run clbcert-dns --help for the commands`},
		{name: "internationalized domain", env: with(certbot, "CERTBOT_DOMAIN=bücher.example.test"), args: []string{"auth"}, wantCode: 2,
			wantErr: `CERTBOT_DOMAIN: "bücher.example.test" is an internationalized name: give its ASCII (punycode) form`},
		{name: "empty label on auth", env: with(certbot, "CERTBOT_DOMAIN=a..example.test"), args: []string{"auth"}, wantCode: 2, wantErr: `CERTBOT_DOMAIN: "a..example.test" has an empty label`},
		{name: "empty label on cleanup", env: with(certbot, "CERTBOT_DOMAIN=.example.test"), args: []string{"cleanup"}, wantCode: 2, wantErr: `CERTBOT_DOMAIN: ".example.test" has an empty label`},
		{name: "two trailing dots", env: with(certbot, "CERTBOT_DOMAIN=example.test.."), args: []string{"auth"}, wantCode: 2, wantErr: "has an empty label"},
		{name: "empty label on present", env: base, args: []string{"present", "_acme-challenge..example.test.", "v"}, wantCode: 2, wantErr: `FQDN: "_acme-challenge..example.test." has an empty label`},
		{name: "internationalized FQDN on lego cleanup", env: base, args: []string{"cleanup", "_acme-challenge.bücher.example.test.", "v"}, wantCode: 2, wantErr: "is an internationalized name"},
		{name: "bad CERTBOT_REMAINING_CHALLENGES", env: with(certbot, "CERTBOT_REMAINING_CHALLENGES=many"), args: []string{"auth"}, wantCode: 2, wantErr: `CERTBOT_REMAINING_CHALLENGES="many" is not a count`},
		{name: "domain in no zone", env: with(certbot, "CERTBOT_DOMAIN=other.invalid"), args: []string{"auth"}, wantCode: 1, wantErr: "in no DNSPod zone of this account (zones: example.test)"},
		{name: "wrong secret key", env: with(certbot, "TENCENTCLOUD_SECRET_KEY=wrong-key-0123456789abcdef01234"), args: []string{"auth"}, wantCode: 1,
			wantErr: "AuthFailure.SignatureFailure"},
		{name: "unknown secret id", env: with(certbot, "TENCENTCLOUD_SECRET_ID=AKIDunknown000000000000000000000000"), args: []string{"auth"}, wantCode: 1,
			wantErr: "Tencent Cloud does not know SecretId AKID"},
		{name: "legacy DNSPod token", env: with(certbot, "TENCENTCLOUD_SECRET_ID=123456", "TENCENTCLOUD_SECRET_KEY=0123456789abcdef0123456789abcdef"), args: []string{"auth"}, wantCode: 2,
			wantErr: "looks like a legacy DNSPod token (ID,Token)"},
		{name: "no credentials anywhere", env: noCreds, args: []string{"auth"}, wantCode: 2, wantErr: "no Tencent Cloud API key found"},
		{name: "plain http to a remote endpoint", env: with(certbot, "CLBCERT_ENDPOINT=http://192.0.2.1:80"), args: []string{"auth"}, wantCode: 2, wantErr: "plain http is allowed only for loopback"},
		{name: "bad log level", env: with(certbot, "CLBCERT_LOG_LEVEL=loud"), args: []string{"auth"}, wantCode: 2, wantErr: "use debug, info, warn or error"},
		{name: "bad dns server", env: with(certbot, "CLBCERT_DNS_SERVER=127.0.0.1"), args: []string{"auth"}, wantCode: 2, wantErr: "give it as HOST:PORT"},
		{name: "present without value", env: base, args: []string{"present", "_acme-challenge.example.test."}, wantCode: 2, wantErr: "present takes FQDN VALUE"},
		{name: "unknown flag", env: certbot, args: []string{"auth", "--no-such-flag"}, wantCode: 2, wantErr: "flag provided but not defined"},
	}
	var o outputs
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := total(sim.CallCounts())
			r := o.run(t, tt.env, tt.args...)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			last := lines[len(lines)-1]
			if r.Code != tt.wantCode || !strings.Contains(last, tt.wantErr) || !strings.HasPrefix(last, "clbcert-dns: ") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and a last line with %q", r.Code, r.Stderr, tt.wantCode, tt.wantErr)
			}
			if r.Stdout != "" {
				t.Fatalf("stdout = %q, want nothing (certbot would pass it to cleanup)", r.Stdout)
			}
			if tt.wantCode == 2 && total(sim.CallCounts()) != before {
				t.Fatalf("a usage error still called the API: %v", sim.CallCounts())
			}
		})
	}
	if n := sim.Calls("CreateRecord"); n != 0 {
		t.Fatalf("CreateRecord called %d times", n)
	}
	o.assertNoSecrets(t, cred.SecretKey, "0123456789abcdef0123456789abcdef", "wrong-key-0123456789abcdef01234")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// A TTL below the zone plan's minimum is refused by DNSPod; the hook names
// the setting that mends it.
func TestTTLBelowPlanMinimum(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	var o outputs
	env := with(hookEnv(t, sim), "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v", "CLBCERT_DNS_TTL=60")
	r := o.run(t, env, "auth")
	if r.Code != 1 || !strings.Contains(r.Stderr, "LimitExceeded.RecordTtlLimit") ||
		!strings.Contains(r.Stderr, "set --ttl or CLBCERT_DNS_TTL (config file: ttl) to 600 (the free plan's minimum) or more") || r.Stdout != "" {
		t.Fatalf("auth with TTL 60: %+v", r)
	}
}

func TestPropagationTimeoutThenCleanup(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}, PropagationDelay: time.Hour})
	var o outputs
	env := with(hookEnv(t, sim), "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v", "CERTBOT_REMAINING_CHALLENGES=0",
		"CLBCERT_PROPAGATION_TIMEOUT=700ms")
	auth := o.run(t, env, "auth")
	if auth.Code != 1 || !strings.Contains(auth.Stderr, "TXT records not visible after") || !strings.Contains(auth.Stderr, "or raise --propagation-timeout (CLBCERT_PROPAGATION_TIMEOUT; config file: propagation_timeout)") || !strings.HasPrefix(auth.Stdout, "zone=example.test") {
		t.Fatalf("auth: %+v", auth)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); len(got) != 1 {
		t.Fatalf("records after auth: %v", got)
	}
	// certbot runs cleanup after a failed auth too, with its output.
	cl := o.run(t, with(env, "CERTBOT_AUTH_OUTPUT="+strings.TrimSpace(auth.Stdout)), "cleanup")
	if cl.Code != 0 {
		t.Fatalf("cleanup: %+v", cl)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); len(got) != 0 {
		t.Fatalf("records left: %v", got)
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	sim.FailNext("CreateRecord", "RequestLimitExceeded", 2)
	var o outputs
	env := with(hookEnv(t, sim), "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v", "CERTBOT_REMAINING_CHALLENGES=0")
	r := o.run(t, env, "auth")
	if r.Code != 0 {
		t.Fatalf("auth: %+v", r)
	}
	if n := sim.Calls("CreateRecord"); n != 3 {
		t.Fatalf("CreateRecord calls = %d, want 2 refused + 1", n)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"v"}) {
		t.Fatalf("records = %v, want exactly one", got)
	}
}

// lego's exec provider: present FQDN VALUE, then cleanup FQDN VALUE with no
// auth output; the id comes from the state dir.
func TestLegoExec(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	var o outputs
	env := hookEnv(t, sim)
	if r := o.run(t, env, "present", "_acme-challenge.www.example.test.", "lego-value"); r.Code != 0 {
		t.Fatalf("present: %+v", r)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge.www"); !slices.Equal(got, []string{"lego-value"}) {
		t.Fatalf("records = %v", got)
	}
	if r := o.run(t, env, "cleanup", "_acme-challenge.www.example.test.", "lego-value"); r.Code != 0 {
		t.Fatalf("cleanup: %+v", r)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge.www"); len(got) != 0 {
		t.Fatalf("records left: %v", got)
	}
	if n := sim.Calls("DescribeRecordList"); n != 0 {
		t.Fatalf("cleanup listed records %d times; the state dir knew the id", n)
	}
}

// The README's promise: cleanup deletes exactly the record its auth created,
// whatever CERTBOT_AUTH_OUTPUT says; a foreign id is named on one stderr
// line, its record left intact, and our own TXT still removed — with the
// state dir of the auth, and with a fresh one (a cleanup run elsewhere).
func TestCleanupRefusesForeignRecord(t *testing.T) {
	for _, sameStateDir := range []bool{true, false} {
		t.Run(fmt.Sprintf("same state dir=%v", sameStateDir), func(t *testing.T) {
			sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test", Records: []tcsim.RecordSpec{
				{Name: "www", Type: "A", Value: "192.0.2.10"},
				{Name: "_acme-challenge", Type: "TXT", Value: "wildcard-value"},
			}}}})
			var o outputs
			env := with(hookEnv(t, sim), "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=apex-value", "CERTBOT_REMAINING_CHALLENGES=0")
			auth := o.run(t, env, "auth")
			if auth.Code != 0 {
				t.Fatalf("auth: %+v", auth)
			}
			before := sim.Records("example.test")
			var aID uint64
			for _, r := range before {
				if r.Type == "A" {
					aID = r.ID
				}
			}
			if !sameStateDir {
				env = with(env, "CLBCERT_STATE_DIR="+t.TempDir())
			}
			forged := regexp.MustCompile(`id=\d+`).ReplaceAllString(strings.TrimSpace(auth.Stdout), fmt.Sprintf("id=%d", aID))
			r := o.run(t, with(env, "CLBCERT_LOG_LEVEL=warn", "CERTBOT_AUTH_OUTPUT="+forged), "cleanup")
			if r.Code != 0 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "CERTBOT_AUTH_OUTPUT names") {
				t.Fatalf("cleanup: %+v; want exit 0 and one warning line", r)
			}
			want := slices.DeleteFunc(before, func(r tcsim.Record) bool { return r.Type == "TXT" && r.Value == "apex-value" })
			if got := sim.Records("example.test"); !slices.EqualFunc(got, want, func(a, b tcsim.Record) bool { return a.ID == b.ID }) || len(want) != len(before)-1 {
				t.Fatalf("records after cleanup: %v, want %v", got, want)
			}
		})
	}
}
