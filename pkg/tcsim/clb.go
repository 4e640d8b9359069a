package tcsim

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// CLB API 2018-03-17. Field names follow the SDK's models.go (clb v1.3.105), behaviour
// docs/tencentcloud-api.md §3. Every call needs a region.
const (
	clbService = "clb"
	clbVersion = "2018-03-17"

	codeRegionNotFound      = "InvalidParameter.RegionNotFound"
	codeLBIDNotFound        = "InvalidParameter.LBIdNotFound"
	codeListenerIDNotFound  = "InvalidParameter.ListenerIdNotFound"
	codeLocationNotFound    = "InvalidParameter.LocationNotFound"
	codeFormatError         = "InvalidParameter.FormatError"
	codeResourceInOperating = "FailedOperation.ResourceInOperating"
	codeValueLength         = "InvalidParameterValue.Length"
	codeValueRange          = "InvalidParameterValue.Range"
	codeInvalidFilter       = "InvalidParameterValue.InvalidFilter"
	codeValueDuplicate      = "InvalidParameterValue.Duplicate"

	lbListDefaultLimit = 20
	lbListMaxLimit     = 100
	maxLBIDs           = 20
	maxListenerIDs     = 100
	maxCertIDs         = 20

	sslModeOneWay = "UNIDIRECTIONAL"
	sslModeMutual = "MUTUAL"
)

func (c *cloud) registerCLB(rt *routes) {
	actions := map[string]handler{
		"DescribeLoadBalancers":                 typed(c.describeLoadBalancers),
		"DescribeListeners":                     typed(c.describeListeners),
		"CreateListener":                        typed(c.createListener),
		"ModifyListener":                        typed(c.modifyListener),
		"ModifyDomainAttributes":                typed(c.modifyDomainAttributes),
		"DescribeTaskStatus":                    typed(c.describeTaskStatus),
		"DescribeLoadBalancerListByCertId":      typed(c.describeLoadBalancerListByCertID),
		"ModifyRule":                            typed(c.modifyRule),
		"RegisterTargets":                       typed(c.registerTargets),
		"DeregisterTargets":                     typed(c.deregisterTargets),
		"ModifyTargetWeight":                    typed(c.modifyTargetWeight),
		"DescribeTargets":                       typed(c.describeTargets),
		"DescribeTargetHealth":                  typed(c.describeTargetHealth),
		"SetCustomizedConfigForLoadBalancer":    typed(c.setCustomizedConfig),
		"DescribeCustomizedConfigList":          typed(c.describeCustomizedConfigList),
		"DescribeCustomizedConfigAssociateList": typed(c.describeCustomizedConfigAssociateList),
	}
	// CLB is a regional product: every action needs a valid region first.
	for action, h := range actions {
		actions[action] = regional(h)
	}
	rt.addAll(clbService, clbVersion, actions)
}

// regional refuses a call without a valid X-TC-Region before its parameters are looked at, as
// the API gateway does for regional products.
func regional(h handler) handler {
	return func(ctx context.Context, r *request) (any, error) {
		if r.Region == "" {
			// UNCERTAIN: the gateway's exact wording; MissingParameter naming Region is its shape.
			return nil, errorf(codeMissingParameter, "The request is missing a required parameter `Region`.")
		}
		if !knownRegion(r.Region) {
			// UNCERTAIN: the gateway may answer UnsupportedRegion; RegionNotFound is CLB's
			// own code in the error lists of its Describe actions.
			return nil, errorf(codeRegionNotFound, "The region `%s` does not exist.", r.Region)
		}
		return h(ctx, r)
	}
}

// Request parameters: every name the SDK can send (a test compares them with the SDK's).

type clbFilter struct {
	Name   *string   `tc:"required"`
	Values []*string `tc:"required"`
}

type describeLoadBalancersParams struct {
	paging[int64]
	LoadBalancerIDs []*string `json:"LoadBalancerIds"`
	ProjectID       *int64    `json:"ProjectId"`
	VpcID           *string   `json:"VpcId"`
	Filters         []*clbFilter

	LoadBalancerType, LoadBalancerName, Domain, OrderBy, SearchKey, SecurityGroup, MasterZone *string

	Forward, OrderType, WithRs *int64

	LoadBalancerVips, BackendPublicIps, BackendPrivateIps, AdditionalFields []*string
}

