package clb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// LoadBalancer is a CLB instance with its listeners.
type LoadBalancer struct {
	Region string   `json:"region"`
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	VIPs   []string `json:"vips"`
	// Listeners are nil as LoadBalancers returns them; Listeners describes
	// them.
	Listeners []Listener `json:"listeners"`
}

// Listener is one listener as DescribeListeners reports it. Scheduler,
// SessionExpireTime and HealthCheck are the listener's own for TCP_SSL,
// QUIC and TCP listeners; HTTP and HTTPS listeners balance per rule.
type Listener struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int64  `json:"port"`
	// SNI is the SNI switch of an HTTPS listener: on, each rule domain has
	// its own certificate; off, the listener's certificate is served.
	SNI bool `json:"sni"`
	// Certificate is the listener's certificate, nil if it has none.
	Certificate *CertRef `json:"certificate,omitempty"`
	Balancing
	Rules []Rule `json:"rules,omitempty"`
}

// Rule is a forwarding rule of an HTTP or HTTPS listener.
type Rule struct {
	LocationID string `json:"locationId"`
	// Domain is lower-cased: CLB matches it without regard to case, and so
	// do certificate names.
	Domain string `json:"domain"`
	URL    string `json:"url"`
	// Certificate is the domain's certificate on an SNI listener; nil
	// otherwise.
	Certificate *CertRef `json:"certificate,omitempty"`
	Balancing
}

// Balancing is how requests are spread over the targets and the targets'
// health checked: a TCP_SSL, QUIC or TCP listener's own, a rule's of an
// HTTP or HTTPS listener.
type Balancing struct {
	Scheduler         string       `json:"scheduler,omitempty"`
	SessionExpireTime int64        `json:"sessionExpireTime"`
	HealthCheck       *HealthCheck `json:"healthCheck,omitempty"`
}

// BalancingAt is the balancing of rule r of the listener, or with r nil
// the listener's own.
func (l *Listener) BalancingAt(r *Rule) Balancing {
	if r != nil {
		return r.Balancing
	}
	return l.Balancing
}

// CertRef is a certificate binding as CLB reports it: its server
// certificates (members) are ID and ExtIDs, a set: which one CLB reports as
// CertId is not documented. SSLMode, CAID and SSLVerifyClient are kept so
// that rebinding a certificate does not turn mutual TLS off or make it
// stricter.
type CertRef struct {
	ID string `json:"id"`
	// ExtIDs are the other server certificates of a binding that holds
	// more than one (an RSA and an ECC one, say).
	ExtIDs  []string `json:"extCertIds,omitempty"`
	SSLMode string   `json:"sslMode,omitempty"` // UNIDIRECTIONAL or MUTUAL
	CAID    string   `json:"caId,omitempty"`    // the client CA of MUTUAL
	// SSLVerifyClient is ON or OPTIONAL with MUTUAL.
	SSLVerifyClient string `json:"sslVerifyClient,omitempty"`
}

// IDs are every member's certificate id: ID, then ExtIDs.
func (c *CertRef) IDs() []string {
	if c == nil {
		return nil
	}
	return append([]string{c.ID}, c.ExtIDs...)
}

// Binding is c with each member's key algorithm as algorithm tells it ("" where it does not
// know: binding.Check refuses that). A nil c is an empty binding.
func (c *CertRef) Binding(algorithm func(certID string) binding.Algorithm) binding.Binding {
	if c == nil {
		return binding.Binding{}
	}
	b := binding.Binding{SSLMode: c.SSLMode, CertCaID: c.CAID, SSLVerifyClient: c.SSLVerifyClient}
	for _, id := range c.IDs() {
		b.Members = append(b.Members, binding.Member{CertID: id, Algorithm: algorithm(id)})
	}
	return b
}

// HealthCheck is CLB's health check of a listener or rule. A field CLB left
// out is zero.
type HealthCheck struct {
	On              bool   `json:"on"`
	TimeOut         int64  `json:"timeOut,omitempty"`      // seconds
	IntervalTime    int64  `json:"intervalTime,omitempty"` // seconds
	HealthNum       int64  `json:"healthNum,omitempty"`    // successes until healthy
	UnHealthNum     int64  `json:"unHealthNum,omitempty"`  // failures until unhealthy
	HTTPCode        int64  `json:"httpCode,omitempty"`     // bit mask: 1 = 1xx … 16 = 5xx
	HTTPCheckPath   string `json:"httpCheckPath,omitempty"`
	HTTPCheckDomain string `json:"httpCheckDomain,omitempty"`
	HTTPCheckMethod string `json:"httpCheckMethod,omitempty"`
	HTTPVersion     string `json:"httpVersion,omitempty"`
	CheckPort       int64  `json:"checkPort,omitempty"`
	CheckType       string `json:"checkType,omitempty"` // TCP, HTTP, HTTPS, CUSTOM, PING
}

// AsksForPath reports whether the check sends an HTTP request, and so has a
// path, domain, method and status codes: HTTP checks, and HTTPS ones, which
// send the same request over TLS (the SDK documents those fields for
// "HTTP/HTTPS" checks alike).
func (h HealthCheck) AsksForPath() bool { return h.CheckType == "HTTP" || h.CheckType == "HTTPS" }

