package tcsim

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets: RegisterTargets, DeregisterTargets and ModifyTargetWeight change a layer-4
// listener's or a layer-7 rule's targets as tasks; DescribeTargets and DescribeTargetHealth
// read them. tcsim's targets are addresses on loopback, bound the way CLB binds an IP
// (Target.EniIp); it has no CVM instances to bind by InstanceId.
const (
	maxTargetsPerCall  = 20 // RegisterTargets' and DeregisterTargets' documented array limit
	maxHealthLBIDs     = 30 // DescribeTargetHealth's LoadBalancerIds
	maxTargetListeners = 20 // DescribeTargets' ListenerIds

	// backendTypeENI is the Backend.Type of a target bound by IP.
	// UNCERTAIN: CLB may name IP targets of other networks CCN or NAT; tcsim's are one network.
	backendTypeENI = "ENI"
)

type clbTarget struct {
	InstanceID *string `json:"InstanceId"`
	EniIP      *string `json:"EniIp"`

	Port, Weight *int64

	Type, Tag *string
}

// targetsParams are RegisterTargets' and DeregisterTargets' parameters (the same fields), and
// ModifyTargetWeight's but for its Weight.
type targetsParams struct {
	listenerRef
	Targets    []*clbTarget `tc:"required"`
	LocationID *string      `json:"LocationId"`
	Domain     *string
	URL        *string `json:"Url"`
}

type modifyTargetWeightParams struct {
	targetsParams
	Weight *int64
}

type describeTargetsParams struct {
	listenerQuery
	Filters []*clbFilter
}

type describeTargetHealthParams struct {
	LoadBalancerIDs []*string `json:"LoadBalancerIds" tc:"required"`
	ListenerIDs     []*string `json:"ListenerIds"`
	LocationIDs     []*string `json:"LocationIds"`
}

type backendOutput struct {
	InstanceID string `json:"InstanceId"`

	Type, InstanceName, RegisteredTime, Tag string

	Port, Weight int64

	PublicIpAddresses, PrivateIpAddresses []string
}

type ruleTargets struct {
	LocationID string `json:"LocationId"`
	Domain     string
	URL        string `json:"Url"`
	Targets    []backendOutput
}

// listenerBackend has Rules for a layer-7 listener and Targets for a layer-4 one; the other
// is null, as in CLB's answers.
type listenerBackend struct {
	ListenerID string `json:"ListenerId"`
	Protocol   string
	Rules      []ruleTargets
	Targets    []backendOutput

	Port, EndPort int64
}

type describeTargetsResponse struct {
	Listeners []listenerBackend
}

type targetHealthOutput struct {
	Port         int64
	HealthStatus bool
	TargetID     string `json:"TargetId"`
	// HealthStatusDetial is the misspelt field CLB still fills for old clients.
	HealthStatusDetial string `json:"HealthStatusDetial"`
	Weight             uint64

	IP, HealthStatusDetail string
}

// ruleHealth of a layer-4 listener carries its targets without a rule: Domain and Url null.
type ruleHealth struct {
	LocationID string `json:"LocationId"`
	Domain     *string
	URL        *string `json:"Url"`
	Targets    []targetHealthOutput
}

type listenerHealth struct {
	ListenerID string `json:"ListenerId"`
	Port       int64
	Rules      []ruleHealth

	ListenerName, Protocol string
}

type loadBalancerHealth struct {
	LoadBalancerID   string `json:"LoadBalancerId"`
	LoadBalancerName string
	Listeners        []listenerHealth
}

type describeTargetHealthResponse struct {
	LoadBalancers []loadBalancerHealth
}

// targetInput is one checked Target of a request.
type targetInput struct {
	ip     string
	port   int
	weight *int
	tag    string
}

func (t targetInput) addr() string { return net.JoinHostPort(t.ip, strconv.Itoa(t.port)) }

