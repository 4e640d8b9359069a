package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// CLB's layer-7 customized configurations ("个性化配置", doc 214/15171) are
// nginx directives bound to a load balancer, one configuration per load
// balancer, possibly shared by several. Their ssl_protocols directive is the
// only way to choose the TLS versions of HTTPS listeners.

// SSLProtocolsDirective is the directive that sets the TLS versions.
const SSLProtocolsDirective = "ssl_protocols"

// configFilterChunk is how many load balancer ids one loadbalancer-id filter
// names. UNCERTAIN: CLB's limit is not documented; DescribeLoadBalancers
// takes 20 ids.
const configFilterChunk = 20

// configPageSize is the Limit of the configuration listings.
// UNCERTAIN: the documented maximum was not found; 100 is CLB's usual one.
const configPageSize = 100

// defaultTLSProtocols is what HTTPS listeners allow when their load
// balancer's configuration does not say: TLSv1 TLSv1.1 TLSv1.2.
func defaultTLSProtocols() []string { return []string{"TLSv1", "TLSv1.1", "TLSv1.2"} }

// EffectiveTLSProtocols is what a load balancer's HTTPS listeners allow:
// the ssl_protocols of its customized configuration cfg (nil when none is
// bound), else CLB's default TLSv1 TLSv1.1 TLSv1.2. configured tells the
// two apart.
func EffectiveTLSProtocols(cfg *CustomizedConfig) (protocols []string, configured bool) {
	if cfg != nil {
		if ps, ok := cfg.TLSProtocols(); ok {
			return ps, true
		}
	}
	return defaultTLSProtocols(), false
}

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

// Shared reports whether the configuration is bound to more than one load
// balancer.
func (cfg CustomizedConfig) Shared() bool { return len(cfg.LoadBalancerIDs) > 1 }

// TLSProtocols is the configuration's ssl_protocols, and whether it has one.
func (cfg CustomizedConfig) TLSProtocols() ([]string, bool) {
	var out []string
	found := false
	for _, d := range Directives(cfg.Content) {
		if d.Name == SSLProtocolsDirective {
			out, found = d.Args, true // nginx: the last one wins
		}
	}
	return out, found
}

// Directive is one statement of a customized configuration: "name args…;".
type Directive struct {
	Name string
	Args []string
	// Start and End are the statement's byte offsets in the content, End
	// just past its ';' (or the content's end if the last statement has
	// none), so an edit can replace it and keep everything else verbatim.
	Start, End int
}

// Directives splits content into its statements. A ';' inside quotes does
// not end one; '#' starts a comment to the end of the line.
func Directives(content string) []Directive {
	var out []Directive
	var fields []string
	var field strings.Builder
	inField, start := false, -1
	flush := func() {
		if inField {
			fields = append(fields, field.String())
			field.Reset()
			inField = false
		}
	}
	end := func(at int) {
		flush()
		if len(fields) > 0 {
			out = append(out, Directive{Name: fields[0], Args: fields[1:], Start: start, End: at})
		}
		fields, start = nil, -1
	}
	for i := 0; i < len(content); i++ {
		ch := content[i]
		switch {
		case ch == '#' && !inField:
			for i < len(content) && content[i] != '\n' {
				i++
			}
		case ch == ';':
			end(i + 1)
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			flush()
		case ch == '"' || ch == '\'':
			if start < 0 {
				start = i
			}
			inField = true
			j := i + 1
			for j < len(content) && content[j] != ch {
				if content[j] == '\\' && j+1 < len(content) {
					j++
				}
				j++
			}
			field.WriteString(content[i+1 : min(j, len(content))])
			i = j
		default:
			if start < 0 {
				start = i
			}
			inField = true
			field.WriteByte(ch)
		}
	}
	if start >= 0 {
		end(len(content))
	}
	return out
}

