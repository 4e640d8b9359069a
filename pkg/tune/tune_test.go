package tune_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
	"github.com/clbcert/clbcert/pkg/tune"
)

const (
	gz         = "ap-guangzhou"
	ownContent = "client_max_body_size 60M;\nssl_protocols TLSv1 TLSv1.1 TLSv1.2;\nkeepalive_timeout 75;\n"
	shrContent = "keepalive_timeout 60;\n"
)

// account: lb-web1 with an SNI HTTPS listener (example.test on two rules,
// other.test) and a TCP_SSL listener, and no customized configuration;
// lb-own1 with a configuration of its own; lb-shr1 and lb-shr2 sharing one;
// lb-bad1, whose every call fails.
func account(t *testing.T) tcsim.Options {
	https := func(id, loc string) tcsim.ListenerSpec {
		return tcsim.ListenerSpec{ID: id, Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{LocationID: loc, Domain: "www.example.test"}}}
	}
	return tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{
			LoadBalancers: []tcsim.LoadBalancerSpec{
				{ID: "lb-web1", Region: gz, VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
						{LocationID: "loc-ex1", Domain: "example.test", CertID: "HandCrt1"},
						{LocationID: "loc-ex2", Domain: "example.test", URL: "/api"},
						{LocationID: "loc-oth1", Domain: "other.test", CertID: "OtherCrt"},
					}},
					{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1"},
				}},
				{ID: "lb-own1", Region: gz, VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{https("lbl-own1", "loc-own1")}},
				{ID: "lb-shr1", Region: gz, VIP: "127.0.0.13", Listeners: []tcsim.ListenerSpec{https("lbl-shr1", "loc-shr1")}},
				{ID: "lb-shr2", Region: gz, VIP: "127.0.0.14", Listeners: []tcsim.ListenerSpec{https("lbl-shr2", "loc-shr2")}},
				{ID: "lb-bad1", Region: gz, VIP: "127.0.0.15", Listeners: []tcsim.ListenerSpec{https("lbl-bad1", "loc-bad1")}},
			},
			CustomizedConfigs: []tcsim.CustomizedConfigSpec{
				{ID: "pz-own00001", Name: "own", Content: ownContent, LoadBalancerIDs: []string{"lb-own1"}},
				{ID: "pz-shared01", Name: "shared", Content: shrContent, LoadBalancerIDs: []string{"lb-shr1", "lb-shr2"}},
			},
		},
		FailingLBs: []string{"lb-bad1"},
	}
}

func ptr[T any](v T) *T { return &v }

func targets(t *testing.T, ss ...string) tune.Selection {
	t.Helper()
	var sel tune.Selection
	for _, s := range ss {
		tg, err := clb.ParseAddress("", s)
		if err != nil {
			t.Fatal(err)
		}
		sel.Targets = append(sel.Targets, tg)
	}
	return sel
}