// Domains is the first rule of each distinct domain: on an SNI listener the
// domain's certificate is the same on all its rules.
func (l Listener) Domains() []Rule {
	var out []Rule
	for _, r := range l.Rules {
		if r.Domain == "" || slices.ContainsFunc(out, func(o Rule) bool { return o.Domain == r.Domain }) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// CertificateFor is what the listener serves for domain: its own
// certificate for "", else the SNI domain's; nil if nothing.
func (l Listener) CertificateFor(domain string) *CertRef {
	if domain == "" {
		return l.Certificate
	}
	for _, r := range l.Domains() {
		if r.Domain == strings.ToLower(domain) {
			return r.Certificate
		}
	}
	return nil
}

// LoadBalancers lists the load balancers of region, without their listeners.
func (c *Client) LoadBalancers(ctx context.Context, region string) ([]LoadBalancer, error) {
	var out []LoadBalancer
	for offset := int64(0); ; {
		req := clbsdk.NewDescribeLoadBalancersRequest()
		req.Offset, req.Limit = ptr(offset), ptr(int64(100))
		resp, err := call(ctx, c, region, "DescribeLoadBalancers", req, (*clbsdk.Client).DescribeLoadBalancersWithContext)
		if err != nil {
			return nil, fmt.Errorf("list load balancers in %s: %w", region, err)
		}
		page := resp.Response.LoadBalancerSet
		for _, lb := range page {
			out = append(out, LoadBalancer{Region: region, ID: tencent.Deref(lb.LoadBalancerId), Name: tencent.Deref(lb.LoadBalancerName), VIPs: tencent.DerefAll(lb.LoadBalancerVips)})
		}
		offset += int64(len(page))
		if len(page) == 0 || uint64(offset) >= tencent.Deref(resp.Response.TotalCount) {
			return out, nil
		}
	}
}

// Listeners describes the listeners of one load balancer.
func (c *Client) Listeners(ctx context.Context, region, lbID string) ([]Listener, error) {
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = &lbID
	resp, err := call(ctx, c, region, "DescribeListeners", req, (*clbsdk.Client).DescribeListenersWithContext)
	if err != nil {
		return nil, fmt.Errorf("list listeners of %s in %s: %w", lbID, region, err)
	}
	out := make([]Listener, 0, len(resp.Response.Listeners))
	for _, l := range resp.Response.Listeners {
		if l != nil {
			out = append(out, listenerOf(l))
		}
	}
	return out, nil
}

func listenerOf(l *clbsdk.Listener) Listener {
	ln := Listener{
		ID: tencent.Deref(l.ListenerId), Name: tencent.Deref(l.ListenerName), Protocol: tencent.Deref(l.Protocol), Port: tencent.Deref(l.Port),
		SNI: tencent.Deref(l.SniSwitch) == 1, Certificate: certOf(l.Certificate),
		Balancing: balancingOf(l.Scheduler, l.SessionExpireTime, l.HealthCheck),
	}
	for _, r := range l.Rules {
		if r == nil {
			continue
		}
		ln.Rules = append(ln.Rules, Rule{
			LocationID: tencent.Deref(r.LocationId), Domain: strings.ToLower(tencent.Deref(r.Domain)), URL: tencent.Deref(r.Url),
			Certificate: certOf(r.Certificate), Balancing: balancingOf(r.Scheduler, r.SessionExpireTime, r.HealthCheck),
		})
	}
	return ln
}

func certOf(o *clbsdk.CertificateOutput) *CertRef {
	if o == nil || tencent.Deref(o.CertId) == "" {
		return nil
	}
	ref := &CertRef{ID: tencent.Deref(o.CertId), SSLMode: tencent.Deref(o.SSLMode), CAID: tencent.Deref(o.CertCaId), SSLVerifyClient: tencent.Deref(o.SSLVerifyClient)}
	for _, id := range tencent.DerefAll(o.ExtCertIds) {
		if id != "" && id != ref.ID && !slices.Contains(ref.ExtIDs, id) {
			ref.ExtIDs = append(ref.ExtIDs, id)
		}
	}
	return ref
}

// balancingOf reads the balancing fields that the SDK's Listener and
// RuleOutput both have.
func balancingOf(scheduler *string, session *int64, h *clbsdk.HealthCheck) Balancing {
	return Balancing{Scheduler: tencent.Deref(scheduler), SessionExpireTime: tencent.Deref(session), HealthCheck: healthCheckOf(h)}
}

func healthCheckOf(h *clbsdk.HealthCheck) *HealthCheck {
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

// certIDsPerCall is how many certificates one
// DescribeLoadBalancerListByCertId call may name.
const certIDsPerCall = 20

// LoadBalancersUsing returns, per certificate id, the load balancers in
// region that use it (DescribeLoadBalancerListByCertId).
func (c *Client) LoadBalancersUsing(ctx context.Context, region string, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	for batch := range slices.Chunk(ids, certIDsPerCall) {
		req := clbsdk.NewDescribeLoadBalancerListByCertIdRequest()
		req.CertIds = common.StringPtrs(batch)
		resp, err := call(ctx, c, region, "DescribeLoadBalancerListByCertId", req, (*clbsdk.Client).DescribeLoadBalancerListByCertIdWithContext)
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
	for ids := range slices.Chunk(lbIDs, maxHealthLBs) {
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

// configFilterChunk is how many load balancer ids one loadbalancer-id filter
// names. UNCERTAIN: CLB's limit is not documented; DescribeLoadBalancers
// takes 20 ids.
const configFilterChunk = 20

// configPageSize is the Limit of the configuration listings.
// UNCERTAIN: the documented maximum was not found; 100 is CLB's usual one.
const configPageSize = 100

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

func ptr[T any](v T) *T { return &v }
