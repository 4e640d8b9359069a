package tcsim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/internal/clocktest"
)

func setConfig(op string, mod func(*clbsdk.SetCustomizedConfigForLoadBalancerRequest)) *clbsdk.SetCustomizedConfigForLoadBalancerRequest {
	req := clbsdk.NewSetCustomizedConfigForLoadBalancerRequest()
	req.OperationType = ptr(op)
	if mod != nil {
		mod(req)
	}
	return req
}

func bindConfig(op, id string, lbIDs ...string) *clbsdk.SetCustomizedConfigForLoadBalancerRequest {
	return setConfig(op, func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.UconfigId = ptr(id)
		for _, lb := range lbIDs {
			r.LoadBalancerIds = append(r.LoadBalancerIds, ptr(lb))
		}
	})
}

// configs lists the region's CLB-type configurations as "id name content".
func configs(t *testing.T, c *clbsdk.Client, mod func(*clbsdk.DescribeCustomizedConfigListRequest)) []string {
	t.Helper()
	req := clbsdk.NewDescribeCustomizedConfigListRequest()
	req.ConfigType = ptr("CLB")
	if mod != nil {
		mod(req)
	}
	resp, err := c.DescribeCustomizedConfigList(req)
	if err != nil {
		t.Fatalf("DescribeCustomizedConfigList: %v", err)
	}
	out := []string{}
	for _, cfg := range resp.Response.ConfigList {
		if *cfg.ConfigType != "CLB" || *cfg.CreateTimestamp == "" || *cfg.UpdateTimestamp < *cfg.CreateTimestamp {
			t.Errorf("configuration %+v", *cfg)
		}
		out = append(out, *cfg.UconfigId+" "+*cfg.ConfigName+" "+*cfg.ConfigContent)
	}
	return out
}

func boundLBs(t *testing.T, c *clbsdk.Client, id string) []string {
	t.Helper()
	req := clbsdk.NewDescribeCustomizedConfigAssociateListRequest()
	req.UconfigId = ptr(id)
	resp, err := c.DescribeCustomizedConfigAssociateList(req)
	if err != nil {
		t.Fatalf("DescribeCustomizedConfigAssociateList: %v", err)
	}
	out := []string{}
	for _, b := range resp.Response.BindList {
		out = append(out, *b.LoadBalancerId)
	}
	if int(*resp.Response.TotalCount) != len(out) {
		t.Errorf("TotalCount %d for %v", *resp.Response.TotalCount, out)
	}
	return out
}

var defaultProtocols = []string{"TLSv1", "TLSv1.1", "TLSv1.2"}

