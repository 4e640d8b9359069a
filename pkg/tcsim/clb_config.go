package tcsim

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// Layer-7 customized configurations ("个性化配置", doc 214/15171) of type CLB: one per load
// balancer at most, 200 per region. The one bound to a load balancer decides, through
// ssl_protocols, which TLS versions its HTTPS listeners accept (sslProtocolsLocked).
//
// Every SetCustomizedConfigForLoadBalancer answer's RequestId is a task id, as for CLB's other
// changes (UNCERTAIN: undocumented for this action; Terraform's provider polls it even after
// ADD, so CLB must at least know the id). A change that touches
// load balancers (BIND, UNBIND, UPDATE of a bound configuration) runs as a task that keeps each
// of them busy; ADD, DELETE and UPDATE of an unbound configuration apply at once and their
// task reports success.
const (
	codeFailedOperation = "FailedOperation"
	codeLimitExceeded   = "LimitExceeded"

	opAdd    = "ADD"
	opDelete = "DELETE"
	opUpdate = "UPDATE"
	opBind   = "BIND"
	opUnbind = "UNBIND"

	configTypeCLB          = "CLB"
	maxConfigsPerRegion    = 200
	maxConfigName          = 60 // UNCERTAIN: the documented limit was not found.
	configListDefaultLimit = 20
	configListMaxLimit     = 100 // UNCERTAIN: the documented limit was not found.
)

type setCustomizedConfigParams struct {
	OperationType   *string   `tc:"required"`
	UconfigID       *string   `json:"UconfigId"`
	LoadBalancerIDs []*string `json:"LoadBalancerIds"`

	ConfigContent, ConfigName *string
}

type setCustomizedConfigResponse struct {
	// UNCERTAIN: CLB documents ConfigId for ADD; tcsim answers the configuration's id for
	// every operation.
	ConfigID string `json:"ConfigId"`
}

type describeCustomizedConfigListParams struct {
	paging[int64]
	ConfigType *string `tc:"required"`
	ConfigName *string
	UconfigIDs []*string `json:"UconfigIds"`
	Filters    []*clbFilter
}

type configListItem struct {
	UconfigID string `json:"UconfigId"`

	ConfigType, ConfigName, ConfigContent, CreateTimestamp, UpdateTimestamp string
}

type describeCustomizedConfigListResponse struct {
	ConfigList []configListItem
	TotalCount int64
}

type describeCustomizedConfigAssociateListParams struct {
	paging[int64]
	UconfigID *string `json:"UconfigId" tc:"required"`
	Domain    *string
}

// bindDetailItem of a CLB-type configuration names a load balancer; the listener, domain and
// rule fields belong to the SERVER and LOCATION types and are null.
type bindDetailItem struct {
	LoadBalancerID string `json:"LoadBalancerId"`
	UconfigID      string `json:"UconfigId"`
}

type describeCustomizedConfigAssociateListResponse struct {
	BindList   []bindDetailItem
	TotalCount int64
}

func (c *cloud) setCustomizedConfig(_ context.Context, r *request, p *setCustomizedConfigParams) (any, error) {
	op := *p.OperationType
	if err := checkConfigOperation(op, p); err != nil {
		return nil, err
	}
	lbIDs, err := c.checkConfigLBIDs(p.LoadBalancerIDs)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	if op == opAdd {
		return c.addConfigLocked(r, *p.ConfigName, *p.ConfigContent)
	}
	cfg, err := c.configLocked(r, *p.UconfigID)
	if err != nil {
		return nil, err
	}
	var lbs []*loadBalancer
	var apply func()
	switch op {
	case opDelete:
		bound := c.configLBsLocked(cfg.ID)
		for _, lb := range bound {
			if lb.task != nil {
				return nil, busy(lb)
			}
		}
		if len(bound) > 0 {
			// UNCERTAIN: the code for deleting a bound configuration.
			return nil, errorf(codeFailedOperation, "The customized configuration %s is bound to load balancer %s; UNBIND it first.", cfg.ID, bound[0].ID)
		}
		apply = func() { delete(c.configs, cfg.ID) }
	case opUpdate:
		lbs = c.configLBsLocked(cfg.ID)
		for _, lb := range lbs {
			if lb.task != nil {
				return nil, busy(lb)
			}
		}
		name, content, now := p.ConfigName, p.ConfigContent, r.Now
		apply = func() {
			if name != nil {
				cfg.Name = *name
			}
			if content != nil {
				cfg.Content = *content
			}
			cfg.Updated = now
		}
	case opBind, opUnbind:
		if lbs, err = c.bindingLBsLocked(r.Region, cfg, op, lbIDs); err != nil {
			return nil, err
		}
		bindTo := cfg.ID
		if op == opUnbind {
			bindTo = ""
		}
		apply = func() {
			for _, lb := range lbs {
				lb.ConfigID = bindTo
			}
		}
	}
	t := c.startTasksLocked(r.RequestID, r.Region, lbs, r.Now, apply)
	t.configID = cfg.ID
	return setCustomizedConfigResponse{ConfigID: cfg.ID}, nil
}

