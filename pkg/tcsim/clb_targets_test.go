package tcsim

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/internal/eventually"
)

func ipTarget(ip string, port int64) *clbsdk.Target {
	return &clbsdk.Target{EniIp: ptr(ip), Port: ptr(port)}
}

// targetsOf is "IP:PORT weight tag" of each target DescribeTargets shows on a layer-4 listener
// (locationID "") or a rule.
func (w *balWorld) targetsOf(t *testing.T, lbID, listenerID, locationID string) []string {
	t.Helper()
	req := clbsdk.NewDescribeTargetsRequest()
	req.LoadBalancerId, req.ListenerIds = ptr(lbID), []*string{ptr(listenerID)}
	resp, err := w.gz.DescribeTargets(req)
	if err != nil || len(resp.Response.Listeners) != 1 {
		t.Fatalf("DescribeTargets: %v", err)
	}
	l := resp.Response.Listeners[0]
	backends := l.Targets
	for _, r := range l.Rules {
		if *r.LocationId == locationID {
			backends = r.Targets
		}
	}
	out := []string{}
	for _, b := range backends {
		out = append(out, fmt.Sprintf("%s:%d %d %s", *b.PrivateIpAddresses[0], *b.Port, *b.Weight, *b.Tag))
	}
	slices.Sort(out)
	return out
}

func TestRegisterTargets(t *testing.T) {
	w := newBalWorld(t, Options{})
	web1, web2 := w.backend("web1"), w.backend("web2")
	tests := []struct {
		name                string
		listener, location  string
		mod                 func(*clbsdk.RegisterTargetsRequest)
		want                []string
		wantHealth          string
		health              map[string]string // TargetHealth after, for the whole listener or rule
		locationForDescribe string
	}{
		{"layer 4 with weight and tag", "lbl-tls00001", "", func(r *clbsdk.RegisterTargetsRequest) {
			tg := ipTarget("127.0.0.1", 9001)
			tg.Weight, tg.Tag = ptr(int64(0)), ptr("canary")
			r.Targets = []*clbsdk.Target{tg}
		}, sorted(web1+" 3 ", web2+" 10 ", "127.0.0.1:9001 0 canary"), healthUnknown, nil, ""},
		{"rule by LocationId", "lbl-https001", "loc-www00001", func(r *clbsdk.RegisterTargetsRequest) {
			r.LocationId, r.Targets = ptr("loc-www00001"), []*clbsdk.Target{ipTarget("127.0.0.1", 9002), ipTarget("127.0.0.2", 9002)}
		}, sorted(web1+" 10 ", "127.0.0.1:9002 10 ", "127.0.0.2:9002 10 "), healthUnknown, nil, "loc-www00001"},
		{"rule by Domain and Url, check off", "lbl-https001", "loc-api00001", func(r *clbsdk.RegisterTargetsRequest) {
			r.Domain, r.Url, r.Targets = ptr("WWW.example.test"), ptr("/api"), []*clbsdk.Target{ipTarget("127.0.0.1", 9003)}
		}, sorted(web2+" 10 ", "127.0.0.1:9003 10 "), healthClose, nil, "loc-api00001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.targetsOf(t, "lb-bal00001", tt.listener, tt.location)
			req := clbsdk.NewRegisterTargetsRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr(tt.listener)
			tt.mod(req)
			resp, err := w.gz.RegisterTargets(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.targetsOf(t, "lb-bal00001", tt.listener, tt.location); !slices.Equal(got, before) {
				t.Errorf("targets %v before the task completed, want %v", got, before)
			}
			w.done(t, resp.Response.RequestId)
			if got := w.targetsOf(t, "lb-bal00001", tt.listener, tt.location); !slices.Equal(got, tt.want) {
				t.Errorf("targets %v, want %v", got, tt.want)
			}
			for _, tg := range req.Targets {
				addr := net.JoinHostPort(*tg.EniIp, strconv.FormatInt(*tg.Port, 10))
				if got := w.s.TargetHealth("lb-bal00001", tt.listener, tt.location)[addr]; got != tt.wantHealth {
					t.Errorf("new target %s is %q, want %s", addr, got, tt.wantHealth)
				}
			}
		})
	}

	req := clbsdk.NewDescribeTargetsRequest()
	req.LoadBalancerId, req.ListenerIds = ptr("lb-bal00001"), []*string{ptr("lbl-tls00001")}
	resp, err := w.gz.DescribeTargets(req)
	if err != nil {
		t.Fatal(err)
	}
	l := resp.Response.Listeners[0]
	if l.Rules != nil || *l.Protocol != "TCP_SSL" || *l.Port == 0 {
		t.Errorf("layer-4 listener %+v", *l)
	}
	for _, b := range l.Targets {
		registered, err := time.ParseInLocation(dnspodTimeLayout, *b.RegisteredTime, time.FixedZone("CST", 8*3600))
		if *b.Type != "ENI" || len(b.PrivateIpAddresses) != 1 || err != nil || time.Since(registered) > time.Hour {
			t.Errorf("backend %+v (RegisteredTime: %v)", *b, err)
		}
	}
}