func TestCustomizedConfigLifecycle(t *testing.T) {
	w := newBalWorld(t, Options{})
	added, err := w.gz.SetCustomizedConfigForLoadBalancer(setConfig("ADD", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.ConfigName, r.ConfigContent = ptr("modern-tls"), ptr("ssl_protocols TLSv1.2 TLSv1.3;\nkeepalive_timeout 60;")
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := *added.Response.ConfigId
	if !isResourceID(id, "pz-") || len(id) != len("pz-")+8 {
		t.Errorf("ConfigId %q", id)
	}
	if got := configs(t, w.gz, nil); !slices.Equal(got, []string{id + " modern-tls ssl_protocols TLSv1.2 TLSv1.3;\nkeepalive_timeout 60;"}) {
		t.Errorf("after ADD, before polling (ADD is synchronous): %q", got)
	}
	w.done(t, added.Response.RequestId)
	if got := configs(t, w.gz, func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.ConfigType = ptr("SERVER") }); len(got) != 0 {
		t.Errorf("SERVER configurations: %v", got)
	}
	if got := configs(t, w.sh, nil); len(got) != 0 {
		t.Errorf("another region lists %v", got)
	}

	bind, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("BIND", id, "lb-bal00001"))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.s.SSLProtocols("lb-bal00001"); !slices.Equal(got, defaultProtocols) {
		t.Errorf("protocols %v before the BIND task completes", got)
	}
	if got := boundLBs(t, w.gz, id); len(got) != 0 {
		t.Errorf("bound to %v before the task completes", got)
	}
	if _, err := w.gz.ModifyListener(func() *clbsdk.ModifyListenerRequest {
		r := clbsdk.NewModifyListenerRequest()
		r.LoadBalancerId, r.ListenerId, r.ListenerName = ptr("lb-bal00001"), ptr("lbl-tls00001"), ptr("x")
		return r
	}()); sdkCode(err) != codeResourceInOperating {
		t.Errorf("the load balancer is busy while the configuration binds: %v", err)
	}
	w.done(t, bind.Response.RequestId)
	if got := w.s.SSLProtocols("lb-bal00001"); !slices.Equal(got, []string{"TLSv1.2", "TLSv1.3"}) {
		t.Errorf("protocols %v after BIND", got)
	}
	if got := w.s.SSLProtocols("lb-bal00002"); !slices.Equal(got, defaultProtocols) {
		t.Errorf("another load balancer's protocols changed: %v", got)
	}
	if got := boundLBs(t, w.gz, id); !slices.Equal(got, []string{"lb-bal00001"}) {
		t.Errorf("AssociateList %v", got)
	}
	byLB := func(name, value string) func(*clbsdk.DescribeCustomizedConfigListRequest) {
		return func(r *clbsdk.DescribeCustomizedConfigListRequest) {
			r.Filters = []*clbsdk.Filter{{Name: ptr(name), Values: []*string{ptr(value)}}}
		}
	}
	if got := configs(t, w.gz, byLB("loadbalancer-id", "lb-bal00001")); len(got) != 1 {
		t.Errorf("by load balancer: %v", got)
	}
	if got := configs(t, w.gz, byLB("vip", "127.0.0.61")); len(got) != 1 {
		t.Errorf("by VIP: %v", got)
	}
	if got := configs(t, w.gz, byLB("vip", "127.0.0.62")); len(got) != 0 {
		t.Errorf("by another VIP: %v", got)
	}

	update, err := w.gz.SetCustomizedConfigForLoadBalancer(setConfig("UPDATE", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.UconfigId, r.ConfigContent = ptr(id), ptr("ssl_protocols TLSv1.3;")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := configs(t, w.gz, nil); !strings.Contains(got[0], "TLSv1.2 TLSv1.3") || !slices.Equal(w.s.SSLProtocols("lb-bal00001"), []string{"TLSv1.2", "TLSv1.3"}) {
		t.Errorf("UPDATE of a bound configuration shows before its task: %v", got)
	}
	w.done(t, update.Response.RequestId)
	if got := w.s.SSLProtocols("lb-bal00001"); !slices.Equal(got, []string{"TLSv1.3"}) {
		t.Errorf("protocols %v after UPDATE", got)
	}
	if got := configs(t, w.gz, nil); !slices.Equal(got, []string{id + " modern-tls ssl_protocols TLSv1.3;"}) {
		t.Errorf("after UPDATE: %q (the name stays)", got)
	}

	if _, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("DELETE", id)); sdkCode(err) != codeFailedOperation {
		t.Errorf("DELETE of a bound configuration: %v", err)
	}
	unbind, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("UNBIND", id, "lb-bal00001"))
	if err != nil {
		t.Fatal(err)
	}
	w.done(t, unbind.Response.RequestId)
	if got := w.s.SSLProtocols("lb-bal00001"); !slices.Equal(got, defaultProtocols) {
		t.Errorf("protocols %v after UNBIND", got)
	}
	rename, err := w.gz.SetCustomizedConfigForLoadBalancer(setConfig("UPDATE", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.UconfigId, r.ConfigName = ptr(id), ptr("renamed")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := configs(t, w.gz, nil); !slices.Equal(got, []string{id + " renamed ssl_protocols TLSv1.3;"}) {
		t.Errorf("UPDATE of an unbound configuration applies at once: %q", got)
	}
	st := clbsdk.NewDescribeTaskStatusRequest()
	st.TaskId = rename.Response.RequestId
	if resp, err := w.gz.DescribeTaskStatus(st); err != nil || *resp.Response.Status != 0 || len(resp.Response.LoadBalancerIds) != 0 {
		t.Errorf("the task of an unbound UPDATE: %v %+v", err, resp)
	}
	if _, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("DELETE", id)); err != nil {
		t.Fatal(err)
	}
	if got := configs(t, w.gz, nil); len(got) != 0 {
		t.Errorf("after DELETE: %v", got)
	}
}

func TestCustomizedConfigBindsSeveral(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newBalWorld(t, Options{Now: clock.Now, TaskDelay: 2 * time.Second, Topology: Topology{
		CustomizedConfigs: []CustomizedConfigSpec{{ID: "pz-tls00001", Name: "tls", Region: gz, Content: "ssl_protocols TLSv1.2;"}},
	}})
	resp, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("BIND", "pz-tls00001", "lb-bal00001", "lb-bal00002"))
	if err != nil {
		t.Fatal(err)
	}
	st := clbsdk.NewDescribeTaskStatusRequest()
	st.TaskId = resp.Response.RequestId
	status, err := w.gz.DescribeTaskStatus(st)
	if err != nil || *status.Response.Status != 2 || strings.Join(common.StringValues(status.Response.LoadBalancerIds), ",") != "lb-bal00001,lb-bal00002" {
		t.Fatalf("task %v %+v", err, status)
	}
	for _, lb := range []string{"lb-bal00001", "lb-bal00002"} {
		req := clbsdk.NewModifyRuleRequest()
		req.LoadBalancerId, req.ListenerId, req.LocationId = ptr(lb), ptr("lbl-https002"), ptr("loc-www00002")
		if lb == "lb-bal00001" {
			req.ListenerId, req.LocationId = ptr("lbl-https001"), ptr("loc-www00001")
		}
		if _, err := w.gz.ModifyRule(req); sdkCode(err) != codeResourceInOperating {
			t.Errorf("%s is not busy: %v", lb, err)
		}
	}
	if _, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("DELETE", "pz-tls00001")); sdkCode(err) != codeResourceInOperating {
		t.Errorf("DELETE while binding: %v", err)
	}
	if _, err := w.gz.SetCustomizedConfigForLoadBalancer(setConfig("UPDATE", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.UconfigId, r.ConfigName = ptr("pz-tls00001"), ptr("x")
	})); sdkCode(err) != codeResourceInOperating {
		t.Errorf("UPDATE while binding: %v", err)
	}
	clock.Advance(2 * time.Second)
	for _, lb := range []string{"lb-bal00001", "lb-bal00002"} {
		if got := w.s.SSLProtocols(lb); !slices.Equal(got, []string{"TLSv1.2"}) {
			t.Errorf("%s allows %v once the task is due", lb, got)
		}
	}
	if got := boundLBs(t, w.gz, "pz-tls00001"); !slices.Equal(got, []string{"lb-bal00001", "lb-bal00002"}) {
		t.Errorf("bound to %v", got)
	}
}