// checkConfigOperation checks the fields each operation needs and refuses the ones it does
// not take, so a request cannot silently do less than its caller meant.
// UNCERTAIN: CLB documents what each operation needs, not whether it refuses the others.
func checkConfigOperation(op string, p *setCustomizedConfigParams) error {
	type need int
	const (
		no need = iota
		optional
		required
	)
	var id, name, content, lbs need
	switch op {
	case opAdd:
		name, content = required, required
	case opUpdate:
		id, name, content = required, optional, optional
		if p.ConfigName == nil && p.ConfigContent == nil {
			return errorf(codeMissingParameter, "The request is missing a required parameter: UPDATE needs ConfigName or ConfigContent.")
		}
	case opDelete:
		id = required
	case opBind, opUnbind:
		id, lbs = required, required
	default:
		return errorf(codeInvalidParameterValue, "OperationType must be ADD, DELETE, UPDATE, BIND or UNBIND.")
	}
	for _, f := range []struct {
		name  string
		given bool
		need  need
	}{{"UconfigId", p.UconfigID != nil, id}, {"ConfigName", p.ConfigName != nil, name}, {"ConfigContent", p.ConfigContent != nil, content}, {"LoadBalancerIds", len(p.LoadBalancerIDs) > 0, lbs}} {
		switch {
		case f.need == required && !f.given:
			return errorf(codeMissingParameter, "The request is missing a required parameter `%s` (OperationType %s).", f.name, op)
		case f.need == no && f.given:
			return errorf(codeInvalidParameter, "OperationType %s takes no %s.", op, f.name)
		}
	}
	if p.UconfigID != nil && !isResourceID(*p.UconfigID, "pz-") {
		return errorf(codeFormatError, "The customized configuration id `%s` is malformed; it looks like pz-abc12345.", *p.UconfigID)
	}
	if p.ConfigName != nil && (*p.ConfigName == "" || len([]rune(*p.ConfigName)) > maxConfigName) {
		return errorf(codeValueLength, "ConfigName must be 1-%d characters.", maxConfigName)
	}
	if p.ConfigContent != nil {
		if strings.TrimSpace(*p.ConfigContent) == "" {
			return errorf(codeInvalidParameterValue, "ConfigContent is empty.")
		}
		if _, err := parseCustomConfig(*p.ConfigContent); err != nil {
			return errorf(codeInvalidParameterValue, "ConfigContent: %s.", err.Error())
		}
	}
	return nil
}

// checkConfigLBIDs checks the shape of LoadBalancerIds; whether they exist is checked under
// the lock.
func (c *cloud) checkConfigLBIDs(ids []*string) ([]string, error) {
	if len(ids) > maxLBIDs {
		// UNCERTAIN: the documented limit was not found; tcsim takes DescribeLoadBalancers' 20.
		return nil, errorf(codeValueLength, "At most %d LoadBalancerIds may be given.", maxLBIDs)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := c.checkLBID(id); err != nil {
			return nil, err
		}
		if slices.Contains(out, *id) {
			return nil, errorf(codeInvalidParameterValue, "LoadBalancerIds lists %s twice.", *id)
		}
		out = append(out, *id)
	}
	return out, nil
}