func TestTargetRefusals(t *testing.T) {
	w := newBalWorld(t, Options{})
	web1 := w.backend("web1")
	host, port, _ := net.SplitHostPort(web1)
	web1Port, _ := strconv.ParseInt(port, 10, 64)
	register := func(listener string, mod func(*clbsdk.RegisterTargetsRequest)) func() error {
		return func() error {
			req := clbsdk.NewRegisterTargetsRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-bal00001"), ptr(listener)
			req.Targets = []*clbsdk.Target{ipTarget("127.0.0.1", 9100)}
			mod(req)
			_, err := w.gz.RegisterTargets(req)
			return err
		}
	}
	l4 := func(mod func(*clbsdk.RegisterTargetsRequest)) func() error { return register("lbl-tls00001", mod) }
	targets := func(ts ...*clbsdk.Target) func(*clbsdk.RegisterTargetsRequest) {
		return func(r *clbsdk.RegisterTargetsRequest) { r.Targets = ts }
	}
	many := make([]*clbsdk.Target, 21)
	for i := range many {
		many[i] = ipTarget("127.0.0.1", int64(9200+i))
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"InstanceId", l4(targets(&clbsdk.Target{InstanceId: ptr("ins-abc12345"), Port: ptr(int64(80))})), codeInvalidParameter},
		{"InstanceId and EniIp", l4(targets(&clbsdk.Target{InstanceId: ptr("ins-abc12345"), EniIp: ptr("127.0.0.1"), Port: ptr(int64(80))})), codeInvalidParameter},
		{"no address", l4(targets(&clbsdk.Target{Port: ptr(int64(80))})), codeMissingParameter},
		{"no port", l4(targets(&clbsdk.Target{EniIp: ptr("127.0.0.1")})), codeMissingParameter},
		{"port 0", l4(targets(ipTarget("127.0.0.1", 0))), codeInvalidParameterValue},
		{"port 65536", l4(targets(ipTarget("127.0.0.1", 65536))), codeInvalidParameterValue},
		{"not loopback", l4(targets(ipTarget("10.0.0.5", 80))), codeInvalidParameterValue},
		{"not an IP", l4(targets(ipTarget("web1", 80))), codeInvalidParameterValue},
		{"weight 101", l4(func(r *clbsdk.RegisterTargetsRequest) { r.Targets[0].Weight = ptr(int64(101)) }), codeInvalidParameterValue},
		{"twice in one call", l4(targets(ipTarget("127.0.0.1", 9100), ipTarget("127.0.0.1", 9100))), codeValueDuplicate},
		{"already bound", l4(targets(ipTarget(host, web1Port))), codeValueDuplicate},
		{"21 targets", l4(targets(many...)), codeValueLength},
		{"no targets", l4(targets()), codeMissingParameter},
		{"rule on a layer-4 listener", l4(func(r *clbsdk.RegisterTargetsRequest) { r.LocationId = ptr("loc-www00001") }), codeInvalidParameter},
		{"layer 7 without a rule", register("lbl-https001", func(*clbsdk.RegisterTargetsRequest) {}), codeMissingParameter},
		{"layer 7 with Domain only", register("lbl-https001", func(r *clbsdk.RegisterTargetsRequest) { r.Domain = ptr("www.example.test") }), codeMissingParameter},
		{"unknown location", register("lbl-https001", func(r *clbsdk.RegisterTargetsRequest) { r.LocationId = ptr("loc-nothere1") }), codeLocationNotFound},
		{"unknown Domain and Url", register("lbl-https001", func(r *clbsdk.RegisterTargetsRequest) {
			r.Domain, r.Url = ptr("www.example.test"), ptr("/nothere")
		}), codeLocationNotFound},
		{"unknown listener", register("lbl-nothere1", func(*clbsdk.RegisterTargetsRequest) {}), codeListenerIDNotFound},
		{"deregister an unbound target", func() error {
			req := clbsdk.NewDeregisterTargetsRequest()
			req.LoadBalancerId, req.ListenerId, req.Targets = ptr("lb-bal00001"), ptr("lbl-tls00001"), []*clbsdk.Target{ipTarget("127.0.0.1", 9100)}
			_, err := w.gz.DeregisterTargets(req)
			return err
		}, codeInvalidParameter},
		{"weight of an unbound target", func() error {
			req := clbsdk.NewModifyTargetWeightRequest()
			req.LoadBalancerId, req.ListenerId, req.Targets = ptr("lb-bal00001"), ptr("lbl-tls00001"), []*clbsdk.Target{ipTarget("127.0.0.1", 9100)}
			_, err := w.gz.ModifyTargetWeight(req)
			return err
		}, codeInvalidParameter},
		{"request weight 101", func() error {
			req := clbsdk.NewModifyTargetWeightRequest()
			req.LoadBalancerId, req.ListenerId, req.Weight = ptr("lb-bal00001"), ptr("lbl-tls00001"), ptr(int64(101))
			req.Targets = []*clbsdk.Target{ipTarget(host, web1Port)}
			_, err := w.gz.ModifyTargetWeight(req)
			return err
		}, codeInvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}

	// Busy: the first change holds the load balancer until its task is polled.
	resp, err := w.gz.RegisterTargets(func() *clbsdk.RegisterTargetsRequest {
		req := clbsdk.NewRegisterTargetsRequest()
		req.LoadBalancerId, req.ListenerId, req.Targets = ptr("lb-bal00001"), ptr("lbl-tls00001"), []*clbsdk.Target{ipTarget("127.0.0.1", 9100)}
		return req
	}())
	if err != nil {
		t.Fatalf("nothing refused left the load balancer busy or changed: %v", err)
	}
	if err := register("lbl-https001", func(r *clbsdk.RegisterTargetsRequest) { r.LocationId = ptr("loc-www00001") })(); sdkCode(err) != codeResourceInOperating {
		t.Errorf("busy load balancer: %v", err)
	}
	w.done(t, resp.Response.RequestId)
}