// tuner talks to sim without retries: a busy load balancer's
// ResourceInOperating, or any other refusal, fails the change instead of
// being retried away.
func tuner(t *testing.T, sim *tcsim.Sim) (*tune.Tuner, *inventory.Client) {
	t.Helper()
	cfg := simtest.Config(t, sim)
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 1}
	tu, err := tune.New(cfg, tune.Options{TaskPoll: 20 * time.Millisecond, TaskTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.New(cfg, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tu, inv
}

func plan(t *testing.T, tu *tune.Tuner, sel tune.Selection, want tune.Settings) *tune.Plan {
	t.Helper()
	inv, err := tu.Collect(context.Background(), []string{gz})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tu.Plan(context.Background(), inv, sel, want)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// balancingOf finds a listener ("lb/lbl") or rule ("lb/lbl/loc") as CLB
// describes it now.
func balancingOf(t *testing.T, inv *inventory.Client, target string) (scheduler string, session int64, hc inventory.HealthCheck) {
	t.Helper()
	parts := strings.Split(target, "/")
	ls, err := inv.Listeners(context.Background(), gz, parts[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.ID != parts[1] {
			continue
		}
		if len(parts) == 2 {
			return l.Scheduler, l.SessionExpireTime, *l.HealthCheck
		}
		for _, r := range l.Rules {
			if r.LocationID == parts[2] {
				return r.Scheduler, r.SessionExpireTime, *r.HealthCheck
			}
		}
	}
	t.Fatalf("no %s", target)
	return
}

func configs(t *testing.T, inv *inventory.Client, lbs ...string) map[string]inventory.CustomizedConfig {
	t.Helper()
	got, err := inv.CustomizedConfigs(context.Background(), gz, lbs)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Each case applies settings, then checks what CLB describes and that a
// second plan finds nothing left to change.
func TestApply(t *testing.T) {
	health := tune.HealthCheck{Path: ptr("/healthz"), Interval: ptr(int64(30)), Timeout: ptr(int64(5)), HealthyThreshold: ptr(int64(2)), UnhealthyThreshold: ptr(int64(3))}
	tls13 := []string{"TLSv1.3", "TLSv1.2"} // written out of order on purpose
	// httpsCheck gives lb-own1's rule an HTTPS check: its backends serve HTTPS.
	httpsCheck := func(o *tcsim.Options) {
		o.Topology.LoadBalancers[1].Listeners[0].Rules[0].HealthCheck = &tcsim.HealthCheckSpec{CheckType: "HTTPS"}
	}
	tests := []struct {
		name    string
		account func(*tcsim.Options) // changes to account(t)
		targets []string
		want    tune.Settings
		changes int
		check   func(t *testing.T, sim *tcsim.Sim, inv *inventory.Client)
	}{
		{
			name: "path of an HTTPS rule's HTTPS check", account: httpsCheck, targets: []string{"lb-own1/lbl-own1/loc-own1"},
			want: tune.Settings{HealthCheck: tune.HealthCheck{Path: ptr("/healthz")}}, changes: 1,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				if _, _, hc := balancingOf(t, inv, "lb-own1/lbl-own1/loc-own1"); hc.CheckType != "HTTPS" || hc.HTTPCheckPath != "/healthz" || hc.HTTPCode != 31 || hc.HTTPCheckMethod != "HEAD" {
					t.Errorf("loc-own1: %+v, want an HTTPS check of /healthz", hc)
				}
			},
		},
		{
			name: "domain, codes and interval of an HTTPS check", account: httpsCheck, targets: []string{"lb-own1/lbl-own1"},
			want: tune.Settings{HealthCheck: tune.HealthCheck{Domain: ptr("check.example.test"), HTTPCodes: ptr(int64(6)), Interval: ptr(int64(10))}}, changes: 1,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				if _, _, hc := balancingOf(t, inv, "lb-own1/lbl-own1/loc-own1"); hc.CheckType != "HTTPS" || hc.HTTPCheckDomain != "check.example.test" || hc.HTTPCode != 6 || hc.IntervalTime != 10 || hc.HTTPCheckPath != "/" {
					t.Errorf("loc-own1: %+v", hc)
				}
			},
		},
		{
			name: "an HTTPS rule's HTTP check switched to HTTPS", targets: []string{"lb-own1/lbl-own1/loc-own1"},
			want: tune.Settings{HealthCheck: tune.HealthCheck{Type: ptr("HTTPS"), Path: ptr("/healthz")}}, changes: 1,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				if _, _, hc := balancingOf(t, inv, "lb-own1/lbl-own1/loc-own1"); hc.CheckType != "HTTPS" || hc.HTTPCheckPath != "/healthz" {
					t.Errorf("loc-own1: %+v", hc)
				}
			},
		},
		{
			name: "scheduler and health check of one HTTPS rule", targets: []string{"lb-web1/lbl-sni1/loc-ex1"},
			want: tune.Settings{Scheduler: ptr("IP_HASH"), SessionExpireTime: ptr(int64(600)), HealthCheck: health}, changes: 1,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				s, sess, hc := balancingOf(t, inv, "lb-web1/lbl-sni1/loc-ex1")
				if s != "IP_HASH" || sess != 600 || !hc.On || hc.CheckType != "HTTP" || hc.HTTPCheckPath != "/healthz" || hc.IntervalTime != 30 || hc.TimeOut != 5 || hc.HealthNum != 2 || hc.UnHealthNum != 3 {
					t.Errorf("loc-ex1: %s %d %+v", s, sess, hc)
				}
				// The other rule of the same domain is not selected.
				if s, _, hc := balancingOf(t, inv, "lb-web1/lbl-sni1/loc-ex2"); s != "WRR" || hc.IntervalTime != 5 || hc.HTTPCheckPath != "/" {
					t.Errorf("loc-ex2 changed: %s %+v", s, hc)
				}
			},
		},
		{
			name: "every rule of a domain", targets: []string{"lb-web1/lbl-sni1/example.test"},
			want: tune.Settings{Scheduler: ptr("LEAST_CONN")}, changes: 2,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				for target, want := range map[string]string{"lb-web1/lbl-sni1/loc-ex1": "LEAST_CONN", "lb-web1/lbl-sni1/loc-ex2": "LEAST_CONN", "lb-web1/lbl-sni1/loc-oth1": "WRR"} {
					if s, _, _ := balancingOf(t, inv, target); s != want {
						t.Errorf("%s scheduler %s, want %s", target, s, want)
					}
				}
			},
		},
		{
			name: "TCP_SSL listener: scheduler and an HTTP health check", targets: []string{"lb-web1/lbl-tls1"},
			want: tune.Settings{Scheduler: ptr("LEAST_CONN"), HealthCheck: tune.HealthCheck{Type: ptr("HTTP"), Path: ptr("/healthz"), Interval: ptr(int64(10)), HTTPCodes: ptr(int64(2))}}, changes: 1,
			check: func(t *testing.T, _ *tcsim.Sim, inv *inventory.Client) {
				s, _, hc := balancingOf(t, inv, "lb-web1/lbl-tls1")
				if s != "LEAST_CONN" || hc.CheckType != "HTTP" || hc.HTTPCheckPath != "/healthz" || hc.IntervalTime != 10 || hc.HTTPCode != 2 {
					t.Errorf("lbl-tls1: %s %+v", s, hc)
				}
			},
		},
		{
			name: "TLS protocols of a load balancer without a configuration", targets: []string{"lb-web1"},
			want: tune.Settings{TLSProtocols: tls13}, changes: 1,
			check: func(t *testing.T, sim *tcsim.Sim, inv *inventory.Client) {
				if got := sim.SSLProtocols("lb-web1"); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
					t.Errorf("lb-web1 allows %v", got)
				}
				cfg := configs(t, inv, "lb-web1")["lb-web1"]
				if cfg.Name != "clbcert-lb-web1" || strings.TrimSpace(cfg.Content) != "ssl_protocols TLSv1.2 TLSv1.3;" || cfg.Shared() {
					t.Errorf("lb-web1's configuration = %+v", cfg)
				}
			},
		},
		{
			name: "TLS protocols through an unshared configuration", targets: []string{"lb-own1"},
			want: tune.Settings{TLSProtocols: tls13}, changes: 1,
			check: func(t *testing.T, sim *tcsim.Sim, inv *inventory.Client) {
				if got := sim.SSLProtocols("lb-own1"); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
					t.Errorf("lb-own1 allows %v", got)
				}
				cfg := configs(t, inv, "lb-own1")["lb-own1"]
				want := strings.Replace(ownContent, "TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2 TLSv1.3", 1)
				if cfg.ID != "pz-own00001" || cfg.Content != want {
					t.Errorf("lb-own1's configuration = %+v, want pz-own00001 with %q", cfg, want)
				}
			},
		},
		{
			name: "TLS protocols through a shared configuration", targets: []string{"lb-shr1/lbl-shr1"},
			want: tune.Settings{TLSProtocols: tls13}, changes: 1,
			check: func(t *testing.T, sim *tcsim.Sim, inv *inventory.Client) {
				if got := sim.SSLProtocols("lb-shr1"); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
					t.Errorf("lb-shr1 allows %v", got)
				}
				if got := sim.SSLProtocols("lb-shr2"); strings.Join(got, " ") != "TLSv1 TLSv1.1 TLSv1.2" {
					t.Errorf("lb-shr2, which shared the configuration, allows %v", got)
				}
				got := configs(t, inv, "lb-shr1", "lb-shr2")
				if c := got["lb-shr2"]; c.ID != "pz-shared01" || c.Content != shrContent || c.Shared() {
					t.Errorf("lb-shr2's configuration = %+v, want pz-shared01 untouched, now bound to it alone", c)
				}
				if c := got["lb-shr1"]; c.ID == "pz-shared01" || c.Name != "clbcert-lb-shr1" || c.Content != shrContent+"ssl_protocols TLSv1.2 TLSv1.3;\n" {
					t.Errorf("lb-shr1's configuration = %+v", c)
				}
			},
		},
		{
			name: "TLS protocols through a configuration shared only by selected load balancers", targets: []string{"lb-shr2", "lb-shr1"},
			want: tune.Settings{TLSProtocols: tls13}, changes: 1,
			check: func(t *testing.T, sim *tcsim.Sim, inv *inventory.Client) {
				for _, lb := range []string{"lb-shr1", "lb-shr2"} {
					if got := sim.SSLProtocols(lb); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
						t.Errorf("%s allows %v", lb, got)
					}
				}
				if c := configs(t, inv, "lb-shr1")["lb-shr1"]; c.ID != "pz-shared01" || !c.Shared() || c.Content != shrContent+"ssl_protocols TLSv1.2 TLSv1.3;\n" {
					t.Errorf("the shared configuration = %+v, want it updated in place", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := account(t)
			if tt.account != nil {
				tt.account(&opts)
			}
			sim := simtest.Start(t, opts)
			tu, inv := tuner(t, sim)
			sel := targets(t, tt.targets...)
			p := plan(t, tu, sel, tt.want)
			if len(p.Changes) != tt.changes || p.Err() != nil {
				t.Fatalf("plan: %d changes, want %d; refused %v; skipped %v", len(p.Changes), tt.changes, p.Refused, p.Skipped)
			}
			// TLS protocols are a load balancer's: no rule or listener is judged for them.
			if tt.want.Scheduler == nil && tt.want.SessionExpireTime == nil && tt.want.HealthCheck == (tune.HealthCheck{}) && p.Unchanged != 0 {
				t.Errorf("only TLS protocols asked, and %d places are already as wanted; want 0", p.Unchanged)
			}
			rep, err := tu.Apply(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err != nil {
				t.Fatalf("apply: %v", err)
			}
			tt.check(t, sim, inv)
			if again := plan(t, tu, sel, tt.want); !again.Empty() {
				var b strings.Builder
				again.WriteDiff(&b)
				t.Errorf("a second plan still changes:\n%s", b.String())
			}
		})
	}
}