// checkTargets validates a request's Targets: each an EniIp on loopback with a port, none
// twice.
func checkTargets(ts []*clbTarget) ([]targetInput, error) {
	if err := checkRequiredList("Targets", len(ts), maxTargetsPerCall); err != nil {
		return nil, err
	}
	out := make([]targetInput, 0, len(ts))
	seen := map[string]bool{}
	for i, t := range ts {
		at := "Targets." + strconv.Itoa(i)
		switch {
		case t == nil:
			return nil, errorf(codeMissingParameter, "The request is missing a required parameter `%s`.", at)
		case t.InstanceID != nil && t.EniIP != nil:
			return nil, errorf(codeInvalidParameter, "%s: give InstanceId or EniIp, not both.", at)
		case t.InstanceID != nil:
			return nil, errorf(codeInvalidParameter, "%s: tcsim simulates IP targets only; bind the backend by EniIp (a loopback IP) instead of InstanceId.", at)
		case t.EniIP == nil:
			return nil, errorf(codeMissingParameter, "The request is missing a required parameter `%s.EniIp`.", at)
		case t.Port == nil:
			return nil, errorf(codeMissingParameter, "The request is missing a required parameter `%s.Port`.", at)
		case *t.Port < 1 || *t.Port > 65535:
			return nil, errorf(codeInvalidParameterValue, "%s.Port %d is not 1-65535.", at, *t.Port)
		case t.Weight != nil && (*t.Weight < 0 || *t.Weight > maxTargetWeight):
			return nil, errorf(codeInvalidParameterValue, "%s.Weight %d is not 0-%d.", at, *t.Weight, maxTargetWeight)
		}
		ip := net.ParseIP(*t.EniIP)
		if ip == nil {
			return nil, errorf(codeInvalidParameterValue, "%s.EniIp %q is not an IP address.", at, *t.EniIP)
		}
		if !ip.IsLoopback() {
			return nil, errorf(codeInvalidParameterValue, "%s.EniIp %s is not on loopback, the only network tcsim's load balancers reach.", at, ip)
		}
		in := targetInput{ip: ip.String(), port: int(*t.Port), tag: deref(t.Tag)}
		if t.Weight != nil {
			w := int(*t.Weight)
			in.weight = &w
		}
		if seen[in.addr()] {
			return nil, errorf(codeValueDuplicate, "%s: %s is given twice.", at, in.addr())
		}
		seen[in.addr()] = true
		out = append(out, in)
	}
	return out, nil
}

// balancingForTargetsLocked finds where a target request applies: a layer-4 listener itself,
// or the rule of a layer-7 listener named by LocationId, else by Domain and Url.
func balancingForTargetsLocked(l *listener, locationID, domain, url *string) (*balancing, error) {
	if !isLayer7(l.Protocol) {
		if locationID != nil || domain != nil || url != nil {
			return nil, errorf(codeInvalidParameter, "A %s listener has no forwarding rules; leave LocationId, Domain and Url out.", l.Protocol)
		}
		return &l.balancing, nil
	}
	if locationID != nil {
		if r := ruleByLocation(l, *locationID); r != nil {
			return &r.balancing, nil
		}
		return nil, errorf(codeLocationNotFound, "Listener %s has no forwarding rule `%s`.", l.ID, *locationID)
	}
	if domain == nil || url == nil {
		return nil, errorf(codeMissingParameter, "The request is missing a required parameter: a %s listener's targets are on a rule; give LocationId, or Domain and Url.", l.Protocol)
	}
	d := strings.ToLower(*domain)
	for _, r := range l.Rules {
		if r.Domain == d && r.URL == *url {
			return &r.balancing, nil
		}
	}
	return nil, errorf(codeLocationNotFound, "Listener %s has no forwarding rule for domain `%s` and url `%s`.", l.ID, *domain, *url)
}

func findTarget(b *balancing, in targetInput) *target {
	for _, t := range b.Targets {
		if t.IP == in.ip && t.Port == in.port {
			return t
		}
	}
	return nil
}