func (c *cloud) addConfigLocked(r *request, name, content string) (any, error) {
	n := 0
	for _, cfg := range c.configs {
		if cfg.Region == r.Region {
			n++
		}
	}
	if n >= maxConfigsPerRegion {
		return nil, errorf(codeLimitExceeded, "Region %s already has %d customized configurations, the most CLB allows; delete unused ones.", r.Region, n)
	}
	cfg := &customConfig{ID: c.newConfigIDLocked(), Name: name, Region: r.Region, Content: content, Created: r.Now, Updated: r.Now}
	c.startTasksLocked(r.RequestID, r.Region, nil, r.Now, func() { c.configs[cfg.ID] = cfg })
	return setCustomizedConfigResponse{ConfigID: cfg.ID}, nil
}

func (c *cloud) newConfigIDLocked() string {
	for {
		id := "pz-" + randomLowerAlnum(8)
		if c.configs[id] == nil {
			return id
		}
	}
}

// configLBsLocked are the load balancers bound to configuration id or being bound or unbound
// by a running task, in topology order.
func (c *cloud) configLBsLocked(id string) []*loadBalancer {
	var out []*loadBalancer
	for _, lb := range c.lbs {
		if lb.ConfigID == id || lb.task != nil && lb.task.configID == id {
			out = append(out, lb)
		}
	}
	return out
}

// bindingLBsLocked finds the load balancers a BIND or UNBIND names and checks that each can
// take the change now.
func (c *cloud) bindingLBsLocked(region string, cfg *customConfig, op string, ids []string) ([]*loadBalancer, error) {
	lbs := make([]*loadBalancer, 0, len(ids))
	for _, id := range ids {
		lb, err := c.lbLocked(region, id)
		if err != nil {
			return nil, err
		}
		switch {
		case lb.task != nil:
			return nil, busy(lb)
		case op == opBind && lb.ConfigID != "" && lb.ConfigID != cfg.ID:
			// UNCERTAIN: whether CLB refuses a second configuration or replaces the first;
			// tcsim refuses, so a client cannot drop another configuration's settings unawares.
			return nil, errorf(codeInvalidParameter, "Load balancer %s already has customized configuration %s; a load balancer takes one: UNBIND it first, or UPDATE that one.", lb.ID, lb.ConfigID)
		case op == opUnbind && lb.ConfigID != cfg.ID:
			// UNCERTAIN: the code for unbinding a configuration that is not bound.
			return nil, errorf(codeInvalidParameter, "Customized configuration %s is not bound to load balancer %s.", cfg.ID, lb.ID)
		}
		lbs = append(lbs, lb)
	}
	return lbs, nil
}

func busy(lb *loadBalancer) error {
	return errorf(codeResourceInOperating, "The load balancer %s is being modified by task %s; retry when it completes.", lb.ID, lb.task.ID)
}

