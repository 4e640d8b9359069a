package clb

import (
	"context"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// BalancingChange is a change to how a forwarding rule or a layer-4 listener
// spreads traffic. An empty Scheduler, a nil SessionExpireTime or a nil
// HealthCheck leaves that setting as it is.
type BalancingChange struct {
	Scheduler         string
	SessionExpireTime *int64
	// HealthCheck is the whole wanted check, not only the fields that
	// change: CLB documents no merge of a partial HealthCheck, so all of it
	// is sent and nothing is left to CLB's defaults.
	HealthCheck *HealthCheck
}

// SetBalancing changes the balancing of the rule at a (a.LocationID set,
// ModifyRule) or of the listener at a (ModifyListener, for TCP, TCP_SSL and
// QUIC listeners) and returns the task of the change.
func (c *Client) SetBalancing(ctx context.Context, a Address, b BalancingChange) (string, error) {
	scheduler, health := optional(b.Scheduler), healthCheckInput(b.HealthCheck)
	if a.LocationID != "" {
		req := clbsdk.NewModifyRuleRequest()
		req.LoadBalancerId, req.ListenerId, req.LocationId = &a.LoadBalancerID, &a.ListenerID, &a.LocationID
		req.Scheduler, req.SessionExpireTime, req.HealthCheck = scheduler, b.SessionExpireTime, health
		resp, err := call(ctx, c, a.Region, "ModifyRule", req, (*clbsdk.Client).ModifyRuleWithContext)
		if err != nil {
			return "", err
		}
		return tencent.Deref(resp.Response.RequestId), nil
	}
	req := clbsdk.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = &a.LoadBalancerID, &a.ListenerID
	req.Scheduler, req.SessionExpireTime, req.HealthCheck = scheduler, b.SessionExpireTime, health
	resp, err := call(ctx, c, a.Region, "ModifyListener", req, (*clbsdk.Client).ModifyListenerWithContext)
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}

// healthCheckInput is h as CLB takes it; nil for nil. The HTTP fields go
// only with an HTTP or HTTPS check (an HTTPS check is the same request over
// TLS, with the same path, domain, method and codes), the domain and the
// HTTP version only when they are set (CLB requires the version with a TCP
// listener's HTTP check).
func healthCheckInput(h *HealthCheck) *clbsdk.HealthCheck {
	if h == nil {
		return nil
	}
	in := &clbsdk.HealthCheck{HealthSwitch: ptr(int64(0))}
	if h.On {
		in.HealthSwitch = ptr(int64(1))
	}
	in.TimeOut, in.IntervalTime = ptr(h.TimeOut), ptr(h.IntervalTime)
	in.HealthNum, in.UnHealthNum = ptr(h.HealthNum), ptr(h.UnHealthNum)
	in.CheckType = optional(h.CheckType)
	if h.AsksForPath() {
		in.HttpCode, in.HttpCheckPath = ptr(h.HTTPCode), ptr(h.HTTPCheckPath)
		in.HttpCheckMethod = ptr(h.HTTPCheckMethod)
		in.HttpCheckDomain = optional(h.HTTPCheckDomain)
		in.HttpVersion = optional(h.HTTPVersion)
	}
	return in
}
