package inventory

import (
	"context"
	"fmt"
	"strings"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// LoadBalancers lists the load balancers of region, without their listeners.
func (c *Client) LoadBalancers(ctx context.Context, region string) ([]LoadBalancer, error) {
	cl, err := c.clbs.In(region)
	if err != nil {
		return nil, err
	}
	var out []LoadBalancer
	for offset := int64(0); ; {
		req := clb.NewDescribeLoadBalancersRequest()
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(100)
		resp, err := tencent.Do(ctx, cl.Caller, "DescribeLoadBalancers", func(ctx context.Context) (*clb.DescribeLoadBalancersResponse, error) {
			return cl.DescribeLoadBalancersWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("list load balancers in %s: %w", region, err)
		}
		page := resp.Response.LoadBalancerSet
		for _, lb := range page {
			out = append(out, LoadBalancer{Region: region, ID: tencent.Deref(lb.LoadBalancerId), Name: tencent.Deref(lb.LoadBalancerName), VIPs: derefAll(lb.LoadBalancerVips)})
		}
		offset += int64(len(page))
		if len(page) == 0 || uint64(offset) >= tencent.Deref(resp.Response.TotalCount) {
			return out, nil
		}
	}
}

// Listeners describes the listeners of one load balancer.
func (c *Client) Listeners(ctx context.Context, region, lbID string) ([]Listener, error) {
	cl, err := c.clbs.In(region)
	if err != nil {
		return nil, err
	}
	req := clb.NewDescribeListenersRequest()
	req.LoadBalancerId = common.StringPtr(lbID)
	resp, err := tencent.Do(ctx, cl.Caller, "DescribeListeners", func(ctx context.Context) (*clb.DescribeListenersResponse, error) {
		return cl.DescribeListenersWithContext(ctx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("list listeners of %s in %s: %w", lbID, region, err)
	}
	out := make([]Listener, 0, len(resp.Response.Listeners))
	for _, l := range resp.Response.Listeners {
		ln := Listener{
			ID: tencent.Deref(l.ListenerId), Name: tencent.Deref(l.ListenerName), Protocol: tencent.Deref(l.Protocol), Port: tencent.Deref(l.Port),
			SNI: tencent.Deref(l.SniSwitch) == 1, Certificate: certOf(l.Certificate),
			Scheduler: tencent.Deref(l.Scheduler), SessionExpireTime: tencent.Deref(l.SessionExpireTime), HealthCheck: healthCheckOf(l.HealthCheck),
		}
		for _, r := range l.Rules {
			if r == nil {
				continue
			}
			ln.Rules = append(ln.Rules, Rule{
				LocationID: tencent.Deref(r.LocationId), Domain: strings.ToLower(tencent.Deref(r.Domain)), URL: tencent.Deref(r.Url),
				Certificate: certOf(r.Certificate), Scheduler: tencent.Deref(r.Scheduler), SessionExpireTime: tencent.Deref(r.SessionExpireTime),
				HealthCheck: healthCheckOf(r.HealthCheck),
			})
		}
		out = append(out, ln)
	}
	return out, nil
}

func certOf(o *clb.CertificateOutput) *CertRef {
	if o == nil || tencent.Deref(o.CertId) == "" {
		return nil
	}
	return &CertRef{ID: tencent.Deref(o.CertId), SSLMode: tencent.Deref(o.SSLMode), CAID: tencent.Deref(o.CertCaId)}
}

func healthCheckOf(h *clb.HealthCheck) *HealthCheck {
	if h == nil {
		return nil
	}
	return &HealthCheck{
		On:           tencent.Deref(h.HealthSwitch) == 1,
		TimeOut:      tencent.Deref(h.TimeOut),
		IntervalTime: tencent.Deref(h.IntervalTime),
		HealthNum:    tencent.Deref(h.HealthNum), UnHealthNum: tencent.Deref(h.UnHealthNum),
		HTTPCode:        tencent.Deref(h.HttpCode),
		HTTPCheckPath:   tencent.Deref(h.HttpCheckPath),
		HTTPCheckDomain: tencent.Deref(h.HttpCheckDomain),
		HTTPCheckMethod: tencent.Deref(h.HttpCheckMethod),
		HTTPVersion:     tencent.Deref(h.HttpVersion),
		CheckPort:       tencent.Deref(h.CheckPort),
		CheckType:       tencent.Deref(h.CheckType),
	}
}

// BoundLoadBalancers returns, per certificate id, the load balancers in
// region that use it (DescribeLoadBalancerListByCertId, 20 ids a call).
func (c *Client) BoundLoadBalancers(ctx context.Context, region string, ids []string) (map[string][]string, error) {
	cl, err := c.clbs.In(region)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for start := 0; start < len(ids); start += 20 {
		req := clb.NewDescribeLoadBalancerListByCertIdRequest()
		req.CertIds = common.StringPtrs(ids[start:min(start+20, len(ids))])
		resp, err := tencent.Do(ctx, cl.Caller, "DescribeLoadBalancerListByCertId", func(ctx context.Context) (*clb.DescribeLoadBalancerListByCertIdResponse, error) {
			return cl.DescribeLoadBalancerListByCertIdWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("find load balancers using certificates in %s: %w", region, err)
		}
		for _, set := range resp.Response.CertSet {
			id := tencent.Deref(set.CertId)
			for _, lb := range set.LoadBalancers {
				out[id] = append(out[id], tencent.Deref(lb.LoadBalancerId))
			}
		}
	}
	return out, nil
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}
