package doctor_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Ids of the healthy site.
const (
	lbWeb    = "lb-web00001"
	lblPlain = "lbl-plain001" // HTTPS without SNI: www and api.example.test
	lblSNI   = "lbl-sni00001" // HTTPS with SNI: example.test, *.example.test, other.test
	lblTLS   = "lbl-tls00001" // TCP_SSL
	lblHTTP  = "lbl-http0001" // HTTP
	locWWW   = "loc-www00001"
	locAPI   = "loc-api00001"
	locApex  = "loc-apex0001"
	locWild  = "loc-wild0001"
	locOther = "loc-other001"
	locHTTP  = "loc-http0001"
)

// unit is a health check unit of CLB's health checks in tcsim: seconds of
// IntervalTime and TimeOut last this long, so a check every 10 "s" runs
// every 200 ms and a backend is Alive (2 checks) or Dead (3) well within a
// second, while a 5 "s" timeout still gives a busy machine 100 ms.
const unit = 20 * time.Millisecond

func httpCheck() *tcsim.HealthCheckSpec {
	return &tcsim.HealthCheckSpec{TimeOut: 5, IntervalTime: 10, HealthNum: 2, UnHealthNum: 3, HTTPCode: 6, HTTPCheckPath: "/healthz", CheckType: "HTTP"}
}

func targets(backends ...string) []tcsim.TargetSpec {
	var out []tcsim.TargetSpec
	for _, b := range backends {
		out = append(out, tcsim.TargetSpec{Backend: b})
	}
	return out
}

func balanced(backends ...string) tcsim.BalancingSpec {
	return tcsim.BalancingSpec{HealthCheck: httpCheck(), Targets: targets(backends...)}
}

// site is a load balancer that does everything right: certificates valid
// for a century that cover their domains, an HTTPS listener without SNI
// whose certificate covers both its domains, one with SNI (a wildcard
// domain among them), a TCP_SSL and an HTTP listener; health checks on
// /healthz every 10 s with thresholds 3/2 and a 5 s timeout; live backends
// everywhere; ssl_protocols TLSv1.2 TLSv1.3.
func site(t *testing.T) tcsim.Options {
	return tcsim.Options{
		HealthCheckUnit: unit,
		Certificates: []tcsim.CertSpec{
			simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"),
			simtest.HandUploaded(t, "OtherCrt", "other", "other.test"),
		},
		Topology: tcsim.Topology{
			Backends: []tcsim.BackendSpec{{ID: "web1"}, {ID: "web2"}, {ID: "web3"}},
			LoadBalancers: []tcsim.LoadBalancerSpec{{ID: lbWeb, Name: "web", Region: region, VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: lblPlain, Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{
					{LocationID: locWWW, Domain: "www.example.test", BalancingSpec: balanced("web1", "web3")},
					{LocationID: locAPI, Domain: "api.example.test", BalancingSpec: balanced("web2")},
				}},
				{ID: lblSNI, Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{LocationID: locApex, Domain: "example.test", CertID: "HandCrt1", BalancingSpec: balanced("web1")},
					{LocationID: locWild, Domain: "*.example.test", CertID: "HandCrt1", BalancingSpec: balanced("web2")},
					{LocationID: locOther, Domain: "other.test", CertID: "OtherCrt", BalancingSpec: balanced("web2")},
				}},
				{ID: lblTLS, Protocol: "TCP_SSL", CertID: "HandCrt1", BalancingSpec: tcsim.BalancingSpec{
					HealthCheck: &tcsim.HealthCheckSpec{TimeOut: 5, IntervalTime: 10, HealthNum: 2, UnHealthNum: 3, CheckType: "TCP"},
					Targets:     targets("web1", "web2"),
				}},
				{ID: lblHTTP, Protocol: "HTTP", Rules: []tcsim.RuleSpec{
					{LocationID: locHTTP, Domain: "www.example.test", BalancingSpec: balanced("web3")},
				}},
			}}},
			CustomizedConfigs: []tcsim.CustomizedConfigSpec{{ID: "pz-tls00001", Name: "modern", Content: "ssl_protocols TLSv1.2 TLSv1.3;", LoadBalancerIDs: []string{lbWeb}}},
		},
	}
}

// units are the rules and layer-4 listeners of site, to wait on.
var siteUnits = [][2]string{
	{lblPlain, locWWW}, {lblPlain, locAPI}, {lblSNI, locApex}, {lblSNI, locWild}, {lblSNI, locOther}, {lblTLS, ""}, {lblHTTP, locHTTP},
}

