package inventory_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func TestDirectives(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // name(args)@start-end ...
	}{
		{"empty", "", ""},
		{"two", "a 1;\nb 2 3;\n", "a(1)@0-4 b(2,3)@5-11"},
		{"last without ;", "a 1;\nb 2", "a(1)@0-4 b(2)@5-8"},
		{"quoted ; and spaces", `add_header X "a; b";`, `add_header(X,a; b)@0-20`},
		{"comment", "# ssl_protocols TLSv1;\na 1;", "a(1)@23-27"},
		{"blank statements", ";; a 1;", "a(1)@3-7"},
	}
	for _, tt := range tests {
		var got []string
		for _, d := range inventory.Directives(tt.in) {
			got = append(got, fmt.Sprintf("%s(%s)@%d-%d", d.Name, strings.Join(d.Args, ","), d.Start, d.End))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: Directives(%q) = %v, want %s", tt.name, tt.in, got, tt.want)
		}
	}
}

// configAccount: lb-cfg1 with its own configuration, lb-cfg2 and lb-cfg3
// sharing one without ssl_protocols, lb-cfg4 with none.
func configAccount() tcsim.Options {
	var lbs []tcsim.LoadBalancerSpec
	for i := 1; i <= 4; i++ {
		lbs = append(lbs, tcsim.LoadBalancerSpec{ID: fmt.Sprintf("lb-cfg%d", i), Region: "ap-guangzhou", VIP: fmt.Sprintf("127.0.0.%d", 30+i),
			Listeners: []tcsim.ListenerSpec{{Protocol: "HTTP", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}}}})
	}
	return tcsim.Options{Topology: tcsim.Topology{
		LoadBalancers: lbs,
		CustomizedConfigs: []tcsim.CustomizedConfigSpec{
			{ID: "pz-own00001", Name: "own", Content: "ssl_protocols TLSv1.2 TLSv1.3;\nkeepalive_timeout 60;", LoadBalancerIDs: []string{"lb-cfg1"}},
			{ID: "pz-shared01", Name: "shared", Content: "keepalive_timeout 30;", LoadBalancerIDs: []string{"lb-cfg3", "lb-cfg2"}},
			{ID: "pz-free0001", Name: "clbcert-lb-cfg4", Region: "ap-guangzhou", Content: "keepalive_timeout 10;"},
		},
	}}
}

