package doctor

import (
	"slices"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
)

// sane is a health check doctor has nothing to say about.
func sane() inventory.HealthCheck {
	return inventory.HealthCheck{On: true, TimeOut: 5, IntervalTime: 10, HealthNum: 2, UnHealthNum: 3, HTTPCode: 6, HTTPCheckPath: "/healthz", CheckType: "HTTP"}
}

func ruleUnit(h *inventory.HealthCheck) unit {
	r := inventory.Rule{LocationID: "loc-1", Domain: "www.example.test", URL: "/", Balancing: inventory.Balancing{HealthCheck: h}}
	return unit{lb: inventory.LoadBalancer{Region: "ap-guangzhou", ID: "lb-1"}, l: inventory.Listener{ID: "lbl-1", Protocol: "HTTPS", Port: 443, Rules: []inventory.Rule{r}}, rule: &r}
}

// The judgement of one health check, including what CLB (and so tcsim)
// refuses to hold, such as a timeout not below the interval.
func TestHealthCheckFindings(t *testing.T) {
	type found struct {
		severity Severity
		problem  string
		safe     bool
		change   change // the safe fix's settings, Region and Target left out
	}
	cases := []struct {
		name   string
		edit   func(h *inventory.HealthCheck)
		layer4 bool
		want   []found
	}{
		{name: "sane", edit: func(*inventory.HealthCheck) {}},
		{name: "off", edit: func(h *inventory.HealthCheck) { h.On = false },
			want: []found{{Warning, "is off", true, change{HealthOn: true}}}},
		{name: "path /", edit: func(h *inventory.HealthCheck) { h.HTTPCheckPath = "/" },
			want: []found{{Warning, `asks for "/"`, false, change{HealthPath: "/healthz"}}}},
		{name: "no path on a rule without a check type", edit: func(h *inventory.HealthCheck) { h.HTTPCheckPath, h.CheckType = "", "" },
			want: []found{{Warning, `asks for "/"`, false, change{HealthPath: "/healthz"}}}},
		{name: "HTTPS check on /", edit: func(h *inventory.HealthCheck) { h.HTTPCheckPath, h.CheckType = "/", "HTTPS" },
			want: []found{{Warning, `the HTTPS health check asks for "/"`, false, change{HealthPath: "/healthz"}}}},
		{name: "HTTPS check counting 5xx", edit: func(h *inventory.HealthCheck) { h.HTTPCode, h.CheckType = 2|16, "HTTPS" },
			want: []found{{Warning, "the HTTPS health check counts 5xx answers", false, change{HTTPCodes: 6}}}},
		{name: "TCP check has no path", edit: func(h *inventory.HealthCheck) { h.HTTPCheckPath, h.CheckType, h.HTTPCode = "", "TCP", 31 }, layer4: true},
		{name: "5xx healthy", edit: func(h *inventory.HealthCheck) { h.HTTPCode = 2 | 16 },
			want: []found{{Warning, "counts 5xx answers", false, change{HTTPCodes: 6}}}},
		{name: "4xx healthy", edit: func(h *inventory.HealthCheck) { h.HTTPCode = 2 | 8 },
			want: []found{{Warning, "counts 4xx answers", false, change{HTTPCodes: 6}}}},
		{name: "interval 30 is sane", edit: func(h *inventory.HealthCheck) { h.IntervalTime = 30 }},
		{name: "interval 31", edit: func(h *inventory.HealthCheck) { h.IntervalTime = 31 },
			want: []found{{Warning, "every 31 s", true, change{Interval: 30}}}},
		{name: "timeout 10 is sane", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime = 10, 20 }},
		{name: "timeout 11", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime = 11, 20 },
			want: []found{{Warning, "waits 11 s", true, change{Timeout: 10}}}},
		{name: "timeout equals interval", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime = 5, 5 },
			want: []found{{Warning, "waits 5 s for an answer (interval 5 s)", true, change{Timeout: 4}}}},
		{name: "timeout above a short interval", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime = 4, 3 },
			want: []found{{Warning, "waits 4 s", true, change{Timeout: 2}}}},
		{name: "interval and timeout both too long", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime = 50, 60 },
			want: []found{{Warning, "every 60 s", true, change{Interval: 30}}, {Warning, "waits 50 s", true, change{Timeout: 10}}}},
		{name: "thresholds 5/5", edit: func(h *inventory.HealthCheck) { h.HealthNum, h.UnHealthNum = 5, 5 },
			want: []found{{Info, "after 5 failures and back after 5 successes", true, change{HealthyNum: 2, UnhealthyNum: 3}}}},
		{name: "fields CLB left out are not judged", edit: func(h *inventory.HealthCheck) { h.TimeOut, h.IntervalTime, h.HealthNum, h.UnHealthNum = 0, 0, 0, 0 }},
		{name: "an off check is judged on what it runs with once on", edit: func(h *inventory.HealthCheck) { h.On, h.IntervalTime = false, 60 },
			want: []found{{Warning, "is off", true, change{HealthOn: true}}, {Warning, "every 60 s", true, change{Interval: 30}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := sane()
			tc.edit(&h)
			u := ruleUnit(&h)
			if tc.layer4 {
				u = unit{lb: u.lb, l: inventory.Listener{ID: "lbl-1", Protocol: "TCP_SSL", Port: 443, Balancing: inventory.Balancing{HealthCheck: &h}}}
			}
			got := healthCheckFindings(u)
			if len(got) != len(tc.want) {
				t.Fatalf("%d findings, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Severity != w.severity || !strings.Contains(g.Problem, w.problem) || g.Safe != w.safe || g.Check != CheckHealthCheck {
					t.Errorf("finding %d = %s %q safe %v, want %s %q safe %v", i, g.Severity, g.Problem, g.Safe, w.severity, w.problem, w.safe)
				}
				if !w.safe {
					advised := w.change
					advised.Target = u.address()
					if g.change != nil || !strings.HasSuffix(g.Fix, tuneCommand(advised)) {
						t.Errorf("advice %q: want it to end in %q, and no change for --fix", g.Fix, tuneCommand(advised))
					}
					continue
				}
				c := *g.change
				if c.Target != u.address() || c.Target.Region != "ap-guangzhou" {
					t.Errorf("change for %s in %s, want %s", c.Target, c.Target.Region, u.address())
				}
				c.Target = clb.Address{}
				if !changeEqual(c, w.change) {
					t.Errorf("change %+v, want %+v", c, w.change)
				}
				if g.Fix != tuneCommand(*g.change) {
					t.Errorf("fix %q is not the tune command of its change", g.Fix)
				}
			}
		})
	}
}

