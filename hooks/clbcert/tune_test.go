package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// tuneSite: lb-web1 with an SNI HTTPS listener and a TCP_SSL one and no
// customized configuration; lb-own1 with a configuration of its own;
// lb-shr1 and lb-shr2 sharing one; lb-bad1, whose every call fails when
// failing is set (each run then spends its retries on it).
func tuneSite(t *testing.T, failing bool) tcsim.Options {
	https := func(id, loc string) tcsim.ListenerSpec {
		return tcsim.ListenerSpec{ID: id, Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{LocationID: loc, Domain: "www.example.test",
			BalancingSpec: tcsim.BalancingSpec{Targets: []tcsim.TargetSpec{{Backend: "web1"}}}}}}
	}
	opts := tcsim.Options{
		TaskDelay:       20 * time.Millisecond,
		HealthCheckUnit: 20 * time.Millisecond,
		Certificates:    []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")},
		Topology: tcsim.Topology{
			Backends: []tcsim.BackendSpec{{ID: "web1"}},
			LoadBalancers: []tcsim.LoadBalancerSpec{
				{ID: "lb-web1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
						{LocationID: "loc-ex1", Domain: "example.test", CertID: "HandCrt1"},
						{LocationID: "loc-ex2", Domain: "example.test", URL: "/api"},
					}},
					{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
				}},
				{ID: "lb-own1", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{https("lbl-own1", "loc-own1")}},
				{ID: "lb-shr1", Region: "ap-guangzhou", VIP: "127.0.0.13", Listeners: []tcsim.ListenerSpec{https("lbl-shr1", "loc-shr1")}},
				{ID: "lb-shr2", Region: "ap-guangzhou", VIP: "127.0.0.14", Listeners: []tcsim.ListenerSpec{https("lbl-shr2", "loc-shr2")}},
				{ID: "lb-bad1", Region: "ap-guangzhou", VIP: "127.0.0.15", Listeners: []tcsim.ListenerSpec{https("lbl-bad1", "loc-bad1")}},
			},
			CustomizedConfigs: []tcsim.CustomizedConfigSpec{
				{ID: "pz-own00001", Name: "own", Content: "client_max_body_size 60M;\nssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n", LoadBalancerIDs: []string{"lb-own1"}},
				{ID: "pz-shared01", Name: "shared", Content: "keepalive_timeout 60;\n", LoadBalancerIDs: []string{"lb-shr1", "lb-shr2"}},
			},
		},
	}
	if failing {
		opts.FailingLBs = []string{"lb-bad1"}
	}
	return opts
}

// tuneEnv reaches sim with config file content conf.
func tuneEnv(t *testing.T, sim *tcsim.Sim, conf string) []string {
	path := configtest.Write(t, conf, 0o600)
	return append(simtest.Env(sim), "HOME="+t.TempDir(), "CLBCERT_CONFIG="+path, "CLBCERT_REGIONS=ap-guangzhou")
}

// changes counts the calls that change load balancers.
func changes(sim *tcsim.Sim) int {
	n := 0
	for _, a := range []string{"ModifyRule", "ModifyListener", "SetCustomizedConfigForLoadBalancer"} {
		n += sim.Calls(a)
	}
	return n
}

// listenersDoc is the part of clbcert listeners --json these tests read.
type listenersDoc struct {
	LoadBalancers []struct {
		ID                  string   `json:"id"`
		TLSProtocols        []string `json:"tlsProtocols"`
		TLSProtocolsDefault bool     `json:"tlsProtocolsDefault"`
		CustomizedConfigID  string   `json:"customizedConfigId"`
		Listeners           []struct {
			ID          string `json:"id"`
			Scheduler   string `json:"scheduler"`
			HealthCheck struct {
				IntervalTime  int64  `json:"intervalTime"`
				HTTPCheckPath string `json:"httpCheckPath"`
				CheckType     string `json:"checkType"`
			} `json:"healthCheck"`
			Rules []struct {
				LocationID  string `json:"locationId"`
				Scheduler   string `json:"scheduler"`
				HealthCheck struct {
					IntervalTime  int64  `json:"intervalTime"`
					HTTPCheckPath string `json:"httpCheckPath"`
					CheckType     string `json:"checkType"`
				} `json:"healthCheck"`
			} `json:"rules"`
		} `json:"listeners"`
	} `json:"loadBalancers"`
	Failures []struct {
		LoadBalancerID string `json:"loadBalancerId"`
	} `json:"failures"`
}

