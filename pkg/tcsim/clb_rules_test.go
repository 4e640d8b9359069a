package tcsim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/internal/clocktest"
)

// balWorld is a simulator whose listeners and rules balance over two backends:
//
//	lb-bal00001 (gz, 127.0.0.61): lbl-tls00001 TCP_SSL, targets web1 (weight 3) and web2
//	                              lbl-tcp00001 TCP, IP_HASH, session 60 s, no targets
//	                              lbl-https001 HTTPS: loc-www00001 www.example.test / → web1 (check /healthz)
//	                                                  loc-api00001 www.example.test /api → web2 (check off, LEAST_CONN)
//	lb-bal00002 (gz, 127.0.0.62): lbl-https002 HTTPS: loc-www00002 www.example.test / (HTTPS check of /ready, 2xx)
//	lb-balsh001 (sh, 127.0.0.63): lbl-https003 HTTPS
//
// The health checks that are on run every 300 s and need 10 results either way, so no
// checker reaches a verdict while a test runs and every target stays Unknown (or Close).
type balWorld struct {
	s      *Sim
	gz, sh *clbsdk.Client
}

func slowCheck() *HealthCheckSpec {
	return &HealthCheckSpec{IntervalTime: 300, HealthNum: 10, UnHealthNum: 10}
}

func newBalWorld(t *testing.T, opts Options) *balWorld {
	t.Helper()
	pki := newTestPKI(t)
	opts.Certificates = append(opts.Certificates, pki.valid(t, "www.example.test").spec("Www00001"))
	three := 3
	www := slowCheck()
	www.HTTPCheckPath = HealthPath
	tlsCheck := slowCheck()
	tlsCheck.CheckType, tlsCheck.HTTPCheckPath, tlsCheck.HTTPCode = "HTTPS", "/ready", 2
	opts.Topology.Backends = append(opts.Topology.Backends, BackendSpec{ID: "web1"}, BackendSpec{ID: "web2"})
	opts.Topology.LoadBalancers = append(opts.Topology.LoadBalancers,
		LoadBalancerSpec{ID: "lb-bal00001", Name: "bal-1", Region: gz, VIP: "127.0.0.61", Listeners: []ListenerSpec{
			{ID: "lbl-tls00001", Name: "tls", Protocol: "TCP_SSL", CertID: "Www00001", BalancingSpec: BalancingSpec{
				HealthCheck: slowCheck(), Targets: []TargetSpec{{Backend: "web1", Weight: &three}, {Backend: "web2"}},
			}},
			{ID: "lbl-tcp00001", Name: "tcp", Protocol: "TCP", BalancingSpec: BalancingSpec{Scheduler: "IP_HASH", SessionExpireTime: 60, HealthCheck: slowCheck()}},
			{ID: "lbl-https001", Name: "https", Protocol: "HTTPS", CertID: "Www00001", Rules: []RuleSpec{
				{LocationID: "loc-www00001", Domain: "www.example.test", BalancingSpec: BalancingSpec{HealthCheck: www, Targets: []TargetSpec{{Backend: "web1"}}}},
				{LocationID: "loc-api00001", Domain: "www.example.test", URL: "/api", BalancingSpec: BalancingSpec{
					Scheduler: "LEAST_CONN", HealthCheck: &HealthCheckSpec{Off: true}, Targets: []TargetSpec{{Backend: "web2"}},
				}},
			}},
		}},
		LoadBalancerSpec{ID: "lb-bal00002", Name: "bal-2", Region: gz, VIP: "127.0.0.62", Listeners: []ListenerSpec{
			{ID: "lbl-https002", Protocol: "HTTPS", CertID: "Www00001", Rules: []RuleSpec{
				{LocationID: "loc-www00002", Domain: "www.example.test", BalancingSpec: BalancingSpec{HealthCheck: tlsCheck}},
			}},
		}},
		LoadBalancerSpec{ID: "lb-balsh001", Name: "bal-sh", Region: sh, VIP: "127.0.0.63", Listeners: []ListenerSpec{
			{ID: "lbl-https003", Protocol: "HTTPS", CertID: "Www00001", Rules: []RuleSpec{{Domain: "www.example.test"}}},
		}},
	)
	s := startSim(t, opts)
	return &balWorld{s: s, gz: clbClient(t, s, gz), sh: clbClient(t, s, sh)}
}

