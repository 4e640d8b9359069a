package clb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    clb.Address
		wantErr string
	}{
		{in: "lb-abc", want: clb.Address{Region: "r", LoadBalancerID: "lb-abc"}},
		{in: "lb-abc/lbl-1", want: clb.Address{Region: "r", LoadBalancerID: "lb-abc", ListenerID: "lbl-1"}},
		{in: " lb-abc/lbl-1/API.Example.com ", want: clb.Address{Region: "r", LoadBalancerID: "lb-abc", ListenerID: "lbl-1", Domain: "api.example.com"}},
		{in: "lb-abc/lbl-1/loc-9z", want: clb.Address{Region: "r", LoadBalancerID: "lb-abc", ListenerID: "lbl-1", LocationID: "loc-9z"}},
		{in: "lb-abc/lbl-1/loc-9z.example.com", want: clb.Address{Region: "r", LoadBalancerID: "lb-abc", ListenerID: "lbl-1", Domain: "loc-9z.example.com"}},
		{in: "", wantErr: "has an empty part"},
		{in: "lbl-1", wantErr: "does not start with a load balancer id"},
		{in: "lb-abc/", wantErr: "has an empty part"},
		{in: "lb-abc/x", wantErr: "has no listener id"},
		{in: "lb-abc/loc-1", wantErr: "has no listener id"},
		{in: "lb-abc/lbl-1/", wantErr: "has an empty part"},
		{in: "lb-abc/lbl-1/a/b", wantErr: "has too many parts"},
	}
	for _, tt := range tests {
		got, err := clb.ParseAddress("r", tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "write lb-id, lb-id/lbl-id") {
				t.Errorf("ParseAddress(%q) = %+v, %v; want an error that it %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddress(%q) = %+v, %v", tt.in, got, err)
			continue
		}
		if again, err := clb.ParseAddress("r", got.String()); err != nil || again != got {
			t.Errorf("%+v.String() = %q reads back as %+v, %v", got, got.String(), again, err)
		}
		if got.Key() != "r/"+got.String() {
			t.Errorf("%+v.Key() = %q", got, got.Key())
		}
	}
}

// A rule's address names its location, not its domain: the location id
// implies the domain, and ParseAddress reads three parts.
func TestAddressStringOfARule(t *testing.T) {
	a := clb.Address{LoadBalancerID: "lb-a", ListenerID: "lbl-1", Domain: "www.example.com", LocationID: "loc-1"}
	if got := a.String(); got != "lb-a/lbl-1/loc-1" {
		t.Errorf("String() = %q, want lb-a/lbl-1/loc-1", got)
	}
	if got := a.Listener().String(); got != "lb-a/lbl-1" {
		t.Errorf("Listener() = %q, want lb-a/lbl-1", got)
	}
}

// Bind writes every member, the mode, the CA and the client verification:
// one member as Certificate, two as MultiCertInfo; tcsim refuses any other
// shape, and Await follows each change's task to its end.
func TestBindAndAwait(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploaded(t, "RsaCrt01", "good-rsa", "example.test"),
			simtest.HandUploaded(t, "EccCrt01", "good-ecdsa", "example.test"),
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-https1", Protocol: "HTTPS", CertID: "RsaCrt01", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "example.test", CertID: "EccCrt01"}}},
		}}}},
		TaskDelay: 20 * time.Millisecond,
	})
	c := clb.New(simtest.Config(t, sim), clb.Options{TaskPoll: 10 * time.Millisecond})
	ctx := context.Background()
	pair := binding.Binding{Members: []binding.Member{{CertID: "RsaCrt01", Algorithm: binding.RSA}, {CertID: "EccCrt01", Algorithm: binding.ECC}}}
	for _, a := range []clb.Address{
		{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1"},
		{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-sni1", Domain: "example.test"},
	} {
		task, err := c.WhenIdle(ctx, a.LoadBalancerID, func(ctx context.Context) (string, error) { return c.Bind(ctx, a, pair) })
		if err != nil {
			t.Fatalf("bind %s: %v", a, err)
		}
		if err := c.Await(ctx, a.Region, task); err != nil {
			t.Fatalf("await %s: %v", a, err)
		}
		got, _ := sim.Binding(a.LoadBalancerID, a.ListenerID, a.Domain)
		if !slices.Equal(got.CertIDs, []string{"EccCrt01", "RsaCrt01"}) {
			t.Errorf("%s binds %v, want both members", a, got.CertIDs)
		}
	}
	single := binding.Binding{Members: []binding.Member{{CertID: "EccCrt01", Algorithm: binding.ECC}}}
	a := clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1"}
	task, err := c.Bind(ctx, a, single)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Await(ctx, a.Region, task); err != nil {
		t.Fatal(err)
	}
	if got, _ := sim.Binding(a.LoadBalancerID, a.ListenerID, ""); !slices.Equal(got.CertIDs, []string{"EccCrt01"}) {
		t.Errorf("one member written: %v", got.CertIDs)
	}

	canceled, cancel := context.WithCancel(ctx)
	task, err = c.Bind(ctx, a, pair)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := c.Await(canceled, a.Region, task); !errors.Is(err, clb.ErrInterrupted) {
		t.Fatalf("await with the context ended: %v, want ErrInterrupted", err)
	}
	if _, err := c.Bind(ctx, clb.Address{LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1"}, single); !errors.Is(err, tencent.ErrNoRegion) {
		t.Fatalf("a bind without region: %v, want ErrNoRegion", err)
	}
}

// A wait whose time runs out while a status call is held (here by the rate
// limiter) says the task is still running, as one that runs out between
// calls does, not that a call's context ended.
func TestAwaitTimesOutInsideAStatusCall(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.HandUploaded(t, "EccCrt01", "good-ecdsa", "example.test")},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
			{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "EccCrt01"},
		}}}},
		TaskDelay: time.Hour,
	})
	cfg := simtest.Config(t, sim)
	cfg.Limiter = tencent.NewLimiter(map[string]tencent.Rate{"clb:DescribeTaskStatus": {PerSecond: 1.0 / 3600}})
	c := clb.New(cfg, clb.Options{TaskPoll: 10 * time.Millisecond, TaskTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	a := clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-tls1"}
	task, err := c.Bind(ctx, a, binding.Binding{Members: []binding.Member{{CertID: "EccCrt01", Algorithm: binding.ECC}}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Await(ctx, a.Region, task)
	if err == nil || !strings.Contains(err.Error(), "CLB task "+task+" still running after 300ms") || errors.Is(err, clb.ErrInterrupted) {
		t.Fatalf("Await = %v, want the task still running after 300ms", err)
	}
}
