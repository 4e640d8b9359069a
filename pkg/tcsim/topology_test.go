package tcsim

import (
	"strings"
	"testing"
)

// TestTopologyBalancingValidation: a topology's balancing, backends and customized
// configurations are checked like the API checks them, each refusal naming what is wrong.
func TestTopologyBalancingValidation(t *testing.T) {
	base := func() Topology {
		return Topology{
			Backends: []BackendSpec{{ID: "web1"}},
			LoadBalancers: []LoadBalancerSpec{{ID: "lb-top00001", Region: gz, Listeners: []ListenerSpec{
				{Protocol: "TCP_SSL", CertID: "Www00001", BalancingSpec: BalancingSpec{Targets: []TargetSpec{{Backend: "web1"}}}},
				{Protocol: "HTTP", Rules: []RuleSpec{{Domain: "www.example.test", BalancingSpec: BalancingSpec{
					Scheduler: "IP_HASH", SessionExpireTime: 60, Targets: []TargetSpec{{IP: "127.0.0.1", Port: 8080}},
				}}}},
			}}},
			CustomizedConfigs: []CustomizedConfigSpec{{Name: "tls", Content: "ssl_protocols TLSv1.2 TLSv1.3;", LoadBalancerIDs: []string{"lb-top00001"}}},
		}
	}
	if err := checkTopology(base()); err != nil {
		t.Fatalf("the base topology is valid: %v", err)
	}
	l4 := func(mod func(*BalancingSpec)) func(*Topology) {
		return func(top *Topology) { mod(&top.LoadBalancers[0].Listeners[0].BalancingSpec) }
	}
	l7 := func(mod func(*BalancingSpec)) func(*Topology) {
		return func(top *Topology) { mod(&top.LoadBalancers[0].Listeners[1].Rules[0].BalancingSpec) }
	}
	weight := func(w int) *int { return &w }
	tests := []struct {
		name string
		mod  func(*Topology)
		want string // part of the error
	}{
		{"unknown scheduler", l4(func(b *BalancingSpec) { b.Scheduler = "RANDOM" }), `scheduler "RANDOM"`},
		{"session 20 s", l7(func(b *BalancingSpec) { b.SessionExpireTime = 20 }), "sessionExpireTime 20"},
		{"timeout not below the interval", l4(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{TimeOut: 5, IntervalTime: 5} }), "TimeOut 5 must be less"},
		{"healthy threshold 1", l7(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{HealthNum: 1} }), "HealthNum 1"},
		{"interval 301", l4(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{IntervalTime: 301} }), "IntervalTime 301"},
		{"GRPC check", l7(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{CheckType: "GRPC"} }), `CheckType "GRPC"`},
		{"HTTPS check of an HTTP rule", l7(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{CheckType: "HTTPS"} }), "CheckType HTTPS is for rules of HTTPS listeners, not HTTP ones"},
		{"HTTPS check of a TCP_SSL listener", l4(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{CheckType: "HTTPS"} }), "not TCP_SSL ones"},
		{"path without slash", l7(func(b *BalancingSpec) { b.HealthCheck = &HealthCheckSpec{HTTPCheckPath: "healthz"} }), "HttpCheckPath"},
		{"target on an unknown backend", l4(func(b *BalancingSpec) { b.Targets = []TargetSpec{{Backend: "web9"}} }), `backend "web9"`},
		{"target with backend and address", l4(func(b *BalancingSpec) { b.Targets = []TargetSpec{{Backend: "web1", Port: 80}} }), "not both"},
		{"target off loopback", l7(func(b *BalancingSpec) { b.Targets = []TargetSpec{{IP: "10.0.0.1", Port: 80}} }), "not a loopback IP"},
		{"target port 0", l7(func(b *BalancingSpec) { b.Targets = []TargetSpec{{IP: "127.0.0.1"}} }), "port 0"},
		{"weight 101", l4(func(b *BalancingSpec) { b.Targets[0].Weight = weight(101) }), "weight 101"},
		{"target twice", l7(func(b *BalancingSpec) { b.Targets = append(b.Targets, TargetSpec{IP: "127.0.0.1", Port: 8080}) }), "registered twice"},
		{"listener-level targets on a layer-7 listener", func(top *Topology) {
			top.LoadBalancers[0].Listeners[1].Targets = []TargetSpec{{Backend: "web1"}}
		}, "balances per rule"},
		{"backend without id", func(top *Topology) { top.Backends = append(top.Backends, BackendSpec{Port: 80}) }, "needs an id"},
		{"backend twice", func(top *Topology) { top.Backends = append(top.Backends, BackendSpec{ID: "web1"}) }, "id used twice"},
		{"backend off loopback", func(top *Topology) { top.Backends[0].IP = "192.0.2.1" }, "not a loopback IP"},
		{"configuration naming an unknown load balancer", func(top *Topology) {
			top.CustomizedConfigs[0].LoadBalancerIDs = []string{"lb-nothere1"}
		}, `"lb-nothere1" is not in the topology`},
		{"two configurations on one load balancer", func(top *Topology) {
			top.CustomizedConfigs = append(top.CustomizedConfigs, CustomizedConfigSpec{Content: "keepalive_timeout 60;", LoadBalancerIDs: []string{"lb-top00001"}})
		}, "already has customized config"},
		{"configuration with a bad protocol", func(top *Topology) { top.CustomizedConfigs[0].Content = "ssl_protocols SSLv3;" }, `"SSLv3"`},
		{"configuration in another region than its load balancer", func(top *Topology) { top.CustomizedConfigs[0].Region = sh }, "is in ap-guangzhou"},
		{"configuration without region or load balancer", func(top *Topology) { top.CustomizedConfigs[0].LoadBalancerIDs = nil }, "needs a region"},
		{"malformed configuration id", func(top *Topology) { top.CustomizedConfigs[0].ID = "tls" }, "pz-abc12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := base()
			tt.mod(&top)
			err := checkTopology(top)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