// CLB requires HttpVersion with an HTTP check of a TCP listener: a switch
// to one sends HTTP/1.1, and a later change keeps the version it has.
func TestTCPListenerHTTPCheck(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
		{ID: "lb-tcp1", Region: gz, VIP: "127.0.0.16", Listeners: []tcsim.ListenerSpec{{ID: "lbl-tcp1", Protocol: "TCP"}}},
	}}})
	tu, inv := tuner(t, sim)
	sel := targets(t, "lb-tcp1/lbl-tcp1")
	for _, want := range []tune.Settings{
		{HealthCheck: tune.HealthCheck{Type: ptr("HTTP"), Domain: ptr("www.example.test"), Path: ptr("/healthz")}},
		{HealthCheck: tune.HealthCheck{Interval: ptr(int64(10))}},
	} {
		p := plan(t, tu, sel, want)
		if len(p.Changes) != 1 || p.Err() != nil {
			t.Fatalf("plan: %d changes; refused %v; skipped %v", len(p.Changes), p.Refused, p.Skipped)
		}
		rep, err := tu.Apply(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	if _, _, hc := balancingOf(t, inv, "lb-tcp1/lbl-tcp1"); hc.CheckType != "HTTP" || hc.HTTPCheckDomain != "www.example.test" || hc.HTTPCheckPath != "/healthz" || hc.HTTPVersion != "HTTP/1.1" || hc.IntervalTime != 10 {
		t.Errorf("lbl-tcp1: %+v", hc)
	}
}

// A configuration of tune's name left unbound (a run stopped between
// creating and binding it) is reused with the directives it holds; one of
// that name bound elsewhere is not taken over.
func TestApplyReusesItsConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		boundTo []string
		wantErr string
	}{
		{name: "unbound: reused"},
		{name: "bound to another: refused", boundTo: []string{"lb-own1"}, wantErr: "already exists and is bound to lb-own1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := account(t)
			opts.Topology.CustomizedConfigs = []tcsim.CustomizedConfigSpec{
				{ID: "pz-left0001", Name: "clbcert-lb-web1", Region: gz, Content: "keepalive_timeout 75;\nssl_protocols TLSv1;\n", LoadBalancerIDs: tt.boundTo},
			}
			sim := simtest.Start(t, opts)
			tu, inv := tuner(t, sim)
			rep, err := tu.Apply(context.Background(), plan(t, tu, targets(t, "lb-web1"), tune.Settings{TLSProtocols: []string{"TLSv1.2", "TLSv1.3"}}))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				if err := rep.Err(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("report error %v, want %q", err, tt.wantErr)
				}
				if n := sim.Calls("SetCustomizedConfigForLoadBalancer"); n != 0 {
					t.Errorf("%d configuration changes", n)
				}
				return
			}
			if err := rep.Err(); err != nil {
				t.Fatal(err)
			}
			c := configs(t, inv, "lb-web1")["lb-web1"]
			if c.ID != "pz-left0001" || c.Content != "keepalive_timeout 75;\nssl_protocols TLSv1.2 TLSv1.3;\n" {
				t.Errorf("lb-web1's configuration = %+v", c)
			}
			// UPDATE and BIND, no ADD.
			if n := sim.Calls("SetCustomizedConfigForLoadBalancer"); n != 2 {
				t.Errorf("%d configuration changes, want 2", n)
			}
		})
	}
}