// clbcert tune through the binary: --dry-run prints the diff and changes
// nothing; then scheduler and health check of an HTTPS rule and a TCP_SSL
// listener from flags, and TLS protocols from the config file on load
// balancers without, with an unshared and with a shared configuration;
// clbcert listeners shows each change, and a second run has nothing to do.
func TestTuneThenListeners(t *testing.T) {
	sim := simtest.Start(t, tuneSite(t, false))
	env := tuneEnv(t, sim, "[tune]\ntls_protocols = [\"TLSv1.2\", \"TLSv1.3\"]\n")
	balancing := []string{"tune", "--scheduler", "least_conn", "--health-check-type", "HTTP", "--health-check-path", "/healthz",
		"--health-check-interval", "30s", "--health-check-timeout", "5"}

	r := runOps(t, env, "clbcert", append(append(balancing, "--dry-run"), "lb-web1/lbl-sni1/loc-ex1", "lb-web1/lbl-tls1", "lb-own1", "lb-shr1")...)
	if r.Code != 0 || changes(sim) != 0 {
		t.Fatalf("dry run: exit %d, %d changing calls; stderr %s", r.Code, changes(sim), r.Stderr)
	}
	for _, want := range []string{
		"lb-web1/lbl-sni1/loc-ex1 (HTTPS:", "  - scheduler WRR\n  + scheduler LEAST_CONN\n", "  - health check interval 5s\n  + health check interval 30s\n",
		"lb-web1/lbl-tls1 (TCP_SSL:", "  - health check type TCP\n  + health check type HTTP\n",
		"lb-shr1 (TLS", "  - TLS protocols default (TLSv1 TLSv1.1 TLSv1.2)\n  + TLS protocols TLSv1.2 TLSv1.3\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.Stdout)
		}
	}

	// Balancing from flags only: an empty [tune] table elsewhere.
	r = runOps(t, tuneEnv(t, sim, ""), "clbcert", append(balancing, "lb-web1/lbl-sni1/loc-ex1", "lb-web1/lbl-tls1")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "2 changed, 0 failed") {
		t.Fatalf("tune balancing: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	// TLS protocols from the config file.
	r = runOps(t, env, "clbcert", "tune", "lb-web1", "lb-own1", "lb-shr1/lbl-shr1")
	if r.Code != 0 || !strings.Contains(r.Stdout, "3 changed, 0 failed") {
		t.Fatalf("tune TLS: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}

	r = runOps(t, env, "clbcert", "listeners", "--json")
	if r.Code != 0 {
		t.Fatalf("listeners: exit %d\n%s", r.Code, r.Stderr)
	}
	var doc listenersDoc
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Failures) != 0 || len(doc.LoadBalancers) != 5 {
		t.Errorf("failures %+v, %d load balancers", doc.Failures, len(doc.LoadBalancers))
	}
	tls := map[string]string{}
	for _, lb := range doc.LoadBalancers {
		tls[lb.ID] = strings.Join(lb.TLSProtocols, " ")
		if lb.TLSProtocolsDefault {
			tls[lb.ID] = "default"
		}
		for _, l := range lb.Listeners {
			switch l.ID {
			case "lbl-tls1":
				if l.Scheduler != "LEAST_CONN" || l.HealthCheck.CheckType != "HTTP" || l.HealthCheck.HTTPCheckPath != "/healthz" || l.HealthCheck.IntervalTime != 30 {
					t.Errorf("lbl-tls1 = %+v", l)
				}
			case "lbl-sni1":
				for _, rl := range l.Rules {
					wantSched, wantInterval := "WRR", int64(5)
					if rl.LocationID == "loc-ex1" {
						wantSched, wantInterval = "LEAST_CONN", 30
					}
					if rl.Scheduler != wantSched || rl.HealthCheck.IntervalTime != wantInterval {
						t.Errorf("%s = %+v", rl.LocationID, rl)
					}
				}
			}
		}
		if lb.ID == "lb-shr2" && lb.CustomizedConfigID != "pz-shared01" {
			t.Errorf("lb-shr2's configuration is %q, want pz-shared01 kept", lb.CustomizedConfigID)
		}
	}
	for lb, want := range map[string]string{"lb-web1": "TLSv1.2 TLSv1.3", "lb-own1": "TLSv1.2 TLSv1.3", "lb-shr1": "TLSv1.2 TLSv1.3", "lb-shr2": "default"} {
		if tls[lb] != want {
			t.Errorf("%s TLS protocols %q, want %q", lb, tls[lb], want)
		}
	}

	before := changes(sim)
	r = runOps(t, env, "clbcert", "tune", "lb-web1", "lb-own1", "lb-shr1/lbl-shr1")
	if r.Code != 0 || !strings.Contains(r.Stdout, "nothing to change") || changes(sim) != before {
		t.Errorf("second run: exit %d, %d more changing calls\n%s", r.Code, changes(sim)-before, r.Stdout)
	}
}

// Bad values and selections exit 2 with one line naming the flag (or the
// config file's key) and the fix, before any call to the cloud.
func TestTuneUsageErrors(t *testing.T) {
	sim := simtest.Start(t, tuneSite(t, false))
	tests := []struct {
		name string
		conf string
		args []string
		want string
	}{
		{"interval out of range", "", []string{"--health-check-interval", "301", "lb-web1"}, "--health-check-interval 301: give 2-300 seconds"},
		{"timeout not below interval", "", []string{"--health-check-interval", "5", "--health-check-timeout", "5", "lb-web1"}, "--health-check-timeout 5: must be less than the interval 5"},
		{"threshold", "", []string{"--unhealthy-threshold", "1", "lb-web1"}, "--unhealthy-threshold 1: give 2-10"},
		{"path", "", []string{"--health-check-path", "healthz", "lb-web1"}, `--health-check-path "healthz": give a path that starts with /`},
		{"scheduler", "", []string{"--scheduler", "RR", "lb-web1"}, "--scheduler RR: give WRR, LEAST_CONN or IP_HASH"},
		{"health check switch", "", []string{"--health-check", "maybe", "lb-web1"}, "--health-check maybe: give on or off"},
		{"tls version", "", []string{"--tls-protocols", "TLSv1.2,SSLv3", "lb-web1"}, "--tls-protocols SSLv3: give TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"},
		{"tls allows nothing", "", []string{"--tls-protocols", "", "lb-web1"}, "--tls-protocols \"\": allows no TLS version"},
		{"http codes", "", []string{"--health-check-http-codes", "2xx,6xx", "lb-web1"}, "--health-check-http-codes 2xx,6xx: give status classes"},
		{"config file value", "[tune]\nhealth_check_interval = 1\n", []string{"lb-web1"}, "[tune] health_check_interval = 1: give 2-300 seconds"},
		{"config file key", "[tune]\nhealth_interval = 30\n", []string{"lb-web1"}, "unknown setting on line 2"},
		{"no settings", "", []string{"lb-web1"}, "nothing to set: pass at least one setting (e.g. --health-check-interval 30), or put them in the config file's [tune] table"},
		{"no selection", "", []string{"--scheduler", "WRR"}, "or select all: pass --all for every load balancer"},
		{"both", "", []string{"--scheduler", "WRR", "--all", "lb-web1"}, "both --all and targets"},
		{"bad target", "", []string{"--scheduler", "WRR", "lbl-x"}, `target "lbl-x" does not start with a load balancer id`},
		{"option after target", "", []string{"--scheduler", "WRR", "lb-web1", "--dry-run"}, "--dry-run after a target"},
		{"unknown load balancer", "", []string{"--scheduler", "WRR", "lb-nope1"}, "no load balancer lb-nope1 in ap-guangzhou: check the id and the regions: the regions are those of --region, CLBCERT_REGIONS or the config file's regions"},
		{"refused: timeout above the current interval", "", []string{"--health-check-timeout", "10", "lb-web1/lbl-tls1"}, "would not be less than the interval 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := sim.CallCounts()
			r := runOps(t, tuneEnv(t, sim, tt.conf), "clbcert", append([]string{"tune"}, tt.args...)...)
			if r.Code != 2 || !strings.Contains(r.Stderr, tt.want) || len(lines(r.Stderr)) != 1 {
				t.Fatalf("exit %d, stderr %q; want 2 and one line with %q", r.Code, r.Stderr, tt.want)
			}
			if changes(sim) != 0 {
				t.Fatalf("%d changing calls", changes(sim))
			}
			if strings.HasPrefix(tt.want, "--") || strings.Contains(tt.want, "[tune]") {
				// A value is refused before the cloud is asked anything.
				after := sim.CallCounts()
				for a, n := range after {
					if n != calls[a] {
						t.Errorf("%s called %d times", a, n-calls[a])
					}
				}
			}
		})
	}
}

// clbcert listeners through the binary: the table, and exit 3 with the
// unreadable load balancer named beside the others.
func TestListenersCommand(t *testing.T) {
	sim := simtest.Start(t, tuneSite(t, true))
	r := runOps(t, tuneEnv(t, sim, ""), "clbcert", "listeners")
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	out := lines(r.Stdout)
	if !strings.HasPrefix(out[0], "LISTENER") || !strings.HasPrefix(out[len(out)-1], "UNREADABLE ap-guangzhou lb-bad1:") {
		t.Errorf("table:\n%s", r.Stdout)
	}
	for _, want := range []string{"# ap-guangzhou lb-own1 127.0.0.12  TLS TLSv1 TLSv1.1 TLSv1.2 [pz-own00001]", "# ap-guangzhou lb-web1 127.0.0.11  TLS default (TLSv1 TLSv1.1 TLSv1.2)"} {
		if !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, r.Stdout)
		}
	}
	// The corpus certificate has decades left: days make it critical.
	r = runOps(t, tuneEnv(t, sim, ""), "clbcert", "listeners", "--warn-days", "100000", "--critical-days", "99999")
	if r.Code != 2 || r.Stderr != "" {
		t.Errorf("critical days: exit %d, stderr %q; want 2 (critical outranks unreadable)", r.Code, r.Stderr)
	}
	r = runOps(t, tuneEnv(t, sim, ""), "clbcert", "listeners", "extra")
	if r.Code != 2 || !strings.Contains(r.Stderr, "takes no arguments") {
		t.Errorf("with an argument: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