func TestDeregisterAndWeight(t *testing.T) {
	w := newBalWorld(t, Options{})
	web1, web2 := w.backend("web1"), w.backend("web2")
	target := func(addr string, weight *int64) *clbsdk.Target {
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.ParseInt(port, 10, 64)
		tg := ipTarget(host, p)
		tg.Weight = weight
		return tg
	}
	weight := clbsdk.NewModifyTargetWeightRequest()
	weight.LoadBalancerId, weight.ListenerId = ptr("lb-bal00001"), ptr("lbl-tls00001")
	weight.Targets, weight.Weight = []*clbsdk.Target{target(web1, nil), target(web2, ptr(int64(7)))}, ptr(int64(50))
	resp, err := w.gz.ModifyTargetWeight(weight)
	if err != nil {
		t.Fatal(err)
	}
	w.done(t, resp.Response.RequestId)
	if got, want := w.targetsOf(t, "lb-bal00001", "lbl-tls00001", ""), sorted(web1+" 50 ", web2+" 7 "); !slices.Equal(got, want) {
		t.Errorf("after ModifyTargetWeight: %v, want %v (a target's own weight wins)", got, want)
	}
	weight.Weight, weight.Targets = nil, []*clbsdk.Target{target(web1, nil)}
	resp, err = w.gz.ModifyTargetWeight(weight)
	if err != nil {
		t.Fatal(err)
	}
	w.done(t, resp.Response.RequestId)
	if got, want := w.targetsOf(t, "lb-bal00001", "lbl-tls00001", ""), sorted(web1+" 10 ", web2+" 7 "); !slices.Equal(got, want) {
		t.Errorf("without any weight: %v, want %v (the default 10)", got, want)
	}

	dereg := clbsdk.NewDeregisterTargetsRequest()
	dereg.LoadBalancerId, dereg.ListenerId, dereg.LocationId = ptr("lb-bal00001"), ptr("lbl-https001"), ptr("loc-www00001")
	dereg.Targets = []*clbsdk.Target{target(web1, nil)}
	dresp, err := w.gz.DeregisterTargets(dereg)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.s.TargetHealth("lb-bal00001", "lbl-https001", "loc-www00001"); len(got) != 1 {
		t.Errorf("deregistered before the task: %v", got)
	}
	w.done(t, dresp.Response.RequestId)
	if got := w.s.TargetHealth("lb-bal00001", "lbl-https001", "loc-www00001"); len(got) != 0 {
		t.Errorf("after DeregisterTargets: %v", got)
	}
	if got := w.targetsOf(t, "lb-bal00001", "lbl-https001", "loc-api00001"); !slices.Equal(got, []string{web2 + " 10 "}) {
		t.Errorf("the other rule lost targets: %v", got)
	}
}