// changeTargets is the start of the target actions: the targets are checked before anything
// is looked up, then change runs as changeListener's with the listener or rule they go to.
func (c *cloud) changeTargets(r *request, p *targetsParams, change func(lb *loadBalancer, b *balancing, ins []targetInput) error) (any, error) {
	ins, err := checkTargets(p.Targets)
	if err != nil {
		return nil, err
	}
	return c.changeListener(r, p.LoadBalancerID, p.ListenerID, func(lb *loadBalancer, l *listener) error {
		b, err := balancingForTargetsLocked(l, p.LocationID, p.Domain, p.URL)
		if err != nil {
			return err
		}
		return change(lb, b, ins)
	})
}

func (c *cloud) registerTargets(_ context.Context, r *request, p *targetsParams) (any, error) {
	return c.changeTargets(r, p, func(lb *loadBalancer, b *balancing, ins []targetInput) error {
		for _, in := range ins {
			if findTarget(b, in) != nil {
				// UNCERTAIN: the code for a target that is already bound.
				return errorf(codeValueDuplicate, "%s is already bound here.", in.addr())
			}
		}
		now := r.Now
		c.startTaskLocked(r.RequestID, lb, now, nil, func() {
			for _, in := range ins {
				t := &target{IP: in.ip, Port: in.port, Weight: defaultTargetWeight, Health: initialHealth(b.Health), Tag: in.tag, Registered: now}
				if in.weight != nil {
					t.Weight = *in.weight
				}
				b.Targets = append(b.Targets, t)
			}
		})
		return nil
	})
}

func (c *cloud) deregisterTargets(_ context.Context, r *request, p *targetsParams) (any, error) {
	// UNCERTAIN: DeregisterTargets' error list lacks ResourceInOperating; tcsim answers it for
	// a busy load balancer as for every other change.
	return c.changeTargets(r, p, func(lb *loadBalancer, b *balancing, ins []targetInput) error {
		if err := checkBound(b, ins); err != nil {
			return err
		}
		c.startTaskLocked(r.RequestID, lb, r.Now, nil, func() {
			b.Targets = slices.DeleteFunc(slices.Clone(b.Targets), func(t *target) bool {
				return slices.ContainsFunc(ins, func(in targetInput) bool { return t.IP == in.ip && t.Port == in.port })
			})
		})
		return nil
	})
}

// checkBound refuses targets that are not bound to b.
func checkBound(b *balancing, ins []targetInput) error {
	for _, in := range ins {
		if findTarget(b, in) == nil {
			// UNCERTAIN: the code for a target that is not bound.
			return errorf(codeInvalidParameter, "%s is not bound here; DescribeTargets lists what is.", in.addr())
		}
	}
	return nil
}

func (c *cloud) modifyTargetWeight(_ context.Context, r *request, p *modifyTargetWeightParams) (any, error) {
	if p.Weight != nil && (*p.Weight < 0 || *p.Weight > maxTargetWeight) {
		return nil, errorf(codeInvalidParameterValue, "Weight %d is not 0-%d.", *p.Weight, maxTargetWeight)
	}
	// A target's own Weight wins over the request's, which defaults to 10.
	weight := defaultTargetWeight
	if p.Weight != nil {
		weight = int(*p.Weight)
	}
	// UNCERTAIN: ModifyTargetWeight documents no array limit; tcsim applies the 20 of
	// RegisterTargets.
	return c.changeTargets(r, &p.targetsParams, func(lb *loadBalancer, b *balancing, ins []targetInput) error {
		if err := checkBound(b, ins); err != nil {
			return err
		}
		c.startTaskLocked(r.RequestID, lb, r.Now, nil, func() {
			for _, in := range ins {
				if t := findTarget(b, in); t != nil {
					t.Weight = weight
					if in.weight != nil {
						t.Weight = *in.weight
					}
				}
			}
		})
		return nil
	})
}