func TestCustomizedConfigRefusals(t *testing.T) {
	w := newBalWorld(t, Options{Topology: Topology{CustomizedConfigs: []CustomizedConfigSpec{
		{ID: "pz-bound001", Name: "bound", Content: "ssl_protocols TLSv1.2 TLSv1.3;", LoadBalancerIDs: []string{"lb-bal00002"}},
		{ID: "pz-free0001", Name: "free", Region: gz, Content: "keepalive_timeout 60;"},
		{ID: "pz-shanghai", Name: "far", Region: sh, Content: "keepalive_timeout 60;"},
	}}})
	add := func(name, content string) *clbsdk.SetCustomizedConfigForLoadBalancerRequest {
		return setConfig("ADD", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
			r.ConfigName, r.ConfigContent = ptr(name), ptr(content)
		})
	}
	tests := []struct {
		name    string
		req     *clbsdk.SetCustomizedConfigForLoadBalancerRequest
		want    string
		message string
	}{
		{"no operation", clbsdk.NewSetCustomizedConfigForLoadBalancerRequest(), codeMissingParameter, ""},
		{"unknown operation", setConfig("CREATE", nil), codeInvalidParameterValue, ""},
		{"ADD without name", setConfig("ADD", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
			r.ConfigContent = ptr("keepalive_timeout 60;")
		}), codeMissingParameter, ""},
		{"ADD without content", setConfig("ADD", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) { r.ConfigName = ptr("x") }), codeMissingParameter, ""},
		{"ADD with an id", func() *clbsdk.SetCustomizedConfigForLoadBalancerRequest {
			r := add("x", "keepalive_timeout 60;")
			r.UconfigId = ptr("pz-free0001")
			return r
		}(), codeInvalidParameter, ""},
		{"ADD and bind at once", func() *clbsdk.SetCustomizedConfigForLoadBalancerRequest {
			r := add("x", "keepalive_timeout 60;")
			r.LoadBalancerIds = []*string{ptr("lb-bal00001")}
			return r
		}(), codeInvalidParameter, ""},
		{"SSLv3", add("x", "ssl_protocols SSLv3 TLSv1.2;"), codeInvalidParameterValue, `ssl_protocols value "SSLv3"`},
		{"lower-case protocol", add("x", "ssl_protocols tlsv1.2;"), codeInvalidParameterValue, "ssl_protocols value"},
		{"directive CLB does not allow", add("x", "gzip on;"), codeInvalidParameterValue, `directive "gzip" is not allowed`},
		{"missing semicolon", add("x", "ssl_protocols TLSv1.2"), codeInvalidParameterValue, "does not end with ;"},
		{"ssl_protocols twice", add("x", "ssl_protocols TLSv1.2; ssl_protocols TLSv1.3;"), codeInvalidParameterValue, "appears twice"},
		{"empty content", add("x", " \n"), codeInvalidParameterValue, ""},
		{"61-character name", add(strings.Repeat("n", 61), "keepalive_timeout 60;"), codeValueLength, ""},
		{"UPDATE without a change", bindConfig("UPDATE", "pz-free0001"), codeMissingParameter, ""},
		{"UPDATE with bad content", setConfig("UPDATE", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
			r.UconfigId, r.ConfigContent = ptr("pz-bound001"), ptr("ssl_protocols TLSv1.4;")
		}), codeInvalidParameterValue, "TLSv1.4"},
		{"unknown configuration", bindConfig("DELETE", "pz-nothere1"), codeInvalidParameter, ""},
		{"configuration of another region", bindConfig("BIND", "pz-shanghai", "lb-bal00001"), codeInvalidParameter, ""},
		{"malformed id", bindConfig("DELETE", "config-1"), codeFormatError, ""},
		{"DELETE a bound configuration", bindConfig("DELETE", "pz-bound001"), codeFailedOperation, ""},
		{"DELETE with load balancers", bindConfig("DELETE", "pz-free0001", "lb-bal00001"), codeInvalidParameter, ""},
		{"BIND without load balancers", bindConfig("BIND", "pz-free0001"), codeMissingParameter, ""},
		{"BIND with content", setConfig("BIND", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
			r.UconfigId, r.ConfigContent, r.LoadBalancerIds = ptr("pz-free0001"), ptr("keepalive_timeout 60;"), []*string{ptr("lb-bal00001")}
		}), codeInvalidParameter, ""},
		{"BIND a load balancer of another region", bindConfig("BIND", "pz-free0001", "lb-balsh001"), codeLBIDNotFound, ""},
		{"BIND a second configuration", bindConfig("BIND", "pz-free0001", "lb-bal00002"), codeInvalidParameter, "pz-bound001"},
		{"BIND a load balancer twice", bindConfig("BIND", "pz-free0001", "lb-bal00001", "lb-bal00001"), codeInvalidParameterValue, ""},
		{"BIND a malformed load balancer id", bindConfig("BIND", "pz-free0001", "bal-1"), codeFormatError, ""},
		{"UNBIND what is not bound", bindConfig("UNBIND", "pz-free0001", "lb-bal00001"), codeInvalidParameter, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.gz.SetCustomizedConfigForLoadBalancer(tt.req)
			if sdkCode(err) != tt.want || !strings.Contains(errMessage(err), tt.message) {
				t.Errorf("got %v, want %s with %q", err, tt.want, tt.message)
			}
		})
	}
	if got := configs(t, w.gz, nil); len(got) != 2 {
		t.Errorf("a refused call changed the configurations: %v", got)
	}
	if got := w.s.SSLProtocols("lb-bal00002"); !slices.Equal(got, []string{"TLSv1.2", "TLSv1.3"}) {
		t.Errorf("the topology's binding: %v", got)
	}
	resp, err := w.gz.SetCustomizedConfigForLoadBalancer(bindConfig("UNBIND", "pz-bound001", "lb-bal00002"))
	if err != nil {
		t.Fatalf("no refusal may leave a load balancer busy: %v", err)
	}
	w.done(t, resp.Response.RequestId)
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCustomizedConfigLimit(t *testing.T) {
	var specs []CustomizedConfigSpec
	for range maxConfigsPerRegion {
		specs = append(specs, CustomizedConfigSpec{Region: gz, Name: "filler", Content: "keepalive_timeout 60;"})
	}
	w := newBalWorld(t, Options{Topology: Topology{CustomizedConfigs: specs}})
	add := setConfig("ADD", func(r *clbsdk.SetCustomizedConfigForLoadBalancerRequest) {
		r.ConfigName, r.ConfigContent = ptr("one more"), ptr("ssl_protocols TLSv1.2;")
	})
	if _, err := w.gz.SetCustomizedConfigForLoadBalancer(add); sdkCode(err) != codeLimitExceeded {
		t.Errorf("configuration 201 of a region: %v", err)
	}
	if _, err := w.sh.SetCustomizedConfigForLoadBalancer(add); err != nil {
		t.Errorf("the limit is per region: %v", err)
	}
}