func TestDescribeTargets(t *testing.T) {
	w := newBalWorld(t, Options{})
	web1, web2 := w.backend("web1"), w.backend("web2")
	web1IP, _, _ := net.SplitHostPort(web1)
	type shape map[string][]string // listener or listener/location → target addresses
	describe := func(mod func(*clbsdk.DescribeTargetsRequest)) (shape, error) {
		req := clbsdk.NewDescribeTargetsRequest()
		req.LoadBalancerId = ptr("lb-bal00001")
		mod(req)
		resp, err := w.gz.DescribeTargets(req)
		if err != nil {
			return nil, err
		}
		out := shape{}
		add := func(key string, bs []*clbsdk.Backend) {
			out[key] = []string{}
			for _, b := range bs {
				out[key] = append(out[key], net.JoinHostPort(*b.PrivateIpAddresses[0], strconv.FormatInt(*b.Port, 10)))
			}
			slices.Sort(out[key])
		}
		for _, l := range resp.Response.Listeners {
			if l.Rules == nil {
				add(*l.ListenerId, l.Targets)
			}
			for _, r := range l.Rules {
				add(*l.ListenerId+"/"+*r.LocationId, r.Targets)
			}
		}
		return out, nil
	}
	filter := func(name string, values ...string) func(*clbsdk.DescribeTargetsRequest) {
		return func(r *clbsdk.DescribeTargetsRequest) {
			f := &clbsdk.Filter{Name: ptr(name)}
			for _, v := range values {
				f.Values = append(f.Values, ptr(v))
			}
			r.Filters = append(r.Filters, f)
		}
	}
	all := shape{
		"lbl-tls00001": sorted(web1, web2), "lbl-tcp00001": {},
		"lbl-https001/loc-www00001": {web1}, "lbl-https001/loc-api00001": {web2},
	}
	tests := []describeCase[clbsdk.DescribeTargetsRequest, shape]{
		{"everything", func(*clbsdk.DescribeTargetsRequest) {}, all, ""},
		{"by listener", func(r *clbsdk.DescribeTargetsRequest) { r.ListenerIds = []*string{ptr("lbl-tcp00001")} }, shape{"lbl-tcp00001": {}}, ""},
		{"by protocol", func(r *clbsdk.DescribeTargetsRequest) { r.Protocol = ptr("HTTPS") },
			shape{"lbl-https001/loc-www00001": {web1}, "lbl-https001/loc-api00001": {web2}}, ""},
		{"by location", filter("location-id", "loc-api00001"), shape{"lbl-https001/loc-api00001": {web2}}, ""},
		{"by private IP", filter("private-ip-address", "127.0.0.9"), shape{}, ""},
		{"by private IP of web1", filter("private-ip-address", web1IP), shape{
			"lbl-tls00001": sorted(web1, web2), "lbl-https001/loc-www00001": {web1}, "lbl-https001/loc-api00001": {web2},
		}, ""},
		{"by tag", filter("tag", "canary"), shape{}, ""},
		{"unknown filter", filter("colour", "red"), nil, codeInvalidFilter},
		{"bad protocol", func(r *clbsdk.DescribeTargetsRequest) { r.Protocol = ptr("SMTP") }, nil, codeInvalidParameterValue},
		{"21 listeners", func(r *clbsdk.DescribeTargetsRequest) {
			for i := range 21 {
				r.ListenerIds = append(r.ListenerIds, ptr("lbl-x"+strconv.Itoa(i)))
			}
		}, nil, codeValueLength},
		{"other region", func(r *clbsdk.DescribeTargetsRequest) { r.LoadBalancerId = ptr("lb-balsh001") }, nil, codeLBIDNotFound},
		{"no load balancer", func(r *clbsdk.DescribeTargetsRequest) { r.LoadBalancerId = nil }, nil, codeMissingParameter},
	}
	runDescribeCases(t, describe, tests)
}