type describeListenersParams struct {
	listenerQuery
}

type clbHealthCheck struct {
	HealthSwitch, TimeOut, IntervalTime, HealthNum, UnHealthNum, HttpCode, CheckPort, SourceIpType *int64

	HttpCheckPath, HttpCheckDomain, HttpCheckMethod, ContextType, SendContext, RecvContext, CheckType, HttpVersion, ExtendedCode *string
}

type certificateInput struct {
	CertID   *string `json:"CertId"`
	CertCaID *string `json:"CertCaId"`

	SSLMode, SSLVerifyClient, CertName, CertKey, CertContent, CertCaName, CertCaContent *string
}

type multiCertInfo struct {
	CertList []*certInfo

	SSLMode, SSLVerifyClient *string
}

type certInfo struct {
	CertID *string `json:"CertId"`

	CertName, CertContent, CertKey *string
}

// listenerRef names the listener an action changes, as every such CLB action does.
type listenerRef struct {
	LoadBalancerID *string `json:"LoadBalancerId" tc:"required"`
	ListenerID     *string `json:"ListenerId" tc:"required"`
}

// listenerSettings are the settings CreateListener and ModifyListener both take (the SDK's two
// requests name them alike).
type listenerSettings struct {
	HealthCheck   *clbHealthCheck
	Certificate   *certificateInput
	MultiCertInfo *multiCertInfo

	SessionExpireTime, SniSwitch, KeepaliveEnable, MaxConn, MaxCps, IdleConnectTimeout, RescheduleStartTime, RescheduleInterval *int64

	Scheduler, TargetType, SessionType, DataCompressMode *string

	DeregisterTargetRst, ProxyProtocol, SnatEnable, RescheduleTargetZeroWeight, RescheduleUnhealthy, RescheduleExpandTarget *bool
}

// modifyListenerParams: ListenerName, Certificate or MultiCertInfo, and for layer-4 listeners Scheduler,
// SessionExpireTime and HealthCheck change what tcsim simulates; the other fields are checked
// where CLB documents a rule for them, then accepted.
type modifyListenerParams struct {
	listenerRef
	listenerSettings
	ListenerName *string
}

// modifyDomainAttributesParams: Certificate or MultiCertInfo, and NewDomain change what tcsim simulates; Http2,
// DefaultServer, Quic and NewDefaultServerDomain are accepted and change nothing.
type modifyDomainAttributesParams struct {
	listenerRef
	Domain        *string `tc:"required"`
	Certificate   *certificateInput
	NewDomains    []*string
	MultiCertInfo *multiCertInfo

	NewDomain, NewDefaultServerDomain *string

	Http2, DefaultServer, Quic *bool
}

type describeTaskStatusParams struct {
	TaskID   *string `json:"TaskId"`
	DealName *string
}

type describeLoadBalancerListByCertIDParams struct {
	CertIDs []*string `json:"CertIds" tc:"required"`
}

// Responses: the fields tcsim fills, a subset of the SDK's (a test checks the names).

type loadBalancerOutput struct {
	LoadBalancerID   string `json:"LoadBalancerId"`
	LoadBalancerVips []string
	ProjectID        uint64 `json:"ProjectId"`
	VpcID            string `json:"VpcId"`
	IsDDos           bool

	LoadBalancerName, LoadBalancerType, Domain, CreateTime, StatusTime, AddressIPVersion, VipIsp, ChargeType string

	Forward, Status uint64
}

type describeLoadBalancersResponse struct {
	TotalCount      uint64
	LoadBalancerSet []loadBalancerOutput
}

type certificateOutput struct {
	SSLMode         string
	SSLVerifyClient string   `json:"SSLVerifyClient,omitempty"`
	CertID          string   `json:"CertId"`
	CertCaID        string   `json:"CertCaId,omitempty"`
	ExtCertIDs      []string `json:"ExtCertIds,omitempty"`
}

type ruleOutput struct {
	LocationID        string `json:"LocationId"`
	Domains           []string
	URL               string `json:"Url"`
	SessionExpireTime int64
	HealthCheck       *clbHealthCheck
	Certificate       *certificateOutput `json:"Certificate,omitempty"`
	ListenerID        string             `json:"ListenerId"`

	Domain, Scheduler, ForwardType, CreateTime, TargetType string

	DefaultServer, Http2 bool
}