func (c *cloud) describeTargets(_ context.Context, r *request, p *describeTargetsParams) (any, error) {
	if err := c.checkListenerQuery(p.listenerQuery, maxTargetListeners); err != nil {
		return nil, err
	}
	var locations, ips, tags []string
	for _, f := range p.Filters {
		if f == nil {
			return nil, errorf(codeInvalidFilter, "A filter is null.")
		}
		values := distinct(f.Values)
		switch *f.Name {
		case "location-id":
			locations = append(locations, values...)
		case "private-ip-address":
			ips = append(ips, values...)
		case "tag":
			tags = append(tags, values...)
		default:
			return nil, errorf(codeInvalidFilter, "The filter `%s` is not supported; use location-id, private-ip-address or tag.", *f.Name)
		}
	}
	keepTarget := func(t *target) bool {
		return (len(ips) == 0 || slices.Contains(ips, t.IP)) && (len(tags) == 0 || slices.Contains(tags, t.Tag))
	}
	filtered := len(locations) > 0 || len(ips) > 0 || len(tags) > 0

	c.mu.Lock()
	defer c.mu.Unlock()
	lb, err := c.settledLBLocked(r, *p.LoadBalancerID)
	if err != nil {
		return nil, err
	}
	// UNCERTAIN: with filters, listeners and rules left without a matching target are left
	// out; without, every listener and rule is listed, with or without targets.
	resp := describeTargetsResponse{Listeners: []listenerBackend{}}
	for _, l := range lb.Listeners {
		if !p.matches(l) {
			continue
		}
		out := listenerBackend{ListenerID: l.ID, Protocol: l.Protocol, Port: int64(l.Port)}
		if !isLayer7(l.Protocol) {
			if len(locations) > 0 {
				continue
			}
			out.Targets = backendsOut(&l.balancing, l.Created, keepTarget)
			if filtered && len(out.Targets) == 0 {
				continue
			}
			resp.Listeners = append(resp.Listeners, out)
			continue
		}
		out.Rules = []ruleTargets{}
		for _, rl := range l.Rules {
			if len(locations) > 0 && !slices.Contains(locations, rl.LocationID) {
				continue
			}
			rt := ruleTargets{LocationID: rl.LocationID, Domain: rl.Domain, URL: rl.URL, Targets: backendsOut(&rl.balancing, rl.Created, keepTarget)}
			if filtered && len(rt.Targets) == 0 {
				continue
			}
			out.Rules = append(out.Rules, rt)
		}
		if filtered && len(out.Rules) == 0 {
			continue
		}
		resp.Listeners = append(resp.Listeners, out)
	}
	return resp, nil
}

// listenerQuery is how DescribeListeners and DescribeTargets narrow a load balancer's
// listeners.
type listenerQuery struct {
	LoadBalancerID *string   `json:"LoadBalancerId" tc:"required"`
	ListenerIDs    []*string `json:"ListenerIds"`
	Protocol       *string
	Port           *int64
}

// checkListenerQuery validates q, with at most maxIDs ListenerIds.
func (c *cloud) checkListenerQuery(q listenerQuery, maxIDs int) error {
	if err := c.checkLBID(q.LoadBalancerID); err != nil {
		return err
	}
	if len(q.ListenerIDs) > maxIDs {
		return errorf(codeValueLength, "At most %d ListenerIds may be given.", maxIDs)
	}
	if q.Protocol != nil {
		switch *q.Protocol {
		case protoHTTPS, protoTCPSSL, protoQUIC, protoHTTP, protoTCP, "UDP":
		default:
			return errorf(codeInvalidParameterValue, "Protocol must be one of TCP, UDP, HTTP, HTTPS, TCP_SSL, QUIC.")
		}
	}
	if q.Port != nil && (*q.Port < 1 || *q.Port > 65535) {
		return errorf(codeValueRange, "Port must be between 1 and 65535.")
	}
	return nil
}

func (q listenerQuery) matches(l *listener) bool {
	switch {
	case len(q.ListenerIDs) > 0 && !slices.ContainsFunc(q.ListenerIDs, func(id *string) bool { return id != nil && *id == l.ID }),
		q.Protocol != nil && *q.Protocol != l.Protocol,
		q.Port != nil && *q.Port != int64(l.Port):
		return false
	}
	return true
}