// backend is "IP:PORT" of a backend of the topology.
func (w *balWorld) backend(id string) string { return w.s.BackendAddr(id) }

func (w *balWorld) listener(t *testing.T, lbID, listenerID string) *clbsdk.Listener {
	t.Helper()
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId, req.ListenerIds = ptr(lbID), []*string{ptr(listenerID)}
	resp, err := w.gz.DescribeListeners(req)
	if err != nil || len(resp.Response.Listeners) != 1 {
		t.Fatalf("DescribeListeners %s/%s: %v", lbID, listenerID, err)
	}
	return resp.Response.Listeners[0]
}

func (w *balWorld) rule(t *testing.T, lbID, listenerID, locationID string) *clbsdk.RuleOutput {
	t.Helper()
	for _, r := range w.listener(t, lbID, listenerID).Rules {
		if *r.LocationId == locationID {
			return r
		}
	}
	t.Fatalf("no rule %s on %s/%s", locationID, lbID, listenerID)
	return nil
}

// done polls a task once; with TaskDelay 0 that completes it.
func (w *balWorld) done(t *testing.T, requestID *string) {
	t.Helper()
	if got := taskStatus(t, w.gz, *requestID); got != 0 {
		t.Fatalf("task %s: status %d, want 0", *requestID, got)
	}
}

// balancingFields is a listener's or rule's scheduler, session persistence and health check as
// one flat map of the SDK's JSON names, so a test can say which fields a change may touch.
func balancingFields(t *testing.T, hc *clbsdk.HealthCheck, scheduler *string, session *int64) map[string]any {
	t.Helper()
	out := map[string]any{}
	if hc != nil {
		b, err := json.Marshal(hc)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	if scheduler != nil {
		out["Scheduler"] = *scheduler
	}
	if session != nil {
		out["SessionExpireTime"] = float64(*session)
	}
	return out
}

// changedAsWanted reports how after differs from before other than by want.
func changedAsWanted(before, after, want map[string]any) string {
	var diffs []string
	for k := range mergeKeys(before, after, want) {
		exp, changed := want[k]
		if !changed {
			exp = before[k]
		}
		if !reflect.DeepEqual(after[k], exp) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", k, after[k], exp))
		}
	}
	return strings.Join(diffs, "; ")
}