func TestDescribeCustomizedConfigList(t *testing.T) {
	w := newBalWorld(t, Options{Topology: Topology{CustomizedConfigs: []CustomizedConfigSpec{
		{ID: "pz-aaaa0001", Name: "web-tls", Content: "ssl_protocols TLSv1.2;", LoadBalancerIDs: []string{"lb-bal00001"}},
		{ID: "pz-bbbb0002", Name: "api-tls", Region: gz, Content: "ssl_protocols TLSv1.3;"},
		{ID: "pz-cccc0003", Name: "web-timeouts", Region: gz, Content: "keepalive_timeout 60;"},
	}}})
	ids := func(got []string) []string {
		out := []string{}
		for _, g := range got {
			out = append(out, strings.Fields(g)[0])
		}
		return out
	}
	tests := []struct {
		name  string
		mod   func(*clbsdk.DescribeCustomizedConfigListRequest)
		want  []string
		total int64
		code  string
	}{
		{"all", nil, []string{"pz-aaaa0001", "pz-bbbb0002", "pz-cccc0003"}, 3, ""},
		{"name contains", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.ConfigName = ptr("web") }, []string{"pz-aaaa0001", "pz-cccc0003"}, 2, ""},
		{"by id", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.UconfigIds = []*string{ptr("pz-bbbb0002")} }, []string{"pz-bbbb0002"}, 1, ""},
		{"page", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.Offset, r.Limit = ptr(int64(1)), ptr(int64(1)) }, []string{"pz-bbbb0002"}, 3, ""},
		{"LOCATION type", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.ConfigType = ptr("LOCATION") }, []string{}, 0, ""},
		{"no type", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.ConfigType = nil }, nil, 0, codeMissingParameter},
		{"unknown type", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.ConfigType = ptr("ALL") }, nil, 0, codeInvalidParameterValue},
		{"limit 101", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.Limit = ptr(int64(101)) }, nil, 0, codeValueRange},
		{"unknown filter", func(r *clbsdk.DescribeCustomizedConfigListRequest) {
			r.Filters = []*clbsdk.Filter{{Name: ptr("name"), Values: []*string{ptr("x")}}}
		}, nil, 0, codeInvalidFilter},
		{"malformed id", func(r *clbsdk.DescribeCustomizedConfigListRequest) { r.UconfigIds = []*string{ptr("web-tls")} }, nil, 0, codeFormatError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := clbsdk.NewDescribeCustomizedConfigListRequest()
			req.ConfigType = ptr("CLB")
			if tt.mod != nil {
				tt.mod(req)
			}
			resp, err := w.gz.DescribeCustomizedConfigList(req)
			if sdkCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, c := range resp.Response.ConfigList {
				got = append(got, *c.UconfigId)
			}
			if !slices.Equal(ids(got), tt.want) || *resp.Response.TotalCount != tt.total {
				t.Errorf("got %v (total %d), want %v (%d)", got, *resp.Response.TotalCount, tt.want, tt.total)
			}
		})
	}

	if got := boundLBs(t, w.gz, "pz-aaaa0001"); !slices.Equal(got, []string{"lb-bal00001"}) {
		t.Errorf("topology binding: %v", got)
	}
	assoc := clbsdk.NewDescribeCustomizedConfigAssociateListRequest()
	assoc.UconfigId, assoc.Domain = ptr("pz-aaaa0001"), ptr("www.example.test")
	if resp, err := w.gz.DescribeCustomizedConfigAssociateList(assoc); err != nil || len(resp.Response.BindList) != 0 {
		t.Errorf("a CLB-type binding has no domain: %v", err)
	}
	for _, id := range []*string{nil, ptr("pz-nothere1"), ptr("x")} {
		assoc := clbsdk.NewDescribeCustomizedConfigAssociateListRequest()
		assoc.UconfigId = id
		want := map[bool]string{true: codeMissingParameter, false: codeInvalidParameter}[id == nil]
		if id != nil && *id == "x" {
			want = codeFormatError
		}
		if _, err := w.gz.DescribeCustomizedConfigAssociateList(assoc); sdkCode(err) != want {
			t.Errorf("AssociateList of %v: %v, want %s", deref(id), err, want)
		}
	}
}

