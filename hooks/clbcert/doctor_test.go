package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// doctorSite is one HTTPS listener done right but for the TLS versions:
// no customized configuration, so CLB's default allows TLS 1.0 and 1.1.
func doctorSite(t *testing.T) tcsim.Options {
	check := &tcsim.HealthCheckSpec{TimeOut: 5, IntervalTime: 10, HealthNum: 2, UnHealthNum: 3, HTTPCode: 6, HTTPCheckPath: "/healthz", CheckType: "HTTP"}
	return tcsim.Options{
		HealthCheckUnit: 20 * time.Millisecond,
		TaskDelay:       20 * time.Millisecond,
		Certificates:    []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")},
		Topology: tcsim.Topology{
			Backends: []tcsim.BackendSpec{{ID: "web1"}},
			LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-doc00001", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-doc00001", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test",
					BalancingSpec: tcsim.BalancingSpec{HealthCheck: check, Targets: []tcsim.TargetSpec{{Backend: "web1"}}}}}},
			}}},
		},
	}
}

// doctorEnv reaches sim, with an empty config file so that this host's
// /etc/clbcert stays out of it.
func doctorEnv(t *testing.T, sim *tcsim.Sim) []string {
	conf := configtest.Write(t, "", 0o600)
	return append(simtest.Env(sim), "HOME="+t.TempDir(), "CLBCERT_CONFIG="+conf)
}