// A TLS change stopped between its steps says where it left the load
// balancer, and a second run finishes it with the configuration the first
// one created. A split whose BIND fails binds the shared configuration back
// rather than leave the load balancer on CLB's defaults.
func TestApplyStoppedBetweenSteps(t *testing.T) {
	const set = "SetCustomizedConfigForLoadBalancer"
	tls13 := []string{"TLSv1.2", "TLSv1.3"}
	tests := []struct {
		name string
		lb   string
		// after is how many configuration steps succeed; then fails more fail.
		after, fails int
		wantErr      string
		// left is the configuration the load balancer has after the failure
		// ("" none), and allows the TLS versions it allows then.
		left, allows string
		// rerun is how many configuration steps the second run takes.
		rerun int
	}{
		{
			name: "add: BIND fails", lb: "lb-web1", after: 1, fails: 1,
			wantErr: "lb-web1 keeps its TLS protocols", left: "", allows: "TLSv1 TLSv1.1 TLSv1.2", rerun: 1, // BIND
		},
		{
			name: "split: BIND fails, the shared configuration is bound back", lb: "lb-shr1", after: 2, fails: 1,
			wantErr: "lb-shr1 was bound back to pz-shared01", left: "pz-shared01", allows: "TLSv1 TLSv1.1 TLSv1.2", rerun: 2, // UNBIND, BIND
		},
		{
			name: "split: BIND and binding back fail", lb: "lb-shr1", after: 2, fails: 2,
			wantErr: "lb-shr1 may be left without a customized configuration", left: "", allows: "TLSv1 TLSv1.1 TLSv1.2", rerun: 1, // BIND
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := simtest.Start(t, account(t))
			sim.FailAfter(set, "InternalError", tt.after, tt.fails)
			tu, inv := tuner(t, sim)
			sel := targets(t, tt.lb)
			want := tune.Settings{TLSProtocols: tls13}
			rep, err := tu.Apply(context.Background(), plan(t, tu, sel, want))
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "run again") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("report error %v, want one line saying %q and to run again", err, tt.wantErr)
			}
			if got := configs(t, inv, tt.lb)[tt.lb]; got.ID != tt.left {
				t.Errorf("%s has configuration %+v after the failure, want %q", tt.lb, got, tt.left)
			}
			if got := sim.SSLProtocols(tt.lb); strings.Join(got, " ") != tt.allows {
				t.Errorf("%s allows %v after the failure, want %s", tt.lb, got, tt.allows)
			}

			before := sim.Calls(set)
			rep, err = tu.Apply(context.Background(), plan(t, tu, sel, want))
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err != nil {
				t.Fatalf("second run: %v", err)
			}
			if n := sim.Calls(set) - before; n != tt.rerun {
				t.Errorf("second run made %d configuration steps, want %d (no second ADD)", n, tt.rerun)
			}
			if got := sim.SSLProtocols(tt.lb); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
				t.Errorf("%s allows %v after the second run", tt.lb, got)
			}
			got := configs(t, inv, tt.lb)[tt.lb]
			wantContent := "ssl_protocols TLSv1.2 TLSv1.3;\n"
			if tt.lb == "lb-shr1" {
				// The shared configuration's other directives came along.
				wantContent = shrContent + wantContent
				if c := configs(t, inv, "lb-shr2")["lb-shr2"]; c.ID != "pz-shared01" || c.Content != shrContent {
					t.Errorf("lb-shr2's configuration = %+v, want pz-shared01 untouched", c)
				}
			}
			if got.Name != "clbcert-"+tt.lb || got.Content != wantContent || got.Shared() {
				t.Errorf("%s's configuration = %+v, want clbcert-%s with %q", tt.lb, got, tt.lb, wantContent)
			}
		})
	}
}