func mergeKeys(ms ...map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

func TestDescribeListenersBalancing(t *testing.T) {
	w := newBalWorld(t, Options{})
	tls := w.listener(t, "lb-bal00001", "lbl-tls00001")
	got := balancingFields(t, tls.HealthCheck, tls.Scheduler, tls.SessionExpireTime)
	want := map[string]any{
		"HealthSwitch": 1.0, "TimeOut": 2.0, "IntervalTime": 300.0, "HealthNum": 10.0, "UnHealthNum": 10.0,
		"CheckType": "TCP", "SourceIpType": 0.0, "Scheduler": "WRR", "SessionExpireTime": 0.0,
	}
	if diff := changedAsWanted(want, got, nil); diff != "" {
		t.Errorf("TCP_SSL listener: %s", diff)
	}
	if tcp := w.listener(t, "lb-bal00001", "lbl-tcp00001"); *tcp.Scheduler != "IP_HASH" || *tcp.SessionExpireTime != 60 {
		t.Errorf("TCP listener: scheduler %s, session %d", *tcp.Scheduler, *tcp.SessionExpireTime)
	}
	https := w.listener(t, "lb-bal00001", "lbl-https001")
	if https.HealthCheck != nil || https.Scheduler != nil {
		t.Errorf("an HTTPS listener balances per rule; it shows HealthCheck %v, Scheduler %v", https.HealthCheck, https.Scheduler)
	}
	www := w.rule(t, "lb-bal00001", "lbl-https001", "loc-www00001")
	got = balancingFields(t, www.HealthCheck, www.Scheduler, www.SessionExpireTime)
	want = map[string]any{
		"HealthSwitch": 1.0, "TimeOut": 2.0, "IntervalTime": 300.0, "HealthNum": 10.0, "UnHealthNum": 10.0,
		"CheckType": "HTTP", "HttpCode": 31.0, "HttpCheckPath": "/healthz", "HttpCheckDomain": "", "HttpCheckMethod": "HEAD",
		"SourceIpType": 0.0, "Scheduler": "WRR", "SessionExpireTime": 0.0,
	}
	if diff := changedAsWanted(want, got, nil); diff != "" {
		t.Errorf("rule www: %s", diff)
	}
	api := w.rule(t, "lb-bal00001", "lbl-https001", "loc-api00001")
	if *api.HealthCheck.HealthSwitch != 0 || *api.Scheduler != "LEAST_CONN" {
		t.Errorf("rule api: switch %d, scheduler %s", *api.HealthCheck.HealthSwitch, *api.Scheduler)
	}
	tlsRule := w.rule(t, "lb-bal00002", "lbl-https002", "loc-www00002")
	got = balancingFields(t, tlsRule.HealthCheck, tlsRule.Scheduler, tlsRule.SessionExpireTime)
	want = map[string]any{
		"HealthSwitch": 1.0, "TimeOut": 2.0, "IntervalTime": 300.0, "HealthNum": 10.0, "UnHealthNum": 10.0,
		"CheckType": "HTTPS", "HttpCode": 2.0, "HttpCheckPath": "/ready", "HttpCheckDomain": "", "HttpCheckMethod": "HEAD",
		"SourceIpType": 0.0, "Scheduler": "WRR", "SessionExpireTime": 0.0,
	}
	if diff := changedAsWanted(want, got, nil); diff != "" {
		t.Errorf("rule with an HTTPS check: %s", diff)
	}
}

// An HTTPS check has the HTTP check's path, domain, method and codes (the SDK's HealthCheck
// comments: "HTTP/HTTPS转发规则"); a change of them alone keeps the check HTTPS.
func TestModifyRuleHTTPSCheck(t *testing.T) {
	tests := []struct {
		name     string
		listener string
		location string
		hc       clbsdk.HealthCheck
		want     map[string]any
	}{
		{"path of an HTTPS check", "lbl-https002", "loc-www00002", clbsdk.HealthCheck{HttpCheckPath: ptr("/healthz")},
			map[string]any{"HttpCheckPath": "/healthz"}},
		{"domain, method and codes of an HTTPS check", "lbl-https002", "loc-www00002",
			clbsdk.HealthCheck{HttpCheckDomain: ptr("check.example.test"), HttpCheckMethod: ptr("GET"), HttpCode: ptr(int64(6))},
			map[string]any{"HttpCheckDomain": "check.example.test", "HttpCheckMethod": "GET", "HttpCode": 6.0}},
		{"HTTPS check back to HTTP", "lbl-https002", "loc-www00002", clbsdk.HealthCheck{CheckType: ptr("HTTP")},
			map[string]any{"CheckType": "HTTP"}},
		{"HTTP check of an HTTPS rule to HTTPS", "lbl-https001", "loc-www00001", clbsdk.HealthCheck{CheckType: ptr("HTTPS"), HttpCheckPath: ptr("/ready")},
			map[string]any{"CheckType": "HTTPS", "HttpCheckPath": "/ready"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBalWorld(t, Options{})
			lb := map[string]string{"lbl-https001": "lb-bal00001", "lbl-https002": "lb-bal00002"}[tt.listener]
			r := w.rule(t, lb, tt.listener, tt.location)
			before := balancingFields(t, r.HealthCheck, r.Scheduler, r.SessionExpireTime)
			req := clbsdk.NewModifyRuleRequest()
			req.LoadBalancerId, req.ListenerId, req.LocationId = ptr(lb), ptr(tt.listener), ptr(tt.location)
			req.HealthCheck = &tt.hc
			resp, err := w.gz.ModifyRule(req)
			if err != nil {
				t.Fatal(err)
			}
			w.done(t, resp.Response.RequestId)
			r = w.rule(t, lb, tt.listener, tt.location)
			if diff := changedAsWanted(before, balancingFields(t, r.HealthCheck, r.Scheduler, r.SessionExpireTime), tt.want); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestModifyListenerBalancing(t *testing.T) {
	tests := []struct {
		name     string
		listener string
		mod      func(*clbsdk.ModifyListenerRequest)
		want     map[string]any // the fields that change; every other one must keep its value
	}{
		{"health check off alone", "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{HealthSwitch: ptr(int64(0))}
		}, map[string]any{"HealthSwitch": 0.0}},
		{"interval and thresholds", "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{IntervalTime: ptr(int64(30)), HealthNum: ptr(int64(2)), UnHealthNum: ptr(int64(3))}
		}, map[string]any{"IntervalTime": 30.0, "HealthNum": 2.0, "UnHealthNum": 3.0}},
		{"HTTP check starts from the layer-7 defaults", "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCheckPath: ptr("/healthz")}
		}, map[string]any{"CheckType": "HTTP", "HttpCheckPath": "/healthz", "HttpCode": 31.0, "HttpCheckMethod": "HEAD", "HttpCheckDomain": ""}},
		{"scheduler", "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) { r.Scheduler = ptr("LEAST_CONN") },
			map[string]any{"Scheduler": "LEAST_CONN"}},
		{"session persistence of a TCP listener", "lbl-tcp00001", func(r *clbsdk.ModifyListenerRequest) {
			r.SessionExpireTime, r.Scheduler = ptr(int64(3600)), ptr("WRR")
		}, map[string]any{"SessionExpireTime": 3600.0, "Scheduler": "WRR"}},
		{"session persistence off", "lbl-tcp00001", func(r *clbsdk.ModifyListenerRequest) { r.SessionExpireTime = ptr(int64(0)) },
			map[string]any{"SessionExpireTime": 0.0}},
		{"HTTP check of a TCP listener with its domain", "lbl-tcp00001", func(r *clbsdk.ModifyListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCheckDomain: ptr("www.example.test"), HttpVersion: ptr("HTTP/1.1")}
		}, map[string]any{"CheckType": "HTTP", "HttpCheckPath": "/", "HttpCode": 31.0, "HttpCheckMethod": "HEAD", "HttpCheckDomain": "www.example.test", "HttpVersion": "HTTP/1.1"}},
		{"name and certificate only", "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) { r.ListenerName = ptr("renamed") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBalWorld(t, Options{})
			l := w.listener(t, "lb-bal00001", tt.listener)
			before := balancingFields(t, l.HealthCheck, l.Scheduler, l.SessionExpireTime)
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr(tt.listener)
			tt.mod(req)
			resp, err := w.gz.ModifyListener(req)
			if err != nil {
				t.Fatal(err)
			}
			w.done(t, resp.Response.RequestId)
			l = w.listener(t, "lb-bal00001", tt.listener)
			if diff := changedAsWanted(before, balancingFields(t, l.HealthCheck, l.Scheduler, l.SessionExpireTime), tt.want); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestModifyListenerBalancingRefusals(t *testing.T) {
	w := newBalWorld(t, Options{})
	hc := func(listener string, h clbsdk.HealthCheck) func(*clbsdk.ModifyListenerRequest) {
		return func(r *clbsdk.ModifyListenerRequest) { r.ListenerId, r.HealthCheck = ptr(listener), &h }
	}
	tests := []struct {
		name string
		mod  func(*clbsdk.ModifyListenerRequest)
		want string
	}{
		{"timeout not below the interval", hc("lbl-tls00001", clbsdk.HealthCheck{TimeOut: ptr(int64(10)), IntervalTime: ptr(int64(10))}), codeInvalidParameterValue},
		{"interval 1", hc("lbl-tls00001", clbsdk.HealthCheck{IntervalTime: ptr(int64(1)), TimeOut: ptr(int64(2))}), codeInvalidParameterValue},
		{"interval 301", hc("lbl-tls00001", clbsdk.HealthCheck{IntervalTime: ptr(int64(301))}), codeInvalidParameterValue},
		{"healthy threshold 11", hc("lbl-tls00001", clbsdk.HealthCheck{HealthNum: ptr(int64(11))}), codeInvalidParameterValue},
		{"unhealthy threshold 1", hc("lbl-tls00001", clbsdk.HealthCheck{UnHealthNum: ptr(int64(1))}), codeInvalidParameterValue},
		{"switch 2", hc("lbl-tls00001", clbsdk.HealthCheck{HealthSwitch: ptr(int64(2))}), codeInvalidParameterValue},
		{"HTTPS check of TCP_SSL", hc("lbl-tls00001", clbsdk.HealthCheck{CheckType: ptr("HTTPS")}), codeInvalidParameterValue},
		{"CUSTOM check (not simulated)", hc("lbl-tcp00001", clbsdk.HealthCheck{CheckType: ptr("CUSTOM")}), codeInvalidParameter},
		{"custom probe content", hc("lbl-tcp00001", clbsdk.HealthCheck{SendContext: ptr("PING")}), codeInvalidParameter},
		{"check port", hc("lbl-tcp00001", clbsdk.HealthCheck{CheckPort: ptr(int64(8080))}), codeInvalidParameter},
		{"HTTP check of TCP without domain", hc("lbl-tcp00001", clbsdk.HealthCheck{CheckType: ptr("HTTP")}), codeMissingParameter},
		{"HTTP check of TCP without HTTP version", hc("lbl-tcp00001", clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCheckDomain: ptr("www.example.test")}), codeMissingParameter},
		{"path without slash", hc("lbl-tls00001", clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCheckPath: ptr("healthz")}), codeInvalidParameterValue},
		{"method POST", hc("lbl-tls00001", clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCheckMethod: ptr("POST")}), codeInvalidParameterValue},
		{"status code mask 32", hc("lbl-tls00001", clbsdk.HealthCheck{CheckType: ptr("HTTP"), HttpCode: ptr(int64(32))}), codeInvalidParameterValue},
		{"bad HTTP version", hc("lbl-tcp00001", clbsdk.HealthCheck{HttpVersion: ptr("HTTP/2")}), codeInvalidParameterValue},
		{"unknown scheduler", func(r *clbsdk.ModifyListenerRequest) { r.Scheduler = ptr("RR") }, codeInvalidParameterValue},
		{"session persistence on TCP_SSL", func(r *clbsdk.ModifyListenerRequest) { r.SessionExpireTime = ptr(int64(60)) }, codeInvalidParameter},
		{"session 20 s", func(r *clbsdk.ModifyListenerRequest) {
			r.ListenerId, r.SessionExpireTime = ptr("lbl-tcp00001"), ptr(int64(20))
		}, codeInvalidParameterValue},
		{"session 3601 s", func(r *clbsdk.ModifyListenerRequest) {
			r.ListenerId, r.SessionExpireTime = ptr("lbl-tcp00001"), ptr(int64(3601))
		}, codeInvalidParameterValue},
		{"least connections with session persistence", func(r *clbsdk.ModifyListenerRequest) {
			r.ListenerId, r.Scheduler = ptr("lbl-tcp00001"), ptr("LEAST_CONN")
		}, codeInvalidParameter},
		{"scheduler of an HTTPS listener", func(r *clbsdk.ModifyListenerRequest) { r.ListenerId, r.Scheduler = ptr("lbl-https001"), ptr("WRR") }, codeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr("lbl-tls00001")
			tt.mod(req)
			if _, err := w.gz.ModifyListener(req); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// No refusal may have started a task or changed anything.
	rename := clbsdk.NewModifyListenerRequest()
	rename.LoadBalancerId, rename.ListenerId, rename.ListenerName = ptr("lb-bal00001"), ptr("lbl-tls00001"), ptr("x")
	if _, err := w.gz.ModifyListener(rename); err != nil {
		t.Errorf("a refused call left the load balancer busy: %v", err)
	}
	if l := w.listener(t, "lb-bal00001", "lbl-tcp00001"); *l.HealthCheck.CheckType != "TCP" || *l.Scheduler != "IP_HASH" || *l.SessionExpireTime != 60 {
		t.Errorf("a refused call changed the TCP listener: %+v", l)
	}
}

// TestBalancingTask: a change is invisible until its task is due, the load balancer refuses
// other changes meanwhile, and switching the check off and on restarts the targets' health.
func TestBalancingTask(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newBalWorld(t, Options{Now: clock.Now, TaskDelay: 3 * time.Second})
	setTargetCounters(t, w.s, "lb-bal00001", "lbl-tls00001", 4, 1)

	req := clbsdk.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr("lbl-tls00001")
	req.Scheduler, req.HealthCheck = ptr("IP_HASH"), &clbsdk.HealthCheck{HealthSwitch: ptr(int64(0))}
	resp, err := w.gz.ModifyListener(req)
	if err != nil {
		t.Fatal(err)
	}
	if l := w.listener(t, "lb-bal00001", "lbl-tls00001"); *l.Scheduler != "WRR" || *l.HealthCheck.HealthSwitch != 1 {
		t.Errorf("the change shows before its task is due: %s, switch %d", *l.Scheduler, *l.HealthCheck.HealthSwitch)
	}
	rule := clbsdk.NewModifyRuleRequest()
	rule.LoadBalancerId, rule.ListenerId, rule.LocationId, rule.Scheduler = ptr("lb-bal00001"), ptr("lbl-https001"), ptr("loc-www00001"), ptr("IP_HASH")
	if _, err := w.gz.ModifyRule(rule); sdkCode(err) != codeResourceInOperating {
		t.Errorf("ModifyRule on the busy load balancer: %v", err)
	}
	if got := taskStatus(t, w.gz, *resp.Response.RequestId); got != 2 {
		t.Errorf("status %d while running", got)
	}
	for addr, h := range w.s.TargetHealth("lb-bal00001", "lbl-tls00001", "") {
		if h != healthUnknown {
			t.Errorf("target %s is %s before the check is switched off", addr, h)
		}
	}

	clock.Advance(3 * time.Second)
	if l := w.listener(t, "lb-bal00001", "lbl-tls00001"); *l.Scheduler != "IP_HASH" || *l.HealthCheck.HealthSwitch != 0 {
		t.Errorf("after the task: %s, switch %d", *l.Scheduler, *l.HealthCheck.HealthSwitch)
	}
	wantTargetsHealth(t, w.s, "lb-bal00001", "lbl-tls00001", healthClose)

	setTargetCounters(t, w.s, "lb-bal00001", "lbl-tls00001", 4, 1)
	req = clbsdk.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr("lbl-tls00001")
	req.HealthCheck = &clbsdk.HealthCheck{HealthSwitch: ptr(int64(1))}
	if _, err := w.gz.ModifyListener(req); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second)
	wantTargetsHealth(t, w.s, "lb-bal00001", "lbl-tls00001", healthUnknown)
	if _, err := w.gz.ModifyRule(rule); err != nil {
		t.Errorf("the load balancer is idle again: %v", err)
	}
}

// setTargetCounters stands in for the data plane's checker: it gives every target of a
// listener some consecutive results, which a switch of the check must reset.
func setTargetCounters(t *testing.T, s *Sim, lbID, listenerID string, ok, fail int) {
	t.Helper()
	s.cloud.mu.Lock()
	defer s.cloud.mu.Unlock()
	_, l := s.cloud.findLocked(lbID, listenerID)
	if l == nil || len(l.Targets) == 0 {
		t.Fatalf("%s/%s has no targets", lbID, listenerID)
	}
	for _, tg := range l.Targets {
		tg.ok, tg.fail = ok, fail
	}
}

// wantTargetsHealth wants every target of a layer-4 listener in state health with its counters
// reset. The data plane's checker may have probed once since (never twice: the world's
// interval is 300 s), so one result is allowed.
func wantTargetsHealth(t *testing.T, s *Sim, lbID, listenerID, health string) {
	t.Helper()
	if got := s.TargetHealth(lbID, listenerID, ""); len(got) == 0 {
		t.Fatalf("%s/%s: no targets", lbID, listenerID)
	}
	s.cloud.mu.Lock()
	defer s.cloud.mu.Unlock()
	_, l := s.cloud.findLocked(lbID, listenerID)
	for _, tg := range l.Targets {
		if tg.Health != health || tg.ok+tg.fail > 1 {
			t.Errorf("target %s:%d is %s (ok %d, fail %d), want %s with counters reset", tg.IP, tg.Port, tg.Health, tg.ok, tg.fail, health)
		}
	}
}

func TestModifyRule(t *testing.T) {
	tests := []struct {
		name     string
		location string
		mod      func(*clbsdk.ModifyRuleRequest)
		want     map[string]any
		url      string
	}{
		{"health check path and thresholds", "loc-www00001", func(r *clbsdk.ModifyRuleRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{HttpCheckPath: ptr("/status"), UnHealthNum: ptr(int64(3)), HealthNum: ptr(int64(2)), IntervalTime: ptr(int64(30))}
		}, map[string]any{"HttpCheckPath": "/status", "UnHealthNum": 3.0, "HealthNum": 2.0, "IntervalTime": 30.0}, "/"},
		{"GET with a host", "loc-www00001", func(r *clbsdk.ModifyRuleRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{HttpCheckMethod: ptr("GET"), HttpCheckDomain: ptr("check.example.test"), HttpCode: ptr(int64(2))}
		}, map[string]any{"HttpCheckMethod": "GET", "HttpCheckDomain": "check.example.test", "HttpCode": 2.0}, "/"},
		{"check on again", "loc-api00001", func(r *clbsdk.ModifyRuleRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{HealthSwitch: ptr(int64(1))}
		}, map[string]any{"HealthSwitch": 1.0}, "/api"},
		{"IP hash with a day of persistence", "loc-www00001", func(r *clbsdk.ModifyRuleRequest) {
			r.Scheduler, r.SessionExpireTime = ptr("IP_HASH"), ptr(int64(86400))
		}, map[string]any{"Scheduler": "IP_HASH", "SessionExpireTime": 86400.0}, "/"},
		{"new path", "loc-api00001", func(r *clbsdk.ModifyRuleRequest) { r.Url, r.ForwardType = ptr("/v2/api"), ptr("HTTP") }, nil, "/v2/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBalWorld(t, Options{})
			r := w.rule(t, "lb-bal00001", "lbl-https001", tt.location)
			before := balancingFields(t, r.HealthCheck, r.Scheduler, r.SessionExpireTime)
			req := clbsdk.NewModifyRuleRequest()
			req.LoadBalancerId, req.ListenerId, req.LocationId = ptr("lb-bal00001"), ptr("lbl-https001"), ptr(tt.location)
			tt.mod(req)
			resp, err := w.gz.ModifyRule(req)
			if err != nil {
				t.Fatal(err)
			}
			if r := w.rule(t, "lb-bal00001", "lbl-https001", tt.location); !reflect.DeepEqual(balancingFields(t, r.HealthCheck, r.Scheduler, r.SessionExpireTime), before) {
				t.Errorf("the change shows before DescribeTaskStatus")
			}
			w.done(t, resp.Response.RequestId)
			r = w.rule(t, "lb-bal00001", "lbl-https001", tt.location)
			if diff := changedAsWanted(before, balancingFields(t, r.HealthCheck, r.Scheduler, r.SessionExpireTime), tt.want); diff != "" {
				t.Error(diff)
			}
			if *r.Url != tt.url {
				t.Errorf("Url %s, want %s", *r.Url, tt.url)
			}
		})
	}
}

func TestModifyRuleRefusals(t *testing.T) {
	w := newBalWorld(t, Options{})
	tests := []struct {
		name string
		mod  func(*clbsdk.ModifyRuleRequest)
		want string
	}{
		{"no LocationId", func(r *clbsdk.ModifyRuleRequest) { r.LocationId = nil }, codeMissingParameter},
		{"unknown location", func(r *clbsdk.ModifyRuleRequest) { r.LocationId = ptr("loc-nothere1") }, codeLocationNotFound},
		{"location of another listener", func(r *clbsdk.ModifyRuleRequest) { r.LocationId = ptr("loc-www00002") }, codeLocationNotFound},
		{"unknown listener", func(r *clbsdk.ModifyRuleRequest) { r.ListenerId = ptr("lbl-nothere1") }, codeListenerIDNotFound},
		{"load balancer of another region", func(r *clbsdk.ModifyRuleRequest) { r.LoadBalancerId = ptr("lb-balsh001") }, codeLBIDNotFound},
		{"malformed load balancer id", func(r *clbsdk.ModifyRuleRequest) { r.LoadBalancerId = ptr("bal-1") }, codeFormatError},
		{"a TCP_SSL listener has no rules", func(r *clbsdk.ModifyRuleRequest) { r.ListenerId = ptr("lbl-tls00001") }, codeInvalidParameter},
		{"path of another rule", func(r *clbsdk.ModifyRuleRequest) { r.Url = ptr("/api") }, codeValueDuplicate},
		{"path without slash", func(r *clbsdk.ModifyRuleRequest) { r.Url = ptr("api") }, codeInvalidParameterValue},
		{"path with a space", func(r *clbsdk.ModifyRuleRequest) { r.Url = ptr("/a b") }, codeInvalidParameterValue},
		{"path of 201 characters", func(r *clbsdk.ModifyRuleRequest) { r.Url = ptr("/" + strings.Repeat("a", 200)) }, codeValueLength},
		{"session 86401 s", func(r *clbsdk.ModifyRuleRequest) { r.SessionExpireTime = ptr(int64(86401)) }, codeInvalidParameterValue},
		{"session 29 s", func(r *clbsdk.ModifyRuleRequest) { r.SessionExpireTime = ptr(int64(29)) }, codeInvalidParameterValue},
		{"least connections with persistence", func(r *clbsdk.ModifyRuleRequest) {
			r.Scheduler, r.SessionExpireTime = ptr("LEAST_CONN"), ptr(int64(60))
		}, codeInvalidParameter},
		{"persistence on a least-connections rule", func(r *clbsdk.ModifyRuleRequest) {
			r.LocationId, r.SessionExpireTime = ptr("loc-api00001"), ptr(int64(60))
		}, codeInvalidParameter},
		{"TCP check of an HTTP rule", func(r *clbsdk.ModifyRuleRequest) { r.HealthCheck = &clbsdk.HealthCheck{CheckType: ptr("TCP")} }, codeInvalidParameterValue},
		{"GRPC check (not simulated)", func(r *clbsdk.ModifyRuleRequest) { r.HealthCheck = &clbsdk.HealthCheck{CheckType: ptr("GRPC")} }, codeInvalidParameter},
		{"timeout over the interval", func(r *clbsdk.ModifyRuleRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{TimeOut: ptr(int64(60)), IntervalTime: ptr(int64(30))}
		}, codeInvalidParameterValue},
		{"HTTPS to the backends (not simulated)", func(r *clbsdk.ModifyRuleRequest) { r.ForwardType = ptr("HTTPS") }, codeInvalidParameter},
		{"unknown forward type", func(r *clbsdk.ModifyRuleRequest) { r.ForwardType = ptr("FTP") }, codeInvalidParameterValue},
		{"TRPC", func(r *clbsdk.ModifyRuleRequest) { r.TrpcCallee, r.TrpcFunc = ptr("svc"), ptr("f") }, codeInvalidParameter},
		{"OAuth", func(r *clbsdk.ModifyRuleRequest) { r.OAuth = &clbsdk.OAuth{OAuthEnable: ptr(true)} }, codeInvalidParameter},
		{"cookie name", func(r *clbsdk.ModifyRuleRequest) { r.CookieName = ptr("sid") }, codeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := clbsdk.NewModifyRuleRequest()
			req.LoadBalancerId, req.ListenerId, req.LocationId = ptr("lb-bal00001"), ptr("lbl-https001"), ptr("loc-www00001")
			tt.mod(req)
			if _, err := w.gz.ModifyRule(req); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	req := clbsdk.NewModifyRuleRequest()
	req.LoadBalancerId, req.ListenerId, req.LocationId, req.Url = ptr("lb-bal00001"), ptr("lbl-https001"), ptr("loc-www00001"), ptr("/")
	if _, err := w.gz.ModifyRule(req); err != nil {
		t.Errorf("a refused call left the load balancer busy, or keeping a rule's own path is refused: %v", err)
	}
}

func TestCLBBalancingRateLimit(t *testing.T) {
	w := newBalWorld(t, Options{RateLimits: map[string]int{"DescribeTargetHealth": 1}})
	req := clbsdk.NewDescribeTargetHealthRequest()
	req.LoadBalancerIds = []*string{ptr("lb-bal00001")}
	if _, err := w.gz.DescribeTargetHealth(req); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gz.DescribeTargetHealth(req); sdkCode(err) != codeRequestLimitExceeded {
		t.Errorf("over the limit: %v", err)
	}
}