func changeEqual(a, b change) bool {
	return a.HealthOn == b.HealthOn && a.Interval == b.Interval && a.Timeout == b.Timeout && a.HealthyNum == b.HealthyNum &&
		a.UnhealthyNum == b.UnhealthyNum && a.HealthPath == b.HealthPath && a.HTTPCodes == b.HTTPCodes && slices.Equal(a.TLSProtocols, b.TLSProtocols)
}

// The fixes for one target become one tune change, and the command line
// says what tune is asked.
func TestSafeChangesMergePerTarget(t *testing.T) {
	mk := func(target string, c change) Finding {
		a, err := clb.ParseAddress("ap-guangzhou", target)
		if err != nil {
			t.Fatal(err)
		}
		c.Target = a
		return Finding{Safe: true, change: &c}
	}
	got := safeChanges([]Finding{
		mk("lb-1/lbl-1/loc-1", change{HealthOn: true}),
		{Fix: "advice only"},
		mk("lb-1", change{TLSProtocols: SafeTLSProtocols()}),
		mk("lb-1/lbl-1/loc-1", change{Interval: 30}),
		mk("lb-1/lbl-1/loc-1", change{Timeout: 10}),
	})
	if len(got) != 2 || got[0].Target.String() != "lb-1" || got[1].Target.String() != "lb-1/lbl-1/loc-1" {
		t.Fatalf("changes %+v, want lb-1 and lb-1/lbl-1/loc-1", got)
	}
	s := got[1].settings()
	if s.HealthCheck.On == nil || !*s.HealthCheck.On || *s.HealthCheck.Interval != 30 || *s.HealthCheck.Timeout != 10 ||
		s.HealthCheck.HealthyThreshold != nil || s.HealthCheck.Path != nil || s.TLSProtocols != nil {
		t.Fatalf("merged settings %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("merged settings: %v", err)
	}
	want := "clbcert tune --region ap-guangzhou --health-check on --health-check-interval 30 --health-check-timeout 10 lb-1/lbl-1/loc-1"
	if cmd := tuneCommand(got[1]); cmd != want {
		t.Fatalf("command %q, want %q", cmd, want)
	}
	advice := change{Target: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-1", ListenerID: "lbl-1", LocationID: "loc-1"}, HealthPath: HealthPath, HTTPCodes: HealthyHTTPCodes}
	want = "clbcert tune --region ap-guangzhou --health-check-path /healthz --health-check-http-codes 2xx,3xx lb-1/lbl-1/loc-1"
	if cmd := tuneCommand(advice); cmd != want {
		t.Fatalf("command %q, want %q", cmd, want)
	}
}

func TestExitCode(t *testing.T) {
	f := func(s Severity) Finding { return Finding{Severity: s} }
	failed := []inventory.Failure{{Region: "ap-guangzhou", Error: "InternalError"}}
	for _, tc := range []struct {
		findings []Finding
		failures []inventory.Failure
		want     int
	}{
		{nil, nil, ExitOK},
		{[]Finding{f(Info)}, nil, ExitOK},
		{[]Finding{f(Info), f(Warning)}, nil, ExitWarning},
		{[]Finding{f(Warning), f(Critical)}, nil, ExitCritical},
		{[]Finding{f(Warning)}, failed, ExitUnknown},
		{nil, failed, ExitUnknown},
		{[]Finding{f(Critical)}, failed, ExitCritical},
	} {
		if got := ExitCode(tc.findings, tc.failures); got != tc.want {
			t.Errorf("ExitCode(%v, %d failures) = %d, want %d", tc.findings, len(tc.failures), got, tc.want)
		}
	}
}