// alive waits until every target of site is Alive, so that a healthy
// report is about checked backends, not unknown ones.
func alive(t *testing.T, sim *tcsim.Sim) {
	t.Helper()
	for _, u := range siteUnits {
		state := map[string]string{}
		for addr := range sim.TargetHealth(lbWeb, u[0], u[1]) {
			state[addr] = "Alive"
		}
		waitHealth(t, sim, lbWeb, u[0], u[1], state)
	}
}

func rule(o *tcsim.Options, listener, loc string) *tcsim.RuleSpec {
	for i := range o.Topology.LoadBalancers[0].Listeners {
		l := &o.Topology.LoadBalancers[0].Listeners[i]
		for j := range l.Rules {
			if l.ID == listener && l.Rules[j].LocationID == loc {
				return &l.Rules[j]
			}
		}
	}
	panic("no rule " + listener + "/" + loc)
}

func listener(o *tcsim.Options, id string) *tcsim.ListenerSpec {
	for i := range o.Topology.LoadBalancers[0].Listeners {
		if l := &o.Topology.LoadBalancers[0].Listeners[i]; l.ID == id {
			return l
		}
	}
	panic("no listener " + id)
}

func TestHealthySiteHasNoFindings(t *testing.T) {
	sim := simtest.Start(t, site(t))
	alive(t, sim)
	rep := examine(t, sim, doctor.Options{CertbotDir: certbotDir("good-ecdsa")})
	expectFindings(t, rep.Findings)
	if rep.ExitCode != doctor.ExitOK || rep.Status != "OK" || len(rep.Failures) != 0 {
		t.Fatalf("status %s, exit %d, failures %v; want OK, 0, none", rep.Status, rep.ExitCode, rep.Failures)
	}
}

// certbotDir is a corpus case as certbot's config dir.
func certbotDir(kase string) string {
	return filepath.Dir(filepath.Dir(simtest.Corpus(kase, "x")))
}

