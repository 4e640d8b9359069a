package tune

import (
	"context"
	"fmt"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// The calls that change something. Each returns the task id CLB answers
// with (the RequestId); everything read-only goes through pkg/inventory.

// healthCheckInput is the whole wanted check, not only the fields that
// change: CLB documents no merge of a partial HealthCheck, so sending all
// of it leaves nothing to its defaults.
func healthCheckInput(b balancing) *clb.HealthCheck {
	h := b.health
	in := &clb.HealthCheck{HealthSwitch: common.Int64Ptr(0)}
	if h.On {
		in.HealthSwitch = common.Int64Ptr(1)
	}
	in.TimeOut, in.IntervalTime = common.Int64Ptr(h.TimeOut), common.Int64Ptr(h.IntervalTime)
	in.HealthNum, in.UnHealthNum = common.Int64Ptr(h.HealthNum), common.Int64Ptr(h.UnHealthNum)
	if h.CheckType != "" {
		in.CheckType = common.StringPtr(h.CheckType)
	}
	if h.CheckType == "HTTP" {
		in.HttpCode, in.HttpCheckPath = common.Int64Ptr(h.HTTPCode), common.StringPtr(h.HTTPCheckPath)
		in.HttpCheckMethod = common.StringPtr(h.HTTPCheckMethod)
		if h.HTTPCheckDomain != "" {
			in.HttpCheckDomain = common.StringPtr(h.HTTPCheckDomain)
		}
	}
	return in
}

// modifyRule sets the balancing of an HTTP/HTTPS listener's rule.
func (t *Tuner) modifyRule(ctx context.Context, c Change) (string, error) {
	cl, err := t.clbs.In(c.Region)
	if err != nil {
		return "", err
	}
	req := clb.NewModifyRuleRequest()
	req.LoadBalancerId, req.ListenerId, req.LocationId = common.StringPtr(c.LoadBalancerID), common.StringPtr(c.ListenerID), common.StringPtr(c.LocationID)
	if c.want.sendScheduler {
		req.Scheduler = common.StringPtr(c.want.scheduler)
	}
	if c.want.sendSession {
		req.SessionExpireTime = common.Int64Ptr(c.want.session)
	}
	if c.want.sendHealth {
		req.HealthCheck = healthCheckInput(c.want)
	}
	resp, err := tencent.Do(ctx, cl.Caller, "ModifyRule", func(ctx context.Context) (*clb.ModifyRuleResponse, error) {
		return cl.ModifyRuleWithContext(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}

// modifyListener sets the balancing of a TCP, TCP_SSL or QUIC listener.
func (t *Tuner) modifyListener(ctx context.Context, c Change) (string, error) {
	cl, err := t.clbs.In(c.Region)
	if err != nil {
		return "", err
	}
	req := clb.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = common.StringPtr(c.LoadBalancerID), common.StringPtr(c.ListenerID)
	if c.want.sendScheduler {
		req.Scheduler = common.StringPtr(c.want.scheduler)
	}
	if c.want.sendSession {
		req.SessionExpireTime = common.Int64Ptr(c.want.session)
	}
	if c.want.sendHealth {
		req.HealthCheck = healthCheckInput(c.want)
	}
	resp, err := tencent.Do(ctx, cl.Caller, "ModifyListener", func(ctx context.Context) (*clb.ModifyListenerResponse, error) {
		return cl.ModifyListenerWithContext(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}

// configOp is one SetCustomizedConfigForLoadBalancer call.
type configOp struct {
	op      string // ADD, UPDATE, BIND, UNBIND
	id      string // the configuration (not for ADD)
	name    string // ADD
	content string // ADD, UPDATE
	lbs     []string
}

// setConfig runs op and returns the configuration's id (the new one for
// ADD) and the task id.
func (t *Tuner) setConfig(ctx context.Context, region string, op configOp) (id, task string, err error) {
	cl, err := t.clbs.In(region)
	if err != nil {
		return "", "", err
	}
	req := clb.NewSetCustomizedConfigForLoadBalancerRequest()
	req.OperationType = common.StringPtr(op.op)
	if op.id != "" {
		req.UconfigId = common.StringPtr(op.id)
	}
	if op.name != "" {
		req.ConfigName = common.StringPtr(op.name)
	}
	if op.content != "" {
		req.ConfigContent = common.StringPtr(op.content)
	}
	if len(op.lbs) > 0 {
		req.LoadBalancerIds = common.StringPtrs(op.lbs)
	}
	resp, err := tencent.Do(ctx, cl.Caller, "SetCustomizedConfigForLoadBalancer", func(ctx context.Context) (*clb.SetCustomizedConfigForLoadBalancerResponse, error) {
		return cl.SetCustomizedConfigForLoadBalancerWithContext(ctx, req)
	})
	if err != nil {
		return "", "", fmt.Errorf("%s customized configuration %s: %w", op.op, op.id+op.name, err)
	}
	id = tencent.Deref(resp.Response.ConfigId)
	if id == "" {
		id = op.id
	}
	return id, tencent.Deref(resp.Response.RequestId), nil
}