// TestDumpShowsBalancing: the state dumped on a failed test has the balancing, targets and
// configurations.
func TestDumpShowsBalancing(t *testing.T) {
	w := newBalWorld(t, Options{Topology: Topology{CustomizedConfigs: []CustomizedConfigSpec{
		{ID: "pz-dump0001", Name: "tls", Content: "ssl_protocols TLSv1.2;", LoadBalancerIDs: []string{"lb-bal00001"}},
	}}})
	raw, err := w.s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Cloud cloudDump `json:"cloud"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Cloud.Configs) != 1 || !slices.Equal(d.Cloud.Configs[0].BoundTo, []string{"lb-bal00001"}) || d.Cloud.LoadBalancers[0].ConfigID != "pz-dump0001" {
		t.Errorf("configurations %+v", d.Cloud.Configs)
	}
	tls := d.Cloud.LoadBalancers[0].Listeners[0]
	if tls.Balancing == nil || tls.Balancing.Scheduler != "WRR" || len(tls.Balancing.Targets) != 2 ||
		tls.Balancing.Targets[0].Addr != w.backend("web1") || tls.Balancing.Targets[0].Weight != 3 {
		t.Errorf("layer-4 balancing %+v", tls.Balancing)
	}
	https := d.Cloud.LoadBalancers[0].Listeners[2]
	if https.Balancing != nil || len(https.Rules) != 2 || https.Rules[1].Balancing.Scheduler != "LEAST_CONN" || https.Rules[1].Balancing.Health.On {
		t.Errorf("layer-7 balancing %+v", https)
	}
}