// Each variant breaks the healthy site in one way and must give exactly
// the finding for it.
func TestEachFindingFromItsTopology(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		// change breaks the site; nil keeps it healthy.
		change func(t *testing.T, o *tcsim.Options)
		// then acts on the running sim (and waits for the effect).
		then       func(t *testing.T, sim *tcsim.Sim)
		certbotDir string
		want       []want
		exit       int
		// check looks further at the report.
		check func(t *testing.T, rep *doctor.Report)
	}{
		{
			name: "certificate expires in 5 days, half its renewal window gone",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Certificates = append(o.Certificates, simtest.HandUploadedBetween(t, "SoonCrt1", certbinding.ECC, now.AddDate(0, -2, 0), now.Add(5*24*time.Hour+time.Hour), "example.test"))
				listener(o, lblTLS).CertID = "SoonCrt1"
			},
			want: []want{{doctor.CheckCertDates, doctor.Critical, "certificate SoonCrt1 on " + lbWeb + "/" + lblTLS, []string{"120 hours left", "less than half"}}},
			exit: doctor.ExitCritical,
		},
		{
			name: "certificate expires in 20 days, its renewal overdue",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Certificates = append(o.Certificates, simtest.HandUploadedBetween(t, "SoonCrt2", certbinding.ECC, now.AddDate(0, -2, 0), now.Add(20*24*time.Hour+time.Hour), "example.test"))
				listener(o, lblTLS).CertID = "SoonCrt2"
			},
			want: []want{{doctor.CheckCertDates, doctor.Warning, "certificate SoonCrt2", []string{"renewal overdue", "20 days left"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "certificate expired",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Certificates = append(o.Certificates, simtest.HandUploadedBetween(t, "OldCrt01", certbinding.ECC, now.AddDate(0, -3, 0), now.Add(-24*time.Hour), "example.test"))
				listener(o, lblTLS).CertID = "OldCrt01"
			},
			want: []want{{doctor.CheckCertDates, doctor.Critical, "certificate OldCrt01", []string{"expired on"}}},
			exit: doctor.ExitCritical,
		},
		{
			name: "certificate not yet valid",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Certificates = append(o.Certificates, simtest.HandUploadedBetween(t, "NewCrt01", certbinding.ECC, now.Add(48*time.Hour), now.AddDate(0, 3, 0), "example.test"))
				listener(o, lblTLS).CertID = "NewCrt01"
			},
			want: []want{{doctor.CheckCertDates, doctor.Critical, "certificate NewCrt01", []string{"not valid until"}}},
			exit: doctor.ExitCritical,
		},
		{
			name: "listener without SNI serves a domain its certificate does not cover",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblPlain, locAPI).Domain = "api.other.test"
			},
			want: []want{{doctor.CheckNames, doctor.Critical, lbWeb + "/" + lblPlain, []string{"SNI is off", "does not cover api.other.test"}}},
			exit: doctor.ExitCritical,
		},
		{
			name: "SNI domain's certificate does not cover it",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblSNI, locOther).Domain = "www.other.test"
			},
			want: []want{{doctor.CheckNames, doctor.Critical, lblSNI + " (HTTPS:", []string{"does not cover www.other.test"}}},
			exit: doctor.ExitCritical,
		},
		{
			name: "CLB's default TLS versions",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Topology.CustomizedConfigs = nil
			},
			want: []want{{doctor.CheckTLSProtocols, doctor.Warning, lbWeb, []string{"no customized configuration", "TLSv1 TLSv1.1 TLSv1.2", "accepted TLSv1.1"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "customized configuration allows TLS 1.0",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Topology.CustomizedConfigs[0].Content = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\nclient_max_body_size 10m;"
			},
			want: []want{{doctor.CheckTLSProtocols, doctor.Warning, lbWeb, []string{"pz-tls00001 sets ssl_protocols TLSv1 TLSv1.1", "accepted TLSv1.1"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "configuration shared with another load balancer allows TLS 1.1",
			change: func(t *testing.T, o *tcsim.Options) {
				o.Topology.LoadBalancers = append(o.Topology.LoadBalancers, tcsim.LoadBalancerSpec{ID: "lb-web00002", Region: region, VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-plain002", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test", BalancingSpec: balanced("web1")}}},
				}})
				cfg := &o.Topology.CustomizedConfigs[0]
				cfg.Content = "ssl_protocols TLSv1.1 TLSv1.2;"
				cfg.LoadBalancerIDs = append(cfg.LoadBalancerIDs, "lb-web00002")
			},
			want: []want{
				{doctor.CheckTLSProtocols, doctor.Warning, lbWeb, []string{"pz-tls00001 sets ssl_protocols TLSv1.1 TLSv1.2", "accepted TLSv1.1"}},
				{doctor.CheckTLSProtocols, doctor.Warning, "lb-web00002", []string{"pz-tls00001 sets ssl_protocols TLSv1.1 TLSv1.2", "accepted TLSv1.1"}},
			},
			exit: doctor.ExitWarning,
			check: func(t *testing.T, rep *doctor.Report) {
				for _, f := range rep.Findings {
					if !strings.Contains(f.Fix, "is shared with") || !strings.Contains(f.Fix, "a copy of its own") {
						t.Errorf("fix %q does not say the configuration is shared", f.Fix)
					}
				}
			},
		},
		{
			name: "health check off",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblSNI, locOther).HealthCheck.Off = true
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{"health check is off"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "health check on /",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblSNI, locOther).HealthCheck.HTTPCheckPath = "/"
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{`asks for "/"`}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "health check counts 5xx as healthy",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblSNI, locOther).HealthCheck.HTTPCode = 31
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{"counts 4xx and 5xx answers as healthy (HttpCode 31)"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "health check every 60 s",
			change: func(t *testing.T, o *tcsim.Options) {
				listener(o, lblTLS).HealthCheck.IntervalTime = 60
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Warning, lbWeb + "/" + lblTLS, []string{"every 60 s", "at most 30 s"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "health check thresholds 5/5",
			change: func(t *testing.T, o *tcsim.Options) {
				h := rule(o, lblPlain, locAPI).HealthCheck
				h.HealthNum, h.UnHealthNum = 5, 5
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Info, "api.example.test/", []string{"after 5 failures and back after 5 successes"}}},
			exit: doctor.ExitOK,
		},
		{
			name: "health check timeout 15 s",
			change: func(t *testing.T, o *tcsim.Options) {
				h := rule(o, lblPlain, locAPI).HealthCheck
				h.TimeOut, h.IntervalTime = 15, 30
			},
			want: []want{{doctor.CheckHealthCheck, doctor.Warning, "api.example.test/", []string{"waits 15 s", "at most 10 s"}}},
			exit: doctor.ExitWarning,
		},
		{
			name: "one backend fails its health check",
			then: func(t *testing.T, sim *tcsim.Sim) {
				if err := sim.SetBackendHealthy("web3", false); err != nil {
					t.Fatal(err)
				}
				web1, web3 := sim.BackendAddr("web1"), sim.BackendAddr("web3")
				waitHealth(t, sim, lbWeb, lblPlain, locWWW, map[string]string{web1: "Alive", web3: "Dead"})
				waitHealth(t, sim, lbWeb, lblHTTP, locHTTP, map[string]string{web3: "Dead"})
			},
			want: []want{
				{doctor.CheckBackends, doctor.Critical, "www.example.test/", []string{"fails its health check (HTTP HEAD /healthz)", "1 of 2 backends left"}},
				{doctor.CheckBackends, doctor.Critical, lblHTTP, []string{"every backend fails its health check (HTTP HEAD /healthz)"}},
			},
			exit: doctor.ExitCritical,
		},
		{
			name: "rule without backends",
			change: func(t *testing.T, o *tcsim.Options) {
				rule(o, lblSNI, locWild).Targets = nil
			},
			want: []want{{doctor.CheckBackends, doctor.Warning, "*.example.test/", []string{"no backends"}}},
			exit: doctor.ExitWarning,
		},
		{
			name:       "local lineage whose key does not match",
			certbotDir: certbotDir("key-mismatch"),
			want:       []want{{doctor.CheckLineage, doctor.Critical, "key-mismatch/live/example.test", []string{"does not match the certificate"}}},
			exit:       doctor.ExitCritical,
		},
		{
			name:       "local lineage whose chain does not link",
			certbotDir: certbotDir("broken-chain"),
			want:       []want{{doctor.CheckLineage, doctor.Critical, "broken-chain/live/example.test", []string{"broken chain"}}},
			exit:       doctor.ExitCritical,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := site(t)
			if tc.change != nil {
				tc.change(t, &o)
			}
			sim := simtest.Start(t, o)
			if tc.then != nil {
				tc.then(t, sim)
			}
			rep := examine(t, sim, doctor.Options{CertbotDir: tc.certbotDir})
			expectFindings(t, rep.Findings, tc.want...)
			if rep.ExitCode != tc.exit {
				t.Errorf("exit %d (%s), want %d", rep.ExitCode, rep.Status, tc.exit)
			}
			if tc.check != nil {
				tc.check(t, rep)
			}
			for _, f := range rep.Findings {
				if f.Fix == "" {
					t.Errorf("finding %s %s has no fix", f.Check, f.Where)
				}
			}
		})
	}
}

