package clb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// maxHealthLBs is how many load balancers one DescribeTargetHealth call may
// name.
const maxHealthLBs = 30

// Health states of a backend as CLB reports them (HealthStatusDetail).
const (
	HealthAlive   = "Alive"   // passing its health check
	HealthDead    = "Dead"    // failing it: no traffic
	HealthUnknown = "Unknown" // not checked yet, or being checked
	HealthClose   = "Close"   // the health check is off
)

// TargetHealth is one backend of a listener (layer 4) or of a forwarding
// rule (layer 7) with its health, as DescribeTargetHealth reports it.
type TargetHealth struct {
	// Address is the listener, or the rule (LocationID, Domain) of an HTTP
	// or HTTPS listener.
	Address
	// URL is the rule's path; "" for the targets of a layer-4 listener.
	URL  string `json:"url,omitempty"`
	IP   string `json:"ip"`
	Port int64  `json:"port"`
	// Healthy is whether CLB sends the backend traffic (HealthStatus):
	// alive, or not checked at all. Weight 0 gets none either way.
	Healthy bool `json:"healthy"`
	// Status is HealthAlive, HealthDead, HealthUnknown or HealthClose.
	Status string `json:"status"`
	Weight uint64 `json:"weight"`
}

// Addr is IP:port.
func (t TargetHealth) Addr() string {
	if strings.Contains(t.IP, ":") {
		return fmt.Sprintf("[%s]:%d", t.IP, t.Port)
	}
	return fmt.Sprintf("%s:%d", t.IP, t.Port)
}

// TargetHealth lists the backends of every listener and rule of the load
// balancers lbIDs in region with their health, 30 load balancers a call
// (DescribeTargetHealth). One load balancer that cannot be read fails the
// call for the (up to 30) named with it. The result is sorted by load
// balancer, listener, location and address.
func (c *Client) TargetHealth(ctx context.Context, region string, lbIDs []string) ([]TargetHealth, error) {
	var out []TargetHealth
	for start := 0; start < len(lbIDs); start += maxHealthLBs {
		ids := lbIDs[start:min(start+maxHealthLBs, len(lbIDs))]
		req := clbsdk.NewDescribeTargetHealthRequest()
		req.LoadBalancerIds = common.StringPtrs(ids)
		resp, err := call(ctx, c, region, "DescribeTargetHealth", req, (*clbsdk.Client).DescribeTargetHealthWithContext)
		if err != nil {
			return nil, fmt.Errorf("read backend health of %s in %s: %w", strings.Join(ids, ", "), region, err)
		}
		out = append(out, targetHealthOf(region, resp.Response.LoadBalancers)...)
	}
	slices.SortStableFunc(out, func(a, b TargetHealth) int {
		return cmp.Or(a.Listener().Compare(b.Listener()), cmp.Compare(a.LocationID, b.LocationID))
	})
	return out, nil
}

func targetHealthOf(region string, lbs []*clbsdk.LoadBalancerHealth) []TargetHealth {
	var out []TargetHealth
	for _, lb := range lbs {
		if lb == nil {
			continue
		}
		for _, l := range lb.Listeners {
			if l == nil {
				continue
			}
			for _, r := range l.Rules {
				if r == nil {
					continue
				}
				for _, t := range r.Targets {
					if t == nil {
						continue
					}
					out = append(out, TargetHealth{
						Address: Address{Region: region, LoadBalancerID: tencent.Deref(lb.LoadBalancerId), ListenerID: tencent.Deref(l.ListenerId),
							LocationID: tencent.Deref(r.LocationId), Domain: strings.ToLower(tencent.Deref(r.Domain))}, URL: tencent.Deref(r.Url),
						IP: tencent.Deref(t.IP), Port: tencent.Deref(t.Port), Healthy: tencent.Deref(t.HealthStatus),
						Status: healthStatus(t), Weight: tencent.Deref(t.Weight),
					})
				}
			}
		}
	}
	return out
}

// healthStatus prefers HealthStatusDetail; CLB also fills the misspelt
// HealthStatusDetial, which older answers carry alone.
func healthStatus(t *clbsdk.TargetHealth) string {
	if s := tencent.Deref(t.HealthStatusDetail); s != "" {
		return s
	}
	if s := tencent.Deref(t.HealthStatusDetial); s != "" {
		return s
	}
	if tencent.Deref(t.HealthStatus) {
		return HealthAlive
	}
	return HealthUnknown
}