// describeCase is a row of a describe table: mod changes the table's base
// request; the answer, in fmt.Sprint's form, is want, or the call fails with code.
type describeCase[R, W any] struct {
	name string
	mod  func(*R)
	want W
	code string
}

// runDescribeCases runs each case through describe.
func runDescribeCases[R, W any](t *testing.T, describe func(func(*R)) (W, error), cases []describeCase[R, W]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := describe(tt.mod)
			if sdkCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err == nil && fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDescribeTargetHealth(t *testing.T) {
	w := newBalWorld(t, Options{})
	web1, web2 := w.backend("web1"), w.backend("web2")
	type report map[string]string // lb/listener/location addr → HealthStatusDetail (HealthStatus)
	describe := func(mod func(*clbsdk.DescribeTargetHealthRequest)) (report, error) {
		req := clbsdk.NewDescribeTargetHealthRequest()
		req.LoadBalancerIds = []*string{ptr("lb-bal00001"), ptr("lb-bal00002")}
		mod(req)
		resp, err := w.gz.DescribeTargetHealth(req)
		if err != nil {
			return nil, err
		}
		out := report{}
		for _, lb := range resp.Response.LoadBalancers {
			for _, l := range lb.Listeners {
				for _, r := range l.Rules {
					if (r.Domain == nil) != (*r.LocationId == "") {
						t.Errorf("%s/%s: LocationId %q with Domain %v", *lb.LoadBalancerId, *l.ListenerId, *r.LocationId, r.Domain)
					}
					key := *lb.LoadBalancerId + "/" + *l.ListenerId + "/" + *r.LocationId
					out[key] = ""
					for _, tg := range r.Targets {
						if *tg.HealthStatusDetial != *tg.HealthStatusDetail || *tg.TargetId != *tg.IP {
							t.Errorf("target %+v", *tg)
						}
						out[key] += fmt.Sprintf("%s:%d=%s(%v,%d) ", *tg.IP, *tg.Port, *tg.HealthStatusDetail, *tg.HealthStatus, *tg.Weight)
					}
				}
			}
		}
		return out, nil
	}
	tests := []describeCase[clbsdk.DescribeTargetHealthRequest, report]{
		{"everything", func(*clbsdk.DescribeTargetHealthRequest) {}, report{
			"lb-bal00001/lbl-tls00001/":             web1 + "=Unknown(false,3) " + web2 + "=Unknown(false,10) ",
			"lb-bal00001/lbl-tcp00001/":             "",
			"lb-bal00001/lbl-https001/loc-www00001": web1 + "=Unknown(false,10) ",
			"lb-bal00001/lbl-https001/loc-api00001": web2 + "=Close(true,10) ",
			"lb-bal00002/lbl-https002/loc-www00002": "",
		}, ""},
		{"by listener", func(r *clbsdk.DescribeTargetHealthRequest) { r.ListenerIds = []*string{ptr("lbl-tls00001")} }, report{
			"lb-bal00001/lbl-tls00001/": web1 + "=Unknown(false,3) " + web2 + "=Unknown(false,10) ",
		}, ""},
		{"by location", func(r *clbsdk.DescribeTargetHealthRequest) { r.LocationIds = []*string{ptr("loc-api00001")} }, report{
			"lb-bal00001/lbl-https001/loc-api00001": web2 + "=Close(true,10) ",
		}, ""},
		{"no ids", func(r *clbsdk.DescribeTargetHealthRequest) { r.LoadBalancerIds = nil }, nil, codeMissingParameter},
		{"31 ids", func(r *clbsdk.DescribeTargetHealthRequest) {
			r.LoadBalancerIds = nil
			for i := range 31 {
				r.LoadBalancerIds = append(r.LoadBalancerIds, ptr("lb-x"+strconv.Itoa(i)))
			}
		}, nil, codeValueLength},
		{"unknown load balancer", func(r *clbsdk.DescribeTargetHealthRequest) { r.LoadBalancerIds = []*string{ptr("lb-nothere1")} }, nil, codeLBIDNotFound},
		{"other region", func(r *clbsdk.DescribeTargetHealthRequest) {
			r.LoadBalancerIds = append(r.LoadBalancerIds, ptr("lb-balsh001"))
		}, nil, codeLBIDNotFound},
		{"malformed id", func(r *clbsdk.DescribeTargetHealthRequest) { r.LoadBalancerIds = []*string{ptr("bal-1")} }, nil, codeFormatError},
	}
	runDescribeCases(t, describe, tests)
}

// TestTargetHealthFromChecker reads what the data plane's health checker found about real
// backends: web2 answers 503 on /healthz, web1 200.
func TestTargetHealthFromChecker(t *testing.T) {
	check := &HealthCheckSpec{IntervalTime: 3, HealthNum: 2, UnHealthNum: 2, HTTPCheckPath: HealthPath, HTTPCode: 2}
	s := startSim(t, Options{HealthCheckUnit: 20 * time.Millisecond, Topology: Topology{
		Backends: []BackendSpec{{ID: "up"}, {ID: "down", Unhealthy: true}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-check001", Region: gz, VIP: "127.0.0.65", Listeners: []ListenerSpec{
			{ID: "lbl-http0001", Protocol: "HTTP", Rules: []RuleSpec{{LocationID: "loc-check001", Domain: "www.example.test", BalancingSpec: BalancingSpec{
				HealthCheck: check, Targets: []TargetSpec{{Backend: "up"}, {Backend: "down"}},
			}}}},
		}}},
	}})
	up, down := s.BackendAddr("up"), s.BackendAddr("down")
	eventually.Succeeds(t, 10*time.Second, func() error {
		if h := s.TargetHealth("lb-check001", "lbl-http0001", "loc-check001"); h[up] != healthAlive || h[down] != healthDead {
			return fmt.Errorf("the checker has not decided: %v", h)
		}
		return nil
	})
	req := clbsdk.NewDescribeTargetHealthRequest()
	req.LoadBalancerIds = []*string{ptr("lb-check001")}
	resp, err := clbClient(t, s, gz).DescribeTargetHealth(req)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range resp.Response.LoadBalancers[0].Listeners[0].Rules[0].Targets {
		got[net.JoinHostPort(*tg.IP, strconv.FormatInt(*tg.Port, 10))] = fmt.Sprintf("%s %v", *tg.HealthStatusDetail, *tg.HealthStatus)
	}
	if got[up] != "Alive true" || got[down] != "Dead false" {
		t.Errorf("DescribeTargetHealth: %v", got)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
