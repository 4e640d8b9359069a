package clb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// CLB's layer-7 customized configurations ("个性化配置", doc 214/15171) are
// nginx directives bound to a load balancer, one configuration per load
// balancer, possibly shared by several.

// configFilterChunk is how many load balancer ids one loadbalancer-id filter
// names. UNCERTAIN: CLB's limit is not documented; DescribeLoadBalancers
// takes 20 ids.
const configFilterChunk = 20

// configPageSize is the Limit of the configuration listings.
// UNCERTAIN: the documented maximum was not found; 100 is CLB's usual one.
const configPageSize = 100

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

// CustomizedConfigs returns the customized configuration bound to each of
// lbIDs in region that has one, by load balancer id: DescribeCustomizedConfigList
// filtered by loadbalancer-id, then DescribeCustomizedConfigAssociateList for
// every load balancer each configuration is bound to.
func (c *Client) CustomizedConfigs(ctx context.Context, region string, lbIDs []string) (map[string]CustomizedConfig, error) {
	out := map[string]CustomizedConfig{}
	var configs []CustomizedConfig
	seen := map[string]bool{}
	for ids := range slices.Chunk(lbIDs, configFilterChunk) {
		found, err := c.configList(ctx, region, func(req *clbsdk.DescribeCustomizedConfigListRequest) {
			req.Filters = []*clbsdk.Filter{{Name: ptr("loadbalancer-id"), Values: common.StringPtrs(ids)}}
		})
		if err != nil {
			return nil, fmt.Errorf("read the customized configurations of %s in %s: %w", strings.Join(ids, ", "), region, err)
		}
		for _, cfg := range found {
			if !seen[cfg.ID] {
				seen[cfg.ID] = true
				configs = append(configs, cfg)
			}
		}
	}
	for _, cfg := range configs {
		bound, err := c.configLoadBalancers(ctx, region, cfg.ID)
		if err != nil {
			return nil, err
		}
		cfg.LoadBalancerIDs = bound
		for _, id := range bound {
			if slices.Contains(lbIDs, id) {
				out[id] = cfg
			}
		}
	}
	return out, nil
}

// CustomizedConfigNamed finds the CLB-type configuration of region named
// exactly name, with the load balancers it is bound to; nil if there is
// none. (ConfigName filters by substring; the match is made exact here.)
func (c *Client) CustomizedConfigNamed(ctx context.Context, region, name string) (*CustomizedConfig, error) {
	found, err := c.configList(ctx, region, func(req *clbsdk.DescribeCustomizedConfigListRequest) { req.ConfigName = &name })
	if err != nil {
		return nil, fmt.Errorf("look up customized configuration %s in %s: %w", name, region, err)
	}
	i := slices.IndexFunc(found, func(cfg CustomizedConfig) bool { return cfg.Name == name })
	if i < 0 {
		return nil, nil
	}
	cfg := found[i]
	if cfg.LoadBalancerIDs, err = c.configLoadBalancers(ctx, region, cfg.ID); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// configList pages through the CLB-type configurations that filter selects.
func (c *Client) configList(ctx context.Context, region string, filter func(*clbsdk.DescribeCustomizedConfigListRequest)) ([]CustomizedConfig, error) {
	var out []CustomizedConfig
	for offset := int64(0); ; {
		req := clbsdk.NewDescribeCustomizedConfigListRequest()
		req.ConfigType, req.Offset, req.Limit = ptr("CLB"), ptr(offset), ptr(int64(configPageSize))
		filter(req)
		resp, err := call(ctx, c, region, "DescribeCustomizedConfigList", req, (*clbsdk.Client).DescribeCustomizedConfigListWithContext)
		if err != nil {
			return nil, err
		}
		page := resp.Response.ConfigList
		for _, item := range page {
			if item != nil {
				out = append(out, CustomizedConfig{ID: tencent.Deref(item.UconfigId), Name: tencent.Deref(item.ConfigName), Content: tencent.Deref(item.ConfigContent)})
			}
		}
		offset += int64(len(page))
		if len(page) == 0 || offset >= tencent.Deref(resp.Response.TotalCount) {
			return out, nil
		}
	}
}

// configLoadBalancers lists, sorted, the load balancers configuration id is
// bound to.
func (c *Client) configLoadBalancers(ctx context.Context, region, id string) ([]string, error) {
	var out []string
	for offset := int64(0); ; {
		req := clbsdk.NewDescribeCustomizedConfigAssociateListRequest()
		req.UconfigId, req.Offset, req.Limit = &id, ptr(offset), ptr(int64(configPageSize))
		resp, err := call(ctx, c, region, "DescribeCustomizedConfigAssociateList", req, (*clbsdk.Client).DescribeCustomizedConfigAssociateListWithContext)
		if err != nil {
			return nil, fmt.Errorf("find the load balancers customized configuration %s is bound to in %s: %w", id, region, err)
		}
		page := resp.Response.BindList
		for _, b := range page {
			if b == nil {
				continue
			}
			if lb := tencent.Deref(b.LoadBalancerId); lb != "" && !slices.Contains(out, lb) {
				out = append(out, lb)
			}
		}
		offset += int64(len(page))
		if len(page) == 0 || offset >= tencent.Deref(resp.Response.TotalCount) {
			slices.Sort(out)
			return out, nil
		}
	}
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
