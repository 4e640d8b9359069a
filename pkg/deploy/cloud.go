package deploy

import (
	"context"
	"fmt"
	"sync"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// cloud binds certificates to targets: the last CLB change deploy makes
// itself rather than through pkg/clb.
type cloud struct {
	clbs *regionalCLBs
}

func newCloud(cfg tencent.Config) *cloud {
	return &cloud{clbs: &regionalCLBs{cfg: cfg, in: map[string]*regionalCLB{}}}
}

// regionalCLB is a CLB client for one region with the Caller for its
// regional host.
type regionalCLB struct {
	*clb.Client
	Caller *tencent.Caller
}

// regionalCLBs builds each region's client once; safe for concurrent use.
type regionalCLBs struct {
	cfg tencent.Config
	mu  sync.Mutex
	in  map[string]*regionalCLB
}

// In returns region's client.
func (p *regionalCLBs) In(region string) (*regionalCLB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.in[region]; ok {
		return r, nil
	}
	if region == "" {
		return nil, fmt.Errorf("create CLB client: %w", tencent.ErrNoRegion)
	}
	cl, err := clb.NewClient(p.cfg.Credential, region, p.cfg.Profile(p.cfg.Host("clb", region)))
	if err != nil {
		return nil, fmt.Errorf("create CLB client for %s: %w", region, err)
	}
	p.cfg.Connect(&cl.Client)
	r := &regionalCLB{Client: cl, Caller: p.cfg.RegionCaller("clb", region)}
	p.in[region] = r
	return r, nil
}

// bind points a target at certificate id and returns the task id of the
// asynchronous change. CLB takes a listener's certificate through
// ModifyListener and an SNI domain's through ModifyDomainAttributes; each
// refuses the other's.
func (c *cloud) bind(ctx context.Context, t Target, id string, prev inventory.CertRef) (string, error) {
	cl, err := c.clbs.In(t.Region)
	if err != nil {
		return "", err
	}
	in := &clb.CertificateInput{CertId: common.StringPtr(id), SSLMode: common.StringPtr("UNIDIRECTIONAL")}
	if prev.SSLMode == "MUTUAL" {
		in.SSLMode = common.StringPtr("MUTUAL")
		in.CertCaId = common.StringPtr(prev.CAID)
	}
	if t.Domain == "" {
		req := clb.NewModifyListenerRequest()
		req.LoadBalancerId, req.ListenerId, req.Certificate = common.StringPtr(t.LoadBalancerID), common.StringPtr(t.ListenerID), in
		resp, err := tencent.Do(ctx, cl.Caller, "ModifyListener", func(ctx context.Context) (*clb.ModifyListenerResponse, error) {
			return cl.ModifyListenerWithContext(ctx, req)
		})
		if err != nil {
			return "", err
		}
		return tencent.Deref(resp.Response.RequestId), nil
	}
	req := clb.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain, req.Certificate = common.StringPtr(t.LoadBalancerID), common.StringPtr(t.ListenerID), common.StringPtr(t.Domain), in
	resp, err := tencent.Do(ctx, cl.Caller, "ModifyDomainAttributes", func(ctx context.Context) (*clb.ModifyDomainAttributesResponse, error) {
		return cl.ModifyDomainAttributesWithContext(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}