func TestCustomizedConfigs(t *testing.T) {
	sim := simtest.Start(t, configAccount())
	c, err := inventory.New(simtest.Config(t, sim), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// lb-cfg3 is not asked about, but shares lb-cfg2's configuration.
	got, err := c.CustomizedConfigs(ctx, "ap-guangzhou", []string{"lb-cfg1", "lb-cfg2", "lb-cfg4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("configurations %+v, want lb-cfg1's and lb-cfg2's", got)
	}
	if own := got["lb-cfg1"]; own.ID != "pz-own00001" || own.Shared() || strings.Join(own.LoadBalancerIDs, " ") != "lb-cfg1" {
		t.Errorf("lb-cfg1's = %+v", own)
	}
	if shared := got["lb-cfg2"]; shared.ID != "pz-shared01" || !shared.Shared() || strings.Join(shared.LoadBalancerIDs, " ") != "lb-cfg2 lb-cfg3" {
		t.Errorf("lb-cfg2's = %+v", shared)
	}

	for lb, want := range map[string]string{"lb-cfg1": "TLSv1.2 TLSv1.3", "lb-cfg2": "TLSv1 TLSv1.1 TLSv1.2", "lb-cfg4": "TLSv1 TLSv1.1 TLSv1.2"} {
		var cfg *inventory.CustomizedConfig
		if own, ok := got[lb]; ok {
			cfg = &own
		}
		protocols, configured := inventory.EffectiveTLSProtocols(cfg)
		if got := strings.Join(protocols, " "); got != want || configured != (lb == "lb-cfg1") {
			t.Errorf("EffectiveTLSProtocols(%s) = %q, %v; want %q", lb, got, configured, want)
		}
		// tcsim's listeners enforce the same.
		if served := strings.Join(sim.SSLProtocols(lb), " "); served != want {
			t.Errorf("tcsim serves %s with %q, want %q", lb, served, want)
		}
	}

	named, err := c.CustomizedConfigNamed(ctx, "ap-guangzhou", "clbcert-lb-cfg4")
	if err != nil || named == nil || named.ID != "pz-free0001" || len(named.LoadBalancerIDs) != 0 {
		t.Errorf("CustomizedConfigNamed = %+v, %v", named, err)
	}
	// ConfigName matches substrings; the lookup is exact.
	if named, err := c.CustomizedConfigNamed(ctx, "ap-guangzhou", "clbcert-lb-cfg"); err != nil || named != nil {
		t.Errorf("CustomizedConfigNamed(a prefix) = %+v, %v", named, err)
	}
}

// TargetHealth asks about 30 load balancers a call and reports each
// target of a layer-4 listener and of a rule with its health.
func TestTargetHealth(t *testing.T) {
	var lbs []tcsim.LoadBalancerSpec
	var ids []string
	for i := range 31 {
		id := fmt.Sprintf("lb-th%d", i)
		ids = append(ids, id)
		lbs = append(lbs, tcsim.LoadBalancerSpec{ID: id, Region: "ap-guangzhou", VIP: "127.0.0.40", Listeners: []tcsim.ListenerSpec{
			{ID: fmt.Sprintf("lbl-tcp%d", i), Protocol: "TCP", BalancingSpec: tcsim.BalancingSpec{Targets: []tcsim.TargetSpec{{Backend: "up"}}}},
		}})
	}
	check := &tcsim.HealthCheckSpec{HTTPCheckPath: tcsim.HealthPath, HTTPCode: 2, HealthNum: 2, UnHealthNum: 2}
	lbs[0].Listeners = append(lbs[0].Listeners, tcsim.ListenerSpec{ID: "lbl-http0", Protocol: "HTTP", Rules: []tcsim.RuleSpec{
		{LocationID: "loc-www0", Domain: "www.example.test", BalancingSpec: tcsim.BalancingSpec{HealthCheck: check, Targets: []tcsim.TargetSpec{{Backend: "up"}, {Backend: "down"}}}},
	}})
	sim := simtest.Start(t, tcsim.Options{HealthCheckUnit: 5 * time.Millisecond, Topology: tcsim.Topology{
		Backends:      []tcsim.BackendSpec{{ID: "up"}, {ID: "down", Unhealthy: true}},
		LoadBalancers: lbs,
	}})
	cfg := simtest.Config(t, sim)
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 1}
	c, err := inventory.New(cfg, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []inventory.TargetHealth
	eventually.Succeeds(t, 10*time.Second, func() error {
		before := sim.Calls("DescribeTargetHealth")
		if got, err = c.TargetHealth(context.Background(), "ap-guangzhou", ids); err != nil {
			t.Fatal(err)
		}
		if n := sim.Calls("DescribeTargetHealth") - before; n != 2 {
			t.Fatalf("%d DescribeTargetHealth calls for 31 load balancers, want 2", n)
		}
		if s := statuses(got, "lbl-http0"); s != "Alive Dead" {
			return fmt.Errorf("rule targets %s, want Alive Dead", s)
		}
		return nil
	})
	if len(got) != 33 {
		t.Fatalf("%d targets, want 31 layer-4 ones and 2 of the rule", len(got))
	}
	for _, th := range got {
		switch {
		case th.ListenerID == "lbl-http0" && (th.LocationID != "loc-www0" || th.Domain != "www.example.test" || th.URL != "/" || th.Healthy != (th.Status == inventory.HealthAlive)):
			t.Errorf("rule target %+v", th)
		case th.ListenerID != "lbl-http0" && (th.LocationID != "" || th.Domain != "" || th.Port == 0 || th.Addr() != sim.BackendAddr("up")):
			t.Errorf("layer-4 target %+v", th)
		}
	}
}

// statuses lists the health of listener's targets, sorted.
func statuses(ths []inventory.TargetHealth, listener string) string {
	var out []string
	for _, th := range ths {
		if th.ListenerID == listener {
			out = append(out, th.Status)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
