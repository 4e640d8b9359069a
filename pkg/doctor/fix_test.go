package doctor_test

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tune"
)

// neglected is the site with every health check and TLS setting doctor
// knows wrong: one check off (on CLB's defaults), one every 60 s, one with
// thresholds 5/5, one waiting 15 s, one on "/" and one that counts 5xx as
// healthy; and no customized configuration.
func neglected(t *testing.T) tcsim.Options {
	o := site(t)
	rule(&o, lblSNI, locOther).HealthCheck = &tcsim.HealthCheckSpec{Off: true}
	listener(&o, lblTLS).HealthCheck.IntervalTime = 60
	h := rule(&o, lblPlain, locAPI).HealthCheck
	h.HealthNum, h.UnHealthNum = 5, 5
	h = rule(&o, lblPlain, locWWW).HealthCheck
	h.TimeOut, h.IntervalTime = 15, 30
	rule(&o, lblSNI, locApex).HealthCheck.HTTPCheckPath = "/"
	rule(&o, lblHTTP, locHTTP).HealthCheck.HTTPCode = 31
	o.Topology.CustomizedConfigs = nil
	return o
}

// The advice that stays after --fix: what could break a site if done
// without a person.
var unsafeLeft = []want{
	{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{`asks for "/"`}},
	{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{"counts 4xx and 5xx"}},
	{doctor.CheckHealthCheck, doctor.Warning, " example.test/", []string{`asks for "/"`}},
	{doctor.CheckHealthCheck, doctor.Warning, lblHTTP, []string{"counts 4xx and 5xx"}},
}

var neglectedFindings = append([]want{
	{doctor.CheckHealthCheck, doctor.Warning, "other.test/", []string{"health check is off"}},
	{doctor.CheckHealthCheck, doctor.Info, "other.test/", []string{"after 3 failures and back after 3 successes"}},
	{doctor.CheckHealthCheck, doctor.Warning, lblTLS, []string{"every 60 s"}},
	{doctor.CheckHealthCheck, doctor.Info, "api.example.test/", []string{"after 5 failures and back after 5 successes"}},
	{doctor.CheckHealthCheck, doctor.Warning, "www.example.test/", []string{"waits 15 s"}},
	{doctor.CheckTLSProtocols, doctor.Warning, lbWeb, []string{"no customized configuration", "accepted TLSv1.1"}},
}, unsafeLeft...)

func tuner(t *testing.T, sim *tcsim.Sim) *tune.Tuner {
	t.Helper()
	tn, err := tune.New(config(t, sim), tune.Options{TaskPoll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// changes counts the calls that change a load balancer.
func changes(sim *tcsim.Sim) map[string]int {
	counts := sim.CallCounts()
	out := map[string]int{}
	for _, a := range []string{"ModifyRule", "ModifyListener", "SetCustomizedConfigForLoadBalancer", "ModifyDomainAttributes"} {
		out[a] = counts[a]
	}
	return out
}

// examineNeglected starts the neglected account and examines it.
func examineNeglected(t *testing.T) (*tcsim.Sim, *doctor.Doctor, *doctor.Report) {
	t.Helper()
	sim := simtest.Start(t, neglected(t))
	d := newDoctor(t, sim, doctor.Options{})
	rep, err := d.Examine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sim, d, rep
}

func TestFixAppliesOnlyTheSafeFixes(t *testing.T) {
	sim, d, rep := examineNeglected(t)
	ctx := context.Background()
	expectFindings(t, rep.Findings, neglectedFindings...)

	after, err := d.Fix(ctx, rep, tuner(t, sim), false)
	if err != nil {
		t.Fatal(err)
	}
	expectFindings(t, after.Findings, unsafeLeft...)
	if after.Fix == nil || after.Fix.Applied == nil || after.Fix.Applied.Err() != nil {
		t.Fatalf("fix report %+v: want every change applied", after.Fix)
	}
	// One change per rule or listener (the two health check fixes of
	// other.test merged) and one for the TLS versions.
	if n := len(after.Fix.Plan.Changes); n != 5 {
		t.Errorf("%d changes planned, want 5: %+v", n, after.Fix.Plan.Changes)
	}
	if got := sim.SSLProtocols(lbWeb); strings.Join(got, " ") != "TLSv1.2 TLSv1.3" {
		t.Errorf("ssl_protocols now %v, want TLSv1.2 TLSv1.3", got)
	}
	var out bytes.Buffer
	if err := after.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"+ health check on", "+ health check interval 30s", "+ health check timeout 10s", "+ TLS protocols TLSv1.2 TLSv1.3", "5 changed, 0 failed", "WARNING"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	if after.ExitCode != doctor.ExitWarning {
		t.Errorf("exit %d after the fixes, want %d for the advice left", after.ExitCode, doctor.ExitWarning)
	}
}

func TestFixDryRunChangesNothing(t *testing.T) {
	sim, d, rep := examineNeglected(t)
	ctx := context.Background()
	before := changes(sim)
	reads := sim.CallCounts()
	dry, err := d.Fix(ctx, rep, tuner(t, sim), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := changes(sim); !maps.Equal(got, before) {
		t.Fatalf("a dry run called %v, before %v", got, before)
	}
	// The plan is made on the examination's inventory, not a second one.
	for _, a := range []string{"DescribeLoadBalancers", "DescribeListeners", "DescribeCertificates", "DescribeCertificateDetail"} {
		if n := sim.Calls(a) - reads[a]; n != 0 {
			t.Errorf("planning the fixes called %s %d times", a, n)
		}
	}
	if dry.Fix == nil || !dry.Fix.DryRun || dry.Fix.Applied != nil || len(dry.Fix.Plan.Changes) != 5 {
		t.Fatalf("dry run fix report %+v: want the 5 changes planned, none applied", dry.Fix)
	}
	var out bytes.Buffer
	if err := dry.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run: nothing changed") || !strings.Contains(out.String(), "+ health check on") {
		t.Errorf("dry run report:\n%s", out.String())
	}
	again := examine(t, sim, doctor.Options{})
	expectFindings(t, again.Findings, neglectedFindings...)
}