// clbcert doctor through the binary: the exit status is the worst
// finding, --fix --dry-run shows the fix and changes nothing, --fix makes
// it and the check after it is OK.
func TestDoctorCommand(t *testing.T) {
	sim := simtest.Start(t, doctorSite(t))
	env := doctorEnv(t, sim)
	certbot := filepath.Dir(filepath.Dir(simtest.Corpus("good-ecdsa", "example.test")))
	args := []string{"doctor", "--region", "ap-guangzhou", "--certbot-dir", certbot}

	r := runOps(t, env, "clbcert", args...)
	if r.Code != 1 || r.Stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 1 (a warning) and nothing on stderr\n%s", r.Code, r.Stderr, r.Stdout)
	}
	for _, s := range []string{
		"WARNING: 0 critical, 1 warning, 0 info in ap-guangzhou",
		"1 local lineage)",
		"ap-guangzhou lb-doc00001  [tls-protocols]",
		"accepted TLSv1.1",
		"clbcert tune --region ap-guangzhou --tls-protocols TLSv1.2,TLSv1.3 lb-doc00001  (safe: --fix applies it)",
	} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, r.Stdout)
		}
	}

	r = runOps(t, env, "clbcert", append(args, "--json")...)
	var doc struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exitCode"`
		Findings []struct {
			Severity string `json:"severity"`
			Check    string `json:"check"`
			Safe     bool   `json:"safe"`
		} `json:"findings"`
		Failures []any `json:"failures"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.Stdout)
	}
	if r.Code != 1 || doc.Status != "WARNING" || doc.ExitCode != 1 || len(doc.Findings) != 1 || doc.Findings[0].Check != "tls-protocols" ||
		doc.Findings[0].Severity != "warning" || !doc.Findings[0].Safe || doc.Failures == nil {
		t.Fatalf("--json exit %d: %+v", r.Code, doc)
	}

	r = runOps(t, env, "clbcert", append(args, "--fix", "--dry-run")...)
	if r.Code != 1 || sim.Calls("SetCustomizedConfigForLoadBalancer") != 0 {
		t.Fatalf("--fix --dry-run: exit %d, %d configuration calls; want 1 and none\n%s%s", r.Code, sim.Calls("SetCustomizedConfigForLoadBalancer"), r.Stdout, r.Stderr)
	}
	for _, s := range []string{"dry run: nothing changed", "- TLS protocols default (TLSv1 TLSv1.1 TLSv1.2)", "+ TLS protocols TLSv1.2 TLSv1.3"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("--fix --dry-run output lacks %q:\n%s", s, r.Stdout)
		}
	}

	r = runOps(t, env, "clbcert", append(args, "--fix")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "OK: 0 critical, 0 warning") || !strings.Contains(r.Stdout, "1 changed, 0 failed") {
		t.Fatalf("--fix: exit %d; want 0 and the change made\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := sim.SSLProtocols("lb-doc00001"); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
		t.Fatalf("ssl_protocols %v after --fix", got)
	}
}

func TestDoctorUsageErrors(t *testing.T) {
	sim := simtest.Start(t, doctorSite(t))
	env := doctorEnv(t, sim)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor"}, "nothing to audit: no CLB region given: pass --region"},
		{[]string{"doctor", "--region", "ap-guangzhou", "--dry-run"}, "--dry-run goes with --fix"},
		{[]string{"doctor", "--region", "ap-guangzhou", "--warn-days", "3"}, "--warn-days at least --critical-days"},
		{[]string{"doctor", "--region", "ap-guangzhou", "--certbot-dir", t.TempDir()}, "not certbot's config dir: give certbot's config dir, e.g. /etc/letsencrypt, with --certbot-dir"},
	} {
		r := runOps(t, env, "clbcert", tc.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
	if n := sim.Calls("DescribeLoadBalancers"); n != 0 {
		t.Errorf("usage errors made %d calls", n)
	}
}

// A fix is a command a person can paste: run as given, each one makes its
// finding go away. An HTTPS check (to backends that serve HTTPS) takes the
// same advice as an HTTP one, and keeps its type.
func TestDoctorFixesAreCommandsThatWork(t *testing.T) {
	tests := []struct {
		name  string
		check string
	}{
		{"HTTP check on /", "HTTP"},
		{"HTTPS check on /", "HTTPS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := doctorSite(t)
			r0 := &o.Topology.LoadBalancers[0].Listeners[0].Rules[0]
			r0.HealthCheck.HTTPCheckPath, r0.HealthCheck.CheckType = "/", tt.check
			if tt.check == "HTTPS" {
				backend := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				t.Cleanup(backend.Close)
				r0.Targets = []tcsim.TargetSpec{{IP: "127.0.0.1", Port: backend.Listener.Addr().(*net.TCPAddr).Port}}
			}
			sim := simtest.Start(t, o)
			env := doctorEnv(t, sim)
			args := []string{"doctor", "--region", "ap-guangzhou", "--json"}
			r := runOps(t, env, "clbcert", args...)
			var doc struct {
				Findings []struct {
					Check   string `json:"check"`
					Problem string `json:"problem"`
					Fix     string `json:"fix"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != 1 || len(doc.Findings) != 2 {
				t.Fatalf("exit %d, %v: want 2 findings (path, TLS versions)\n%s%s", r.Code, err, r.Stdout, r.Stderr)
			}
			for _, f := range doc.Findings {
				_, cmd, ok := strings.Cut(f.Fix, "clbcert tune ")
				if !ok {
					t.Fatalf("fix of %s has no tune command: %q", f.Check, f.Fix)
				}
				r := runOps(t, env, "clbcert", append([]string{"tune"}, strings.Fields(cmd)...)...)
				if r.Code != 0 {
					t.Fatalf("clbcert tune %s: exit %d\n%s%s", cmd, r.Code, r.Stdout, r.Stderr)
				}
				if strings.Contains(f.Problem, "asks for") && (!strings.Contains(r.Stdout, "+ health check path /healthz") || strings.Contains(r.Stdout, "health check type")) {
					t.Errorf("clbcert tune %s (for %q) did not change the path alone:\n%s", cmd, f.Problem, r.Stdout)
				}
			}
			if r := runOps(t, env, "clbcert", args...); r.Code != 0 {
				t.Fatalf("after the fixes: exit %d\n%s", r.Code, r.Stdout)
			}
			r = runOps(t, env, "clbcert", "listeners", "--region", "ap-guangzhou", "--json")
			var ls listenersDoc
			if err := json.Unmarshal([]byte(r.Stdout), &ls); err != nil || len(ls.LoadBalancers) != 1 {
				t.Fatalf("listeners: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
			}
			if hc := ls.LoadBalancers[0].Listeners[0].Rules[0].HealthCheck; hc.CheckType != tt.check || hc.HTTPCheckPath != "/healthz" {
				t.Errorf("the check is now %+v, want %s of /healthz", hc, tt.check)
			}
		})
	}
}
