package clb

import (
	"context"
	"fmt"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// CLB's layer-7 customized configurations ("个性化配置", doc 214/15171) are
// nginx directives bound to a load balancer, one configuration per load
// balancer, possibly shared by several.

// CustomizedConfig is a layer-7 customized configuration of type CLB.
type CustomizedConfig struct {
	ID      string `json:"id"` // pz-…
	Name    string `json:"name"`
	Content string `json:"content"`
	// LoadBalancerIDs are every load balancer of the region the
	// configuration is bound to, sorted; more than one means a change to it
	// changes them all.
	LoadBalancerIDs []string `json:"loadBalancerIds"`
}

// Operation is what SetCustomizedConfig does.
type Operation string

// SetCustomizedConfigForLoadBalancer's OperationType values.
const (
	OpAdd    Operation = "ADD"    // create a configuration: Name, Content
	OpUpdate Operation = "UPDATE" // replace its Content: ID, Content
	OpBind   Operation = "BIND"   // bind ID to LoadBalancerIDs
	OpUnbind Operation = "UNBIND" // unbind ID from LoadBalancerIDs
)

// ConfigChange is one SetCustomizedConfigForLoadBalancer call; the fields
// its Operation does not use stay empty.
type ConfigChange struct {
	Operation       Operation
	ID              string
	Name            string
	Content         string
	LoadBalancerIDs []string
}

// SetCustomizedConfig makes ch in region and returns the configuration's id
// (the new one for OpAdd) and the task of the change.
func (c *Client) SetCustomizedConfig(ctx context.Context, region string, ch ConfigChange) (id, task string, err error) {
	req := clbsdk.NewSetCustomizedConfigForLoadBalancerRequest()
	req.OperationType = ptr(string(ch.Operation))
	req.UconfigId, req.ConfigName, req.ConfigContent = optional(ch.ID), optional(ch.Name), optional(ch.Content)
	if len(ch.LoadBalancerIDs) > 0 {
		req.LoadBalancerIds = common.StringPtrs(ch.LoadBalancerIDs)
	}
	resp, err := call(ctx, c, region, "SetCustomizedConfigForLoadBalancer", req, (*clbsdk.Client).SetCustomizedConfigForLoadBalancerWithContext)
	if err != nil {
		return "", "", fmt.Errorf("%s customized configuration %s: %w", ch.Operation, ch.ID+ch.Name, err)
	}
	id = tencent.Deref(resp.Response.ConfigId)
	if id == "" {
		id = ch.ID
	}
	return id, tencent.Deref(resp.Response.RequestId), nil
}