// A plan changes nothing, whatever it finds, and shows each field before
// and after.
func TestPlanChangesNothing(t *testing.T) {
	sim := simtest.Start(t, account(t))
	tu, _ := tuner(t, sim)
	p := plan(t, tu, tune.Selection{All: true}, tune.Settings{
		Scheduler: ptr("IP_HASH"), HealthCheck: tune.HealthCheck{Interval: ptr(int64(30)), Path: ptr("/healthz")},
		TLSProtocols: []string{"TLSv1.2", "TLSv1.3"},
	})
	for action, n := range sim.CallCounts() {
		if strings.HasPrefix(action, "Modify") || strings.HasPrefix(action, "Set") || strings.HasPrefix(action, "Register") {
			t.Errorf("planning called %s %d times", action, n)
		}
	}
	var b strings.Builder
	if err := p.WriteDiff(&b); err != nil {
		t.Fatal(err)
	}
	diff := b.String()
	for _, want := range []string{
		"lb-web1/lbl-sni1/loc-ex1 (HTTPS:", "  - health check interval 5s\n  + health check interval 30s\n",
		"  - scheduler WRR\n  + scheduler IP_HASH\n", "  - health check path /\n  + health check path /healthz\n",
		"lb-web1/lbl-tls1 (TCP_SSL:",
		"  - TLS protocols default (TLSv1 TLSv1.1 TLSv1.2)\n  + TLS protocols TLSv1.2 TLSv1.3\n",
		"via: update customized configuration pz-shared01, keeping its other directives; it is also bound to lb-shr2, selected too",
		"via: update customized configuration pz-own00001",
		"via: create customized configuration clbcert-lb-web1",
		"skipped lb-web1/lbl-tls1: health check path",
		"unreadable ap-guangzhou lb-bad1:",
		"10 changes on 4 load balancers",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
}

// CLB refuses a second task on a busy load balancer; Apply waits for each
// task instead, so with retries off every change still succeeds, with one
// call each.
func TestApplyAwaitsBusyLoadBalancer(t *testing.T) {
	opts := account(t)
	opts.TaskDelay = 150 * time.Millisecond
	sim := simtest.Start(t, opts)
	tu, inv := tuner(t, sim)
	sel := targets(t, "lb-web1", "lb-own1")
	p := plan(t, tu, sel, tune.Settings{Scheduler: ptr("IP_HASH"), HealthCheck: tune.HealthCheck{Interval: ptr(int64(20))}, TLSProtocols: []string{"TLSv1.2"}})
	// lb-web1: 3 rules, 1 listener, TLS; lb-own1: 1 rule, TLS.
	if len(p.Changes) != 7 {
		t.Fatalf("%d changes, want 7", len(p.Changes))
	}
	rep, err := tu.Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	calls := sim.CallCounts()
	// lb-web1's TLS: ADD and BIND; lb-own1's: UPDATE.
	if calls["ModifyRule"] != 4 || calls["ModifyListener"] != 1 || calls["SetCustomizedConfigForLoadBalancer"] != 3 {
		t.Errorf("calls %v: want each change made once", calls)
	}
	if calls["DescribeTaskStatus"] < 8 {
		t.Errorf("%d DescribeTaskStatus calls for 8 tasks", calls["DescribeTaskStatus"])
	}
	if s, _, hc := balancingOf(t, inv, "lb-web1/lbl-sni1/loc-oth1"); s != "IP_HASH" || hc.IntervalTime != 20 {
		t.Errorf("loc-oth1: %s %+v", s, hc)
	}
	if got := sim.SSLProtocols("lb-web1"); strings.Join(got, " ") != "TLSv1.2" {
		t.Errorf("lb-web1 allows %v", got)
	}
}

// A value that does not fit what a target has is refused for all of them,
// before any change.
func TestRefusedPlanChangesNothing(t *testing.T) {
	sim := simtest.Start(t, account(t))
	tu, _ := tuner(t, sim)
	tests := []struct {
		name string
		want tune.Settings
		fix  string
	}{
		{"timeout not below the current interval", tune.Settings{HealthCheck: tune.HealthCheck{Timeout: ptr(int64(10))}}, "--health-check-interval"},
		{"session persistence under LEAST_CONN", tune.Settings{Scheduler: ptr("LEAST_CONN")}, ""},
		{"session persistence over a TCP listener's limit", tune.Settings{SessionExpireTime: ptr(int64(7200))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if tt.name == "session persistence under LEAST_CONN" {
				// The rule has persistence already; only the scheduler is set.
				set := plan(t, tu, targets(t, "lb-own1/lbl-own1"), tune.Settings{SessionExpireTime: ptr(int64(300))})
				if rep, err := tu.Apply(context.Background(), set); err != nil || rep.Err() != nil {
					t.Fatalf("setting persistence: %v %v", err, rep.Err())
				}
			}
			before := sim.CallCounts()
			p := plan(t, tu, targets(t, "lb-own1", "lb-web1"), want)
			if tt.name == "session persistence over a TCP listener's limit" {
				// No TCP listener here: a TCP_SSL one has no persistence at all.
				if p.Err() != nil || !slices.ContainsFunc(p.Skipped, func(s tune.Skipped) bool { return s.Target == "lb-web1/lbl-tls1" }) {
					t.Fatalf("plan refused %v, skipped %v", p.Refused, p.Skipped)
				}
				return
			}
			if !errors.Is(p.Err(), tune.ErrRefused) || (tt.fix != "" && !strings.Contains(p.Err().Error(), tt.fix)) {
				t.Fatalf("plan error %v, want a refusal naming %s", p.Err(), tt.fix)
			}
			if _, err := tu.Apply(context.Background(), p); !errors.Is(err, tune.ErrRefused) {
				t.Fatalf("apply error %v, want the refusal", err)
			}
			after := sim.CallCounts()
			for _, a := range []string{"ModifyRule", "ModifyListener", "SetCustomizedConfigForLoadBalancer"} {
				if after[a] != before[a] {
					t.Errorf("%s called %d times", a, after[a]-before[a])
				}
			}
		})
	}
}

// A check type or HTTP setting a place does not have is skipped there with
// what it has; an HTTPS check takes a path as an HTTP check does, and its
// type is changed only when a type is given.
func TestPlanCheckTypes(t *testing.T) {
	opts := account(t)
	opts.Topology.LoadBalancers[1].Listeners[0].Rules[0].HealthCheck = &tcsim.HealthCheckSpec{CheckType: "HTTPS"}
	sim := simtest.Start(t, opts)
	tu, _ := tuner(t, sim)
	tests := []struct {
		name    string
		want    tune.HealthCheck
		skipped map[string]string // target: part of the reason
		changed map[string]string // target: part of the diff
	}{
		{
			name:    "path: HTTPS and HTTP rules take it, a TCP check does not",
			want:    tune.HealthCheck{Path: ptr("/healthz")},
			skipped: map[string]string{"lb-web1/lbl-tls1": "the check is TCP, which sends no HTTP request (set --health-check-type HTTP to use them)"},
			changed: map[string]string{"lb-own1/lbl-own1/loc-own1": "health check path / -> /healthz", "lb-web1/lbl-sni1/loc-ex1": "health check path / -> /healthz"},
		},
		{
			name:    "type HTTPS: rules of HTTPS listeners only",
			want:    tune.HealthCheck{Type: ptr("HTTPS")},
			skipped: map[string]string{"lb-web1/lbl-tls1": "health check type HTTPS: TCP_SSL listeners check by TCP or HTTP"},
			changed: map[string]string{"lb-web1/lbl-sni1/loc-ex1": "health check type HTTP -> HTTPS"},
		},
		{
			name:    "type TCP: not on rules",
			want:    tune.HealthCheck{Type: ptr("TCP")},
			skipped: map[string]string{"lb-own1/lbl-own1/loc-own1": "health check type TCP: HTTPS rules check by HTTP or HTTPS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, tu, targets(t, "lb-own1", "lb-web1"), tune.Settings{HealthCheck: tt.want})
			if p.Err() != nil {
				t.Fatalf("plan: %v", p.Err())
			}
			for target, reason := range tt.skipped {
				if !slices.ContainsFunc(p.Skipped, func(s tune.Skipped) bool { return s.Target == target && strings.Contains(s.Reason, reason) }) {
					t.Errorf("%s not skipped for %q: %v", target, reason, p.Skipped)
				}
			}
			seen := map[string]bool{}
			for _, c := range p.Changes {
				var fields []string
				for _, f := range c.Fields {
					fields = append(fields, f.Name+" "+f.Before+" -> "+f.After)
				}
				got := strings.Join(fields, "; ")
				if want, ok := tt.changed[c.Address.String()]; ok {
					if !strings.Contains(got, want) {
						t.Errorf("%s changes %q, want %q", c.Address, got, want)
					}
					seen[c.Address.String()] = true
				}
				if strings.Contains(got, "health check type HTTPS ->") {
					t.Errorf("%s: an HTTPS check's type changed without a type given: %s", c.Address, got)
				}
			}
			for target := range tt.changed {
				if !seen[target] {
					t.Errorf("no change of %s", target)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     tune.Settings
		field string // "" means valid
	}{
		{"valid", tune.Settings{Scheduler: ptr("WRR"), SessionExpireTime: ptr(int64(0)), HealthCheck: tune.HealthCheck{Interval: ptr(int64(30)), Timeout: ptr(int64(5)), Path: ptr("/healthz")}, TLSProtocols: []string{"TLSv1.2", "TLSv1.3"}}, ""},
		{"scheduler", tune.Settings{Scheduler: ptr("ROUND_ROBIN")}, tune.FieldScheduler},
		{"session too short", tune.Settings{SessionExpireTime: ptr(int64(10))}, tune.FieldSessionPersistence},
		{"session with LEAST_CONN", tune.Settings{Scheduler: ptr("LEAST_CONN"), SessionExpireTime: ptr(int64(60))}, tune.FieldSessionPersistence},
		{"interval", tune.Settings{HealthCheck: tune.HealthCheck{Interval: ptr(int64(301))}}, tune.FieldHealthCheckInterval},
		{"timeout", tune.Settings{HealthCheck: tune.HealthCheck{Timeout: ptr(int64(1))}}, tune.FieldHealthCheckTimeout},
		{"timeout not below interval", tune.Settings{HealthCheck: tune.HealthCheck{Interval: ptr(int64(5)), Timeout: ptr(int64(5))}}, tune.FieldHealthCheckTimeout},
		{"healthy threshold", tune.Settings{HealthCheck: tune.HealthCheck{HealthyThreshold: ptr(int64(11))}}, tune.FieldHealthyThreshold},
		{"unhealthy threshold", tune.Settings{HealthCheck: tune.HealthCheck{UnhealthyThreshold: ptr(int64(1))}}, tune.FieldUnhealthyThreshold},
		{"path", tune.Settings{HealthCheck: tune.HealthCheck{Path: ptr("healthz")}}, tune.FieldHealthCheckPath},
		{"type", tune.Settings{HealthCheck: tune.HealthCheck{Type: ptr("PING")}}, tune.FieldHealthCheckType},
		{"http codes", tune.Settings{HealthCheck: tune.HealthCheck{HTTPCodes: ptr(int64(32))}}, tune.FieldHTTPCodes},
		{"tls version", tune.Settings{TLSProtocols: []string{"TLSv1.2", "SSLv3"}}, tune.FieldTLSProtocols},
		{"tls allows nothing", tune.Settings{TLSProtocols: []string{}}, tune.FieldTLSProtocols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			var fe *tune.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v", err)
			case tt.field == "":
			case !errors.As(err, &fe) || fe.Field != tt.field || fe.Fix == "" || strings.Contains(err.Error(), "\n"):
				t.Fatalf("Validate = %v, want a one-line error about %s", err, tt.field)
			}
		})
	}
}

func TestPlanRefusesBadSelection(t *testing.T) {
	sim := simtest.Start(t, account(t))
	tu, _ := tuner(t, sim)
	inv, err := tu.Collect(context.Background(), []string{gz})
	if err != nil {
		t.Fatal(err)
	}
	want := tune.Settings{Scheduler: ptr("WRR")}
	for _, tt := range []struct {
		sel tune.Selection
		err error
	}{
		{tune.Selection{}, tune.ErrNoSelection},
		{targets(t, "lb-nope1"), tune.ErrUnknownTarget},
		{targets(t, "lb-web1/lbl-nope1"), tune.ErrUnknownTarget},
		{targets(t, "lb-web1/lbl-sni1/nope.example.test"), tune.ErrUnknownTarget},
		{targets(t, "lb-web1/lbl-tls1/example.test"), tune.ErrUnknownTarget},
	} {
		if _, err := tu.Plan(context.Background(), inv, tt.sel, want); !errors.Is(err, tt.err) {
			t.Errorf("Plan(%v) = %v, want %v", tt.sel, err, tt.err)
		}
	}
	if _, err := tu.Plan(context.Background(), inv, tune.Selection{All: true}, tune.Settings{}); !errors.Is(err, tune.ErrNoSettings) {
		t.Errorf("Plan without settings = %v", err)
	}
	// A selected load balancer that cannot be read is a failure of the plan,
	// not an unknown target.
	p, err := tu.Plan(context.Background(), inv, targets(t, "lb-bad1", "lb-own1"), want)
	if err != nil || len(p.Failures) != 1 || p.Failures[0].LoadBalancerID != "lb-bad1" {
		t.Fatalf("plan = %+v, %v", p, err)
	}
}