// CLB requires a health check's timeout to be below its interval, and
// tcsim refuses a topology that breaks it; health_test.go covers the
// finding on the inventory doctor would read.
func TestTimeoutNotBelowIntervalCannotBeBuilt(t *testing.T) {
	o := site(t)
	h := rule(&o, lblPlain, locAPI).HealthCheck
	h.TimeOut, h.IntervalTime = 10, 10
	sim, err := tcsim.Start(o)
	if err == nil {
		sim.Close()
		t.Fatal("tcsim started a rule whose health check timeout equals its interval; doctor's finding for it could be tested here")
	}
}

// What could not be read is UNKNOWN, unless something readable is
// critical.
func TestUnreadableLoadBalancer(t *testing.T) {
	o := site(t)
	o.Topology.LoadBalancers = append(o.Topology.LoadBalancers, tcsim.LoadBalancerSpec{ID: "lb-broken01", Region: region, VIP: "127.0.0.12",
		Listeners: []tcsim.ListenerSpec{{ID: "lbl-broken01", Protocol: "TCP_SSL", CertID: "HandCrt1"}}})
	o.FailingLBs = []string{"lb-broken01"}
	sim := simtest.Start(t, o)
	alive(t, sim)
	rep := examine(t, sim, doctor.Options{})
	expectFindings(t, rep.Findings)
	if rep.ExitCode != doctor.ExitUnknown || rep.Status != "UNKNOWN" {
		t.Fatalf("exit %d (%s), want %d UNKNOWN", rep.ExitCode, rep.Status, doctor.ExitUnknown)
	}
	if !slices.ContainsFunc(rep.Failures, func(f inventory.Failure) bool { return f.LoadBalancerID == "lb-broken01" }) {
		t.Fatalf("failures %+v do not name lb-broken01", rep.Failures)
	}
}