// backendsOut lists b's targets that keep accepts. A target of the topology counts as
// registered when its listener or rule was created.
func backendsOut(b *balancing, created time.Time, keep func(*target) bool) []backendOutput {
	out := []backendOutput{}
	for _, t := range b.Targets {
		if !keep(t) {
			continue
		}
		registered := t.Registered
		if registered.IsZero() {
			registered = created
		}
		out = append(out, backendOutput{
			Type: backendTypeENI, Port: int64(t.Port), Weight: int64(t.Weight), PublicIpAddresses: []string{},
			PrivateIpAddresses: []string{t.IP}, RegisteredTime: clbTime(registered), Tag: t.Tag,
		})
	}
	return out
}

func (c *cloud) describeTargetHealth(_ context.Context, r *request, p *describeTargetHealthParams) (any, error) {
	if err := checkRequiredList("LoadBalancerIds", len(p.LoadBalancerIDs), maxHealthLBIDs); err != nil {
		return nil, err
	}
	for _, id := range p.LoadBalancerIDs {
		if err := c.checkLBID(id); err != nil {
			return nil, err
		}
	}
	listenerIDs, locationIDs := distinct(p.ListenerIDs), distinct(p.LocationIDs)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	resp := describeTargetHealthResponse{LoadBalancers: []loadBalancerHealth{}}
	for _, id := range distinct(p.LoadBalancerIDs) {
		lb, err := c.lbLocked(r.Region, id)
		if err != nil {
			return nil, err
		}
		lh := loadBalancerHealth{LoadBalancerID: lb.ID, LoadBalancerName: lb.Name, Listeners: []listenerHealth{}}
		for _, l := range lb.Listeners {
			if len(listenerIDs) > 0 && !slices.Contains(listenerIDs, l.ID) {
				continue
			}
			out := listenerHealth{ListenerID: l.ID, ListenerName: l.Name, Protocol: l.Protocol, Port: int64(l.Port), Rules: []ruleHealth{}}
			if !isLayer7(l.Protocol) {
				// UNCERTAIN: how CLB labels the one target list of a layer-4 listener; tcsim
				// gives an empty LocationId and null Domain and Url.
				if len(locationIDs) == 0 {
					out.Rules = append(out.Rules, ruleHealth{Targets: targetsHealthOut(&l.balancing)})
				}
			}
			for _, rl := range l.Rules {
				if len(locationIDs) == 0 || slices.Contains(locationIDs, rl.LocationID) {
					out.Rules = append(out.Rules, ruleHealth{LocationID: rl.LocationID, Domain: ptrTo(rl.Domain), URL: ptrTo(rl.URL), Targets: targetsHealthOut(&rl.balancing)})
				}
			}
			if len(locationIDs) > 0 && len(out.Rules) == 0 {
				continue
			}
			lh.Listeners = append(lh.Listeners, out)
		}
		resp.LoadBalancers = append(resp.LoadBalancers, lh)
	}
	return resp, nil
}

// targetsHealthOut reports what the data plane's checker found. HealthStatus is whether CLB
// sends the target traffic: alive, or not checked at all.
// UNCERTAIN: that a target under a switched-off check (Close) reports HealthStatus true; the
// field's documentation lists only "not checked yet", "checking" and "abnormal" as false.
func targetsHealthOut(b *balancing) []targetHealthOutput {
	out := []targetHealthOutput{}
	for _, t := range b.Targets {
		out = append(out, targetHealthOutput{
			IP: t.IP, Port: int64(t.Port), HealthStatus: t.Health == healthAlive || t.Health == healthClose,
			// UNCERTAIN: CLB gives the instance id; an IP target has none, so tcsim gives its IP.
			TargetID: t.IP, HealthStatusDetail: t.Health, HealthStatusDetial: t.Health, Weight: uint64(t.Weight),
		})
	}
	return out
}

// distinct is the strings of a list parameter without its nulls and repeats, in order.
func distinct(ss []*string) []string {
	out := []string{}
	for _, s := range ss {
		if s != nil && !slices.Contains(out, *s) {
			out = append(out, *s)
		}
	}
	return out
}