// CustomizedConfigs returns the customized configuration bound to each of
// lbIDs in region that has one, by load balancer id: DescribeCustomizedConfigList
// filtered by loadbalancer-id, then DescribeCustomizedConfigAssociateList for
// every load balancer each configuration is bound to.
func (c *Client) CustomizedConfigs(ctx context.Context, region string, lbIDs []string) (map[string]CustomizedConfig, error) {
	out := map[string]CustomizedConfig{}
	if len(lbIDs) == 0 {
		return out, nil
	}
	cl, err := c.clbs.In(region)
	if err != nil {
		return nil, err
	}
	var configs []CustomizedConfig
	seen := map[string]bool{}
	for start := 0; start < len(lbIDs); start += configFilterChunk {
		ids := lbIDs[start:min(start+configFilterChunk, len(lbIDs))]
		found, err := c.configsBoundTo(ctx, cl, region, ids)
		if err != nil {
			return nil, err
		}
		for _, cfg := range found {
			if !seen[cfg.ID] {
				seen[cfg.ID] = true
				configs = append(configs, cfg)
			}
		}
	}
	for _, cfg := range configs {
		bound, err := c.configLoadBalancers(ctx, cl, region, cfg.ID)
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

func (c *Client) configsBoundTo(ctx context.Context, cl *tencent.RegionalCLB, region string, lbIDs []string) ([]CustomizedConfig, error) {
	var out []CustomizedConfig
	for offset := int64(0); ; {
		req := clb.NewDescribeCustomizedConfigListRequest()
		req.ConfigType = common.StringPtr("CLB")
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(configPageSize)
		req.Filters = []*clb.Filter{{Name: common.StringPtr("loadbalancer-id"), Values: common.StringPtrs(lbIDs)}}
		resp, err := tencent.Do(ctx, cl.Caller, "DescribeCustomizedConfigList", func(ctx context.Context) (*clb.DescribeCustomizedConfigListResponse, error) {
			return cl.DescribeCustomizedConfigListWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("read the customized configurations of %s in %s: %w", strings.Join(lbIDs, ", "), region, err)
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
func (c *Client) configLoadBalancers(ctx context.Context, cl *tencent.RegionalCLB, region, id string) ([]string, error) {
	var out []string
	for offset := int64(0); ; {
		req := clb.NewDescribeCustomizedConfigAssociateListRequest()
		req.UconfigId = common.StringPtr(id)
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(configPageSize)
		resp, err := tencent.Do(ctx, cl.Caller, "DescribeCustomizedConfigAssociateList", func(ctx context.Context) (*clb.DescribeCustomizedConfigAssociateListResponse, error) {
			return cl.DescribeCustomizedConfigAssociateListWithContext(ctx, req)
		})
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

// CustomizedConfigNamed finds the CLB-type configuration of region named
// exactly name, with the load balancers it is bound to; nil if there is
// none. (ConfigName filters by substring; the match is made exact here.)
func (c *Client) CustomizedConfigNamed(ctx context.Context, region, name string) (*CustomizedConfig, error) {
	cl, err := c.clbs.In(region)
	if err != nil {
		return nil, err
	}
	for offset := int64(0); ; {
		req := clb.NewDescribeCustomizedConfigListRequest()
		req.ConfigType = common.StringPtr("CLB")
		req.ConfigName = common.StringPtr(name)
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(configPageSize)
		resp, err := tencent.Do(ctx, cl.Caller, "DescribeCustomizedConfigList", func(ctx context.Context) (*clb.DescribeCustomizedConfigListResponse, error) {
			return cl.DescribeCustomizedConfigListWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("look up customized configuration %s in %s: %w", name, region, err)
		}
		page := resp.Response.ConfigList
		for _, item := range page {
			if item == nil || tencent.Deref(item.ConfigName) != name {
				continue
			}
			cfg := &CustomizedConfig{ID: tencent.Deref(item.UconfigId), Name: name, Content: tencent.Deref(item.ConfigContent)}
			if cfg.LoadBalancerIDs, err = c.configLoadBalancers(ctx, cl, region, cfg.ID); err != nil {
				return nil, err
			}
			return cfg, nil
		}
		offset += int64(len(page))
		if len(page) == 0 || offset >= tencent.Deref(resp.Response.TotalCount) {
			return nil, nil
		}
	}
}