type listenerOutput struct {
	ListenerID  string             `json:"ListenerId"`
	Certificate *certificateOutput `json:"Certificate,omitempty"`
	HealthCheck *clbHealthCheck    `json:"HealthCheck,omitempty"`
	Scheduler   string             `json:"Scheduler,omitempty"`
	Rules       []ruleOutput       `json:"Rules,omitempty"`

	Protocol, ListenerName, CreateTime, TargetType, SessionType string

	Port, SessionExpireTime, SniSwitch, EndPort, KeepaliveEnable int64
}

type describeListenersResponse struct {
	Listeners  []listenerOutput
	TotalCount uint64
}

type describeTaskStatusResponse struct {
	Status          int64
	LoadBalancerIDs []string `json:"LoadBalancerIds"`
	Message         string
}

type certIDRelatedWithLoadBalancers struct {
	CertID        string `json:"CertId"`
	LoadBalancers []loadBalancerOutput
}

type describeLoadBalancerListByCertIDResponse struct {
	CertSet []certIDRelatedWithLoadBalancers
}

func (c *cloud) describeLoadBalancers(_ context.Context, r *request, p *describeLoadBalancersParams) (any, error) {
	if len(p.LoadBalancerIDs) > maxLBIDs {
		return nil, errorf(codeValueLength, "At most %d LoadBalancerIds may be given.", maxLBIDs)
	}
	for _, id := range p.LoadBalancerIDs {
		if err := c.checkLBID(id); err != nil {
			return nil, err
		}
	}
	offset, limit := p.window(lbListDefaultLimit)
	// UNCERTAIN: CLB documents the range but not the answer outside it; tcsim refuses.
	if offset < 0 || limit < 1 || limit > lbListMaxLimit {
		return nil, errorf(codeValueRange, "Offset must be at least 0 and Limit between 1 and %d.", lbListMaxLimit)
	}
	if p.LoadBalancerType != nil && *p.LoadBalancerType != "OPEN" && *p.LoadBalancerType != "INTERNAL" {
		return nil, errorf(codeInvalidParameterValue, "LoadBalancerType must be OPEN or INTERNAL.")
	}
	less, err := lbOrder(p.OrderBy, p.OrderType)
	if err != nil {
		return nil, err
	}
	for _, f := range p.Filters {
		if f == nil {
			return nil, errorf(codeInvalidFilter, "A filter is null.")
		}
		if !knownLBFilter(*f.Name) {
			return nil, errorf(codeInvalidFilter, "The filter `%s` is not supported.", *f.Name)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var matched []*loadBalancer
	for _, lb := range c.lbs {
		if lb.Region == r.Region && lbMatches(lb, p) {
			matched = append(matched, lb)
		}
	}
	slices.SortStableFunc(matched, less)
	resp := describeLoadBalancersResponse{TotalCount: uint64(len(matched)), LoadBalancerSet: []loadBalancerOutput{}}
	for _, lb := range page(matched, uint64(offset), uint64(limit)) {
		resp.LoadBalancerSet = append(resp.LoadBalancerSet, lbOutput(lb))
	}
	return resp, nil
}

// checkLBID refuses a malformed id, and any call that names a failing load balancer
// (FailingLBs, SetFailing).
func (c *cloud) checkLBID(id *string) error {
	if id == nil || !isResourceID(*id, "lb-") {
		// UNCERTAIN: FormatError is listed for these actions; the message is tcsim's.
		return errorf(codeFormatError, "The load balancer id `%s` is malformed.", deref(id))
	}
	c.failMu.Lock()
	failing := c.failing[*id]
	c.failMu.Unlock()
	if failing {
		return internalError()
	}
	return nil
}

// checkRequiredList refuses a list parameter that must hold 1 to limit items but holds n.
func checkRequiredList(name string, n, limit int) error {
	switch {
	case n == 0:
		return errorf(codeMissingParameter, "The request is missing a required parameter `%s`.", name)
	case n > limit:
		return errorf(codeValueLength, "At most %d %s may be given.", limit, name)
	}
	return nil
}

// lbMatches applies DescribeLoadBalancers' filters. The simulated load balancers are public,
// current-generation, in project 0, without backends, VPC, security groups, tags or a
// Tencent-assigned domain, so a filter on any of those matches none of them.
func lbMatches(lb *loadBalancer, p *describeLoadBalancersParams) bool {
	if len(p.LoadBalancerIDs) > 0 && !slices.ContainsFunc(p.LoadBalancerIDs, func(id *string) bool { return *id == lb.ID }) {
		return false
	}
	if len(p.LoadBalancerVips) > 0 && !slices.ContainsFunc(p.LoadBalancerVips, func(v *string) bool { return v != nil && *v == lb.VIP }) {
		return false
	}
	if p.LoadBalancerName != nil && !strings.Contains(lb.Name, *p.LoadBalancerName) {
		return false
	}
	if key := deref(p.SearchKey); key != "" && !strings.Contains(lb.Name, key) && !strings.Contains(lb.ID, key) && !strings.Contains(lb.VIP, key) {
		return false
	}
	switch {
	case p.LoadBalancerType != nil && *p.LoadBalancerType != "OPEN",
		p.Forward != nil && *p.Forward != 1,
		deref(p.Domain) != "", len(p.BackendPublicIps) > 0, len(p.BackendPrivateIps) > 0,
		p.ProjectID != nil && *p.ProjectID != 0,
		p.WithRs != nil && *p.WithRs == 1,
		deref(p.VpcID) != "", deref(p.SecurityGroup) != "", deref(p.MasterZone) != "":
		return false
	}
	attrs := map[string]string{
		"charge-type": "POSTPAID_BY_HOUR", "internet-charge-type": "TRAFFIC_POSTPAID_BY_HOUR",
		"vip-isp": "BGP", "exclusive": "0",
	}
	for _, f := range p.Filters {
		v, ok := attrs[*f.Name]
		if !ok || !slices.ContainsFunc(f.Values, func(want *string) bool { return want != nil && *want == v }) {
			return false
		}
	}
	return true
}

func knownLBFilter(name string) bool {
	switch name {
	case "charge-type", "internet-charge-type", "master-zone-id", "tag-key", "function-name",
		"vip-isp", "sla-type", "exclusive":
		return true
	}
	return strings.HasPrefix(name, "tag:")
}

// lbOrder is DescribeLoadBalancers' sort: by CreateTime, newest first, unless asked otherwise.
func lbOrder(by *string, typ *int64) (func(a, b *loadBalancer) int, error) {
	desc := typ == nil || *typ == 1
	if typ != nil && *typ != 0 && *typ != 1 {
		return nil, errorf(codeInvalidParameterValue, "OrderType must be 0 or 1.")
	}
	var key func(a, b *loadBalancer) int
	switch deref(by) {
	case "", "CreateTime":
		key = func(a, b *loadBalancer) int { return a.Created.Compare(b.Created) }
	case "LoadBalancerName":
		key = func(a, b *loadBalancer) int { return cmp.Compare(a.Name, b.Name) }
	case "Domain", "LoadBalancerType":
		// Every simulated load balancer has the same (empty) domain and type.
		key = func(a, b *loadBalancer) int { return 0 }
	default:
		return nil, errorf(codeInvalidParameterValue, "OrderBy `%s` is not supported.", deref(by))
	}
	return func(a, b *loadBalancer) int {
		k := key(a, b)
		if desc {
			k = -k
		}
		return cmp.Or(k, cmp.Compare(a.ID, b.ID))
	}, nil
}

func lbOutput(lb *loadBalancer) loadBalancerOutput {
	return loadBalancerOutput{
		LoadBalancerID: lb.ID, LoadBalancerName: lb.Name, LoadBalancerType: "OPEN", Forward: 1,
		LoadBalancerVips: []string{lb.VIP}, Status: 1, CreateTime: clbTime(lb.Created), StatusTime: clbTime(lb.Created),
		AddressIPVersion: "ipv4", VipIsp: "BGP", ChargeType: "POSTPAID_BY_HOUR",
	}
}

func (c *cloud) describeListeners(_ context.Context, r *request, p *describeListenersParams) (any, error) {
	if err := c.checkListenerQuery(p.listenerQuery, maxListenerIDs); err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	lb, err := c.settledLBLocked(r, *p.LoadBalancerID)
	if err != nil {
		return nil, err
	}
	resp := describeListenersResponse{Listeners: []listenerOutput{}}
	for _, l := range lb.Listeners {
		if p.matches(l) {
			resp.Listeners = append(resp.Listeners, listenerOut(l))
		}
	}
	resp.TotalCount = uint64(len(resp.Listeners))
	return resp, nil
}

func listenerOut(l *listener) listenerOutput {
	out := listenerOutput{
		ListenerID: l.ID, Protocol: l.Protocol, Port: int64(l.Port), ListenerName: l.Name,
		CreateTime: clbTime(l.Created), TargetType: "NODE", SessionType: "NORMAL",
	}
	if l.SNI {
		out.SniSwitch = 1
	}
	if !l.SNI {
		out.Certificate = l.Cert.output()
	}
	if isLayer7(l.Protocol) {
		out.Rules = []ruleOutput{}
		for _, r := range l.Rules {
			ro := ruleOutput{
				LocationID: r.LocationID, Domain: r.Domain, Domains: []string{r.Domain}, URL: r.URL,
				SessionExpireTime: int64(r.SessionExpire), HealthCheck: healthCheckOut(r.Health),
				Scheduler: r.Scheduler, ListenerID: l.ID, DefaultServer: r.Domain == l.Rules[0].Domain,
				ForwardType: "HTTP", CreateTime: clbTime(r.Created), TargetType: "NODE",
			}
			if l.SNI {
				ro.Certificate = r.Cert.output()
			}
			out.Rules = append(out.Rules, ro)
		}
	} else {
		out.Scheduler, out.SessionExpireTime, out.HealthCheck = l.Scheduler, int64(l.SessionExpire), healthCheckOut(l.Health)
	}
	return out
}

func isLayer7(protocol string) bool { return protocol == protoHTTP || protocol == protoHTTPS }

// settledLBLocked completes the tasks due at the request's time, then finds load balancer id
// in the request's region: what an action sees of it. The caller holds c.mu.
func (c *cloud) settledLBLocked(r *request, id string) (*loadBalancer, error) {
	c.settleLocked(r.Now)
	return c.lbLocked(r.Region, id)
}

// lbLocked finds a load balancer of the request's region.
func (c *cloud) lbLocked(region, id string) (*loadBalancer, error) {
	lb := c.lbByID[id]
	if lb == nil || lb.Region != region {
		return nil, errorf(codeLBIDNotFound, "The load balancer `%s` does not exist in region %s.", id, region)
	}
	return lb, nil
}

// changeListener is the start of every action that changes listener listenerID of load
// balancer lbID: it checks the load balancer id, takes the lock, completes due tasks, finds
// the listener and refuses while its load balancer runs a task. change runs with the lock
// held; it checks the rest of the request and starts the task.
func (c *cloud) changeListener(r *request, lbID, listenerID *string, change func(lb *loadBalancer, l *listener) error) (any, error) {
	if err := c.checkLBID(lbID); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	lb, err := c.settledLBLocked(r, *lbID)
	if err != nil {
		return nil, err
	}
	_, l := c.findLocked(lb.ID, *listenerID)
	if l == nil {
		// UNCERTAIN: ListenerIdNotFound is in CLB's error list but not these actions'.
		return nil, errorf(codeListenerIDNotFound, "The listener `%s` does not exist on load balancer %s.", *listenerID, lb.ID)
	}
	if lb.task != nil {
		return nil, busy(lb)
	}
	if err := change(lb, l); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *cloud) modifyListener(_ context.Context, r *request, p *modifyListenerParams) (any, error) {
	return c.changeListener(r, p.LoadBalancerID, p.ListenerID, func(lb *loadBalancer, l *listener) error {
		if err := checkListenerChange(l, p); err != nil {
			return err
		}
		var bal balancingChange
		var err error
		if !isLayer7(l.Protocol) {
			if bal, err = checkBalancingChange(&l.balancing, l.Protocol, p.Scheduler, p.SessionExpireTime, p.HealthCheck); err != nil {
				return err
			}
		}
		if err := checkListenerCertTarget(l.Protocol, l.SNI, p.Certificate, p.MultiCertInfo); err != nil {
			return err
		}
		cert, rebind, err := c.bindingLocked(p.Certificate, p.MultiCertInfo, r.Now)
		if err != nil {
			return err
		}
		c.startTaskLocked(r.RequestID, lb, r.Now, boundIDs(cert), func() {
			if p.ListenerName != nil {
				l.Name = *p.ListenerName
			}
			if rebind {
				l.Cert = cert
			}
			bal.apply(&l.balancing)
		})
		return nil
	})
}

// checkListenerChange applies ModifyListener's documented rules to fields tcsim otherwise
// ignores, so a call that CLB refuses is refused here too.
func checkListenerChange(l *listener, p *modifyListenerParams) error {
	if err := checkPerRuleBalancing(l.Protocol, p.HealthCheck, p.Scheduler, p.SessionExpireTime); err != nil {
		return err
	}
	if err := checkSniSwitch(l.Protocol, p.SniSwitch); err != nil {
		return err
	}
	switch {
	case p.SniSwitch == nil:
	case l.SNI && *p.SniSwitch == 0:
		return errorf(codeInvalidParameter, "SNI cannot be switched off once it is on.")
	case !l.SNI && *p.SniSwitch == 1:
		return errorf(codeInvalidParameter, "tcsim does not simulate switching SNI on; describe the listener with SNI in the topology.")
	}
	return nil
}

// checkPerRuleBalancing refuses HealthCheck, Scheduler and SessionExpireTime for an HTTP or
// HTTPS listener (ModifyListener, CreateListener): layer 7 sets them per rule.
func checkPerRuleBalancing(protocol string, hc *clbHealthCheck, scheduler *string, sessionExpire *int64) error {
	if isLayer7(protocol) && (hc != nil || scheduler != nil || sessionExpire != nil) {
		return errorf(codeInvalidParameter, "HealthCheck, Scheduler and SessionExpireTime of an %s listener are set per rule.", protocol)
	}
	return nil
}

// checkSniSwitch checks an SniSwitch given for a listener of protocol.
func checkSniSwitch(protocol string, sni *int64) error {
	switch {
	case sni == nil:
	case *sni != 0 && *sni != 1:
		return errorf(codeInvalidParameterValue, "SniSwitch must be 0 or 1.")
	case protocol != protoHTTPS:
		return errorf(codeInvalidParameter, "SNI is for HTTPS listeners only.")
	}
	return nil
}

// checkListenerCertTarget refuses a listener certificate (Certificate or MultiCertInfo,
// ModifyListener and CreateListener) where a listener of protocol, with SNI on or off,
// takes none.
func checkListenerCertTarget(protocol string, sni bool, single *certificateInput, multi *multiCertInfo) error {
	switch {
	case single == nil && multi == nil:
	case sni:
		// UNCERTAIN: the code is not documented (maybe InvalidParameter.ProtocolCheckFailed).
		return errorf(codeInvalidParameter, "A listener with SNI on takes no listener certificate: its certificates are per domain (ModifyDomainAttributes).")
	case protocol != protoHTTPS && protocol != protoTCPSSL && protocol != protoQUIC:
		// UNCERTAIN: the exact code for a certificate on a plain listener.
		return errorf(codeInvalidParameter, "A %s listener takes no certificate.", protocol)
	case multi != nil && protocol == protoQUIC:
		// §3: MultiCertInfo is for HTTPS without SNI and TCP_SSL.
		return errorf(codeInvalidParameter, "MultiCertInfo is for HTTPS listeners without SNI and TCP_SSL listeners, not %s.", protocol)
	}
	return nil
}

// boundIDs are the certificates a binding uses, nil for none.
func boundIDs(b certBinding) []string {
	if b.empty() {
		return nil
	}
	ids := slices.Clone(b.CertIDs)
	if b.CaID != "" {
		ids = append(ids, b.CaID)
	}
	return ids
}

func (c *cloud) modifyDomainAttributes(_ context.Context, r *request, p *modifyDomainAttributesParams) (any, error) {
	return c.changeListener(r, p.LoadBalancerID, p.ListenerID, func(lb *loadBalancer, l *listener) error {
		if !isLayer7(l.Protocol) {
			return errorf(codeInvalidParameter, "A %s listener has no domains.", l.Protocol)
		}
		domain := strings.ToLower(*p.Domain)
		var rules []*rule
		for _, rl := range l.Rules {
			if rl.Domain == domain {
				rules = append(rules, rl)
			}
		}
		if len(rules) == 0 {
			// UNCERTAIN: not in this action's documented list; CLB's code for a missing rule.
			return errorf(codeLocationNotFound, "No forwarding rule of listener %s has the domain `%s`.", l.ID, *p.Domain)
		}
		newDomain, err := checkNewDomain(l, domain, p.NewDomain, p.NewDomains)
		if err != nil {
			return err
		}
		if (p.Certificate != nil || p.MultiCertInfo != nil) && !l.SNI {
			// UNCERTAIN: the code when the listener has SNI off.
			return errorf(codeInvalidParameter, "Listener %s has SNI off: its certificate is the listener's; use ModifyListener.", l.ID)
		}
		cert, rebind, err := c.bindingLocked(p.Certificate, p.MultiCertInfo, r.Now)
		if err != nil {
			return err
		}
		c.startTaskLocked(r.RequestID, lb, r.Now, boundIDs(cert), func() {
			for _, rl := range rules {
				if rebind {
					rl.Cert = cert
				}
				if newDomain != "" {
					rl.Domain = newDomain
				}
			}
		})
		return nil
	})
}

// checkNewDomain validates a rename of domain on l and returns the new name ("" for none).
func checkNewDomain(l *listener, domain string, newDomain *string, newDomains []*string) (string, error) {
	switch {
	case newDomain != nil && len(newDomains) > 0:
		return "", errorf(codeInvalidParameter, "NewDomain and NewDomains are mutually exclusive.")
	case len(newDomains) > 0:
		return "", errorf(codeInvalidParameter, "tcsim does not simulate multi-domain rules (NewDomains); use NewDomain.")
	case newDomain == nil:
		return "", nil
	}
	nd := strings.ToLower(*newDomain)
	if !validRuleDomain(nd) {
		return "", errorf(codeInvalidParameterValue, "The domain `%s` is invalid.", *newDomain)
	}
	if nd != domain && slices.ContainsFunc(l.Rules, func(r *rule) bool { return r.Domain == nd }) {
		// UNCERTAIN: the code for renaming onto a domain the listener already has.
		return "", errorf(codeValueDuplicate, "Listener %s already has the domain `%s`.", l.ID, nd)
	}
	return nd, nil
}

func (c *cloud) describeTaskStatus(_ context.Context, r *request, p *describeTaskStatusParams) (any, error) {
	switch {
	case p.TaskID != nil && p.DealName != nil:
		return nil, errorf(codeInvalidParameter, "Give TaskId or DealName, not both.")
	case p.DealName != nil:
		// The simulated account buys nothing, so there is no order to ask about.
		return nil, errorf(codeInvalidParameter, "The order `%s` does not exist.", *p.DealName)
	case deref(p.TaskID) == "":
		return nil, errorf(codeMissingParameter, "The request is missing a required parameter `TaskId`.")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	t := c.tasks[*p.TaskID]
	if t == nil || t.Region != r.Region {
		// UNCERTAIN: the code for an unknown task id.
		return nil, errorf(codeInvalidParameter, "The task `%s` does not exist in region %s.", *p.TaskID, r.Region)
	}
	if t.Status == taskRunning && t.onPoll {
		c.completeLocked(t)
	}
	return describeTaskStatusResponse{Status: t.Status, LoadBalancerIDs: t.lbIDs()}, nil
}

func (c *cloud) describeLoadBalancerListByCertID(_ context.Context, r *request, p *describeLoadBalancerListByCertIDParams) (any, error) {
	if err := checkRequiredList("CertIds", len(p.CertIDs), maxCertIDs); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	resp := describeLoadBalancerListByCertIDResponse{CertSet: []certIDRelatedWithLoadBalancers{}}
	for _, id := range distinct(p.CertIDs) {
		entry := certIDRelatedWithLoadBalancers{CertID: id, LoadBalancers: []loadBalancerOutput{}}
		for _, lb := range c.lbs {
			if lb.Region == r.Region && usesCert(lb, id) {
				entry.LoadBalancers = append(entry.LoadBalancers, lbOutput(lb))
			}
		}
		// UNCERTAIN: whether a certificate no load balancer uses is listed with an empty list;
		// tcsim leaves it out, so clients must not expect one entry per requested id.
		if len(entry.LoadBalancers) > 0 {
			resp.CertSet = append(resp.CertSet, entry)
		}
	}
	return resp, nil
}

// clbTime formats t the way CLB does: Beijing time, "YYYY-MM-DD HH:MM:SS".
func clbTime(t time.Time) string { return dnspodTime(t) }