func (c *cloud) describeCustomizedConfigList(_ context.Context, r *request, p *describeCustomizedConfigListParams) (any, error) {
	switch *p.ConfigType {
	case configTypeCLB, "SERVER", "LOCATION":
	default:
		return nil, errorf(codeInvalidParameterValue, "ConfigType must be CLB, SERVER or LOCATION.")
	}
	offset, limit, err := configPage(p.paging)
	if err != nil {
		return nil, err
	}
	ids := distinct(p.UconfigIDs)
	for _, id := range ids {
		if !isResourceID(id, "pz-") {
			return nil, errorf(codeFormatError, "The customized configuration id `%s` is malformed; it looks like pz-abc12345.", id)
		}
	}
	var lbIDs, vips []string
	for _, f := range p.Filters {
		if f == nil {
			return nil, errorf(codeInvalidFilter, "A filter is null.")
		}
		switch *f.Name {
		case "loadbalancer-id":
			lbIDs = append(lbIDs, distinct(f.Values)...)
		case "vip":
			vips = append(vips, distinct(f.Values)...)
		default:
			return nil, errorf(codeInvalidFilter, "The filter `%s` is not supported; use loadbalancer-id or vip.", *f.Name)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	var matched []*customConfig
	for _, cfg := range c.configs {
		switch {
		case *p.ConfigType != configTypeCLB, // tcsim holds CLB-type configurations only
			cfg.Region != r.Region,
			len(ids) > 0 && !slices.Contains(ids, cfg.ID),
			p.ConfigName != nil && !strings.Contains(cfg.Name, *p.ConfigName),
			(len(lbIDs) > 0 || len(vips) > 0) && !c.boundToAnyLocked(cfg.ID, lbIDs, vips):
			continue
		}
		matched = append(matched, cfg)
	}
	// UNCERTAIN: CLB's order is not documented; tcsim lists the oldest first.
	slices.SortFunc(matched, func(a, b *customConfig) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID)) })
	resp := describeCustomizedConfigListResponse{ConfigList: []configListItem{}, TotalCount: int64(len(matched))}
	for _, cfg := range page(matched, offset, limit) {
		resp.ConfigList = append(resp.ConfigList, configListItem{
			UconfigID: cfg.ID, ConfigType: configTypeCLB, ConfigName: cfg.Name, ConfigContent: cfg.Content,
			CreateTimestamp: clbTime(cfg.Created), UpdateTimestamp: clbTime(cfg.Updated),
		})
	}
	return resp, nil
}

// boundToAnyLocked reports whether configuration id is bound to a load balancer named in
// lbIDs or with a VIP in vips (either list empty means no condition on it).
func (c *cloud) boundToAnyLocked(id string, lbIDs, vips []string) bool {
	return slices.ContainsFunc(c.lbs, func(lb *loadBalancer) bool {
		return lb.ConfigID == id && (len(lbIDs) == 0 || slices.Contains(lbIDs, lb.ID)) && (len(vips) == 0 || slices.Contains(vips, lb.VIP))
	})
}

// configLocked is the customized configuration id in the request's region. The caller holds
// c.mu.
func (c *cloud) configLocked(r *request, id string) (*customConfig, error) {
	cfg := c.configs[id]
	if cfg == nil || cfg.Region != r.Region {
		// UNCERTAIN: the code for an unknown configuration id.
		return nil, errorf(codeInvalidParameter, "The customized configuration `%s` does not exist in region %s.", id, r.Region)
	}
	return cfg, nil
}

// configPage applies the default paging and refuses values outside it.
func configPage(p paging[int64]) (uint64, uint64, error) {
	o, l := p.window(configListDefaultLimit)
	if o < 0 || l < 1 || l > configListMaxLimit {
		// UNCERTAIN: CLB documents the defaults, not the answer outside the range.
		return 0, 0, errorf(codeValueRange, "Offset must be at least 0 and Limit between 1 and %d.", configListMaxLimit)
	}
	return uint64(o), uint64(l), nil
}

func (c *cloud) describeCustomizedConfigAssociateList(_ context.Context, r *request, p *describeCustomizedConfigAssociateListParams) (any, error) {
	if !isResourceID(*p.UconfigID, "pz-") {
		return nil, errorf(codeFormatError, "The customized configuration id `%s` is malformed; it looks like pz-abc12345.", *p.UconfigID)
	}
	offset, limit, err := configPage(p.paging)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	cfg, err := c.configLocked(r, *p.UconfigID)
	if err != nil {
		return nil, err
	}
	var bound []bindDetailItem
	for _, lb := range c.lbs {
		// UNCERTAIN: Domain narrows SERVER and LOCATION bindings; a CLB-type binding has no
		// domain, so tcsim matches none when it is given.
		if lb.ConfigID == cfg.ID && p.Domain == nil {
			bound = append(bound, bindDetailItem{LoadBalancerID: lb.ID, UconfigID: cfg.ID})
		}
	}
	resp := describeCustomizedConfigAssociateListResponse{BindList: []bindDetailItem{}, TotalCount: int64(len(bound))}
	resp.BindList = append(resp.BindList, page(bound, offset, limit)...)
	return resp, nil
}
