package tcsim

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Topology is the account's CLB load balancers, as Options.Topology or a JSON file in
// testdata/topologies (see LoadTopology).
type Topology struct {
	LoadBalancers []LoadBalancerSpec `json:"loadBalancers"`
	// Backends are HTTP servers tcsim runs on loopback for targets to name (TargetSpec.Backend),
	// so a topology file is a whole working site without servers of its own.
	Backends []BackendSpec `json:"backends"`
	// CustomizedConfigs are layer-7 customized configurations of type CLB, each bound to the
	// load balancers it lists.
	CustomizedConfigs []CustomizedConfigSpec `json:"customizedConfigs"`
	// CDNDomains, EdgeOneZones, WAFDomains and Resources are the resources of the other
	// products that hold certificates of the SSL store (see products.go).
	CDNDomains   []CDNDomainSpec   `json:"cdnDomains"`
	EdgeOneZones []EdgeOneZoneSpec `json:"edgeOneZones"`
	WAFDomains   []WAFDomainSpec   `json:"wafDomains"`
	Resources    []ResourceSpec    `json:"resources"`
	// SSLRoleMissing: the account has not authorised the SSL service's role, so it can neither
	// find nor update the resources of other products (FailedOperation.RoleNotFoundAuthorization).
	SSLRoleMissing bool `json:"sslRoleMissing"`
	// UnreadLists are the lists of the SSL service's bind-resource detail that answer Error
	// instead of resources: the service could not read that product in that region.
	UnreadLists []ListSpec `json:"unreadLists"`
}

// BackendSpec is an HTTP server tcsim runs: it answers every request with 200 and a body that
// names it, and its health check path with 200, or 503 while Unhealthy.
type BackendSpec struct {
	ID        string `json:"id"`   // a name targets refer to, e.g. "web1"
	IP        string `json:"ip"`   // a loopback IP; default 127.0.0.1
	Port      int    `json:"port"` // 0 picks a free port
	Unhealthy bool   `json:"unhealthy"`
}

// CustomizedConfigSpec is a customized configuration, e.g. Content "ssl_protocols TLSv1.2 TLSv1.3;".
type CustomizedConfigSpec struct {
	ID              string   `json:"id"` // "pz-abc12345"; empty means generated
	Name            string   `json:"name"`
	Region          string   `json:"region"` // default: the region of its load balancers
	Content         string   `json:"content"`
	LoadBalancerIDs []string `json:"loadBalancerIds"`
}

// LoadBalancerSpec is one load balancer. ID empty means a generated "lb-" id; VIP empty
// means 127.0.0.1. Load balancers may share a VIP if their listeners' ports differ.
type LoadBalancerSpec struct {
	ID        string         `json:"id"`     // "lb-abc12345"
	Name      string         `json:"name"`   // default: the ID
	Region    string         `json:"region"` // "ap-guangzhou"
	VIP       string         `json:"vip"`    // a loopback IP, "127.0.0.11"
	Listeners []ListenerSpec `json:"listeners"`
}

// ListenerSpec is one listener. Port 0 picks a free port on the VIP; either way the port the
// simulator listens on is the listener's port in every API answer.
type ListenerSpec struct {
	ID       string     `json:"id"` // "lbl-abc12345"; empty means generated
	Name     string     `json:"name"`
	Protocol string     `json:"protocol"` // HTTPS, TCP_SSL, QUIC, HTTP or TCP
	Port     int        `json:"port"`
	SNI      bool       `json:"sni"`    // HTTPS only: certificates are per domain (RuleSpec.CertID)
	CertID   string     `json:"certId"` // the certificate of a non-SNI HTTPS, TCP_SSL or QUIC listener
	Rules    []RuleSpec `json:"rules"`  // HTTP and HTTPS only
	// ExtCertIDs, SSLMode, CertCaID and SSLVerifyClient complete the listener's certificate
	// binding, as BindingSpec says.
	ExtCertIDs      []string `json:"extCertIds"`
	SSLMode         string   `json:"sslMode"`
	CertCaID        string   `json:"certCaId"`
	SSLVerifyClient string   `json:"sslVerifyClient"`
	// Balancing of TCP_SSL, QUIC and TCP listeners; HTTP and HTTPS balance per rule.
	BalancingSpec
}

// BalancingSpec is the scheduler, session persistence, health check and targets of a layer-4
// listener or a layer-7 rule.
type BalancingSpec struct {
	Scheduler         string           `json:"scheduler"`         // WRR (default), LEAST_CONN or IP_HASH
	SessionExpireTime int              `json:"sessionExpireTime"` // seconds; 0 is off, else 30-3600
	HealthCheck       *HealthCheckSpec `json:"healthCheck"`       // nil means CLB's default check
	Targets           []TargetSpec     `json:"targets"`
}

// HealthCheckSpec is a health check in CLB's HealthCheck terms; zero fields take CLB's
// defaults: on, TimeOut 2, IntervalTime 5, HealthNum 3, UnHealthNum 3, HttpCode 31
// (every status is healthy), path "/", method HEAD, type HTTP on layer 7 and TCP on layer 4.
// CheckType HTTPS (the HTTP check over TLS) is for rules of HTTPS listeners only.
type HealthCheckSpec struct {
	Off             bool   `json:"off"`
	TimeOut         int    `json:"timeOut"`
	IntervalTime    int    `json:"intervalTime"`
	HealthNum       int    `json:"healthNum"`
	UnHealthNum     int    `json:"unHealthNum"`
	HTTPCode        int    `json:"httpCode"`
	HTTPCheckPath   string `json:"httpCheckPath"`
	HTTPCheckDomain string `json:"httpCheckDomain"`
	HTTPCheckMethod string `json:"httpCheckMethod"`
	CheckType       string `json:"checkType"`
}

// TargetSpec is a backend registered to a listener or rule: IP and Port, or Backend naming one
// of Topology.Backends.
type TargetSpec struct {
	IP      string `json:"ip"` // loopback
	Port    int    `json:"port"`
	Backend string `json:"backend"`
	Weight  *int   `json:"weight"` // 0-100; default 10
}

// RuleSpec is a forwarding rule of an HTTP or HTTPS listener. On an SNI listener every domain
// needs a certificate: the first rule of a domain carries it, later rules of the same domain
// may leave CertID empty (they share the domain's certificate, as on CLB).
type RuleSpec struct {
	LocationID string `json:"locationId"` // "loc-abc12345"; empty means generated
	Domain     string `json:"domain"`     // "www.example.test" or "*.example.test", lower case
	URL        string `json:"url"`        // default "/"
	CertID     string `json:"certId"`
	// ExtCertIDs, SSLMode, CertCaID and SSLVerifyClient complete the domain's certificate
	// binding, as on a listener; later rules of the domain leave them empty too.
	ExtCertIDs      []string `json:"extCertIds"`
	SSLMode         string   `json:"sslMode"`
	CertCaID        string   `json:"certCaId"`
	SSLVerifyClient string   `json:"sslVerifyClient"`
	BalancingSpec
}

// A certificate binding of a topology (a listener without SNI, or an SNI domain) is CertID,
// plus ExtCertIDs for more server certificates, each of a key algorithm of its own (an RSA
// and an ECC one); SSLMode UNIDIRECTIONAL (default) or MUTUAL, which needs CertCaID, a CA
// certificate of Options.Certificates (CertSpec.Type "CA"); and SSLVerifyClient ON (default
// with MUTUAL) or OPTIONAL.
type bindingSpec struct {
	certID, mode, caID, verify string
	ext                        []string
}

func (l ListenerSpec) binding() bindingSpec {
	return bindingSpec{certID: l.CertID, ext: l.ExtCertIDs, mode: l.SSLMode, caID: l.CertCaID, verify: l.SSLVerifyClient}
}

func (r RuleSpec) binding() bindingSpec {
	return bindingSpec{certID: r.CertID, ext: r.ExtCertIDs, mode: r.SSLMode, caID: r.CertCaID, verify: r.SSLVerifyClient}
}

func (b bindingSpec) none() bool {
	return b.certID == "" && len(b.ext) == 0 && b.mode == "" && b.caID == "" && b.verify == ""
}

func (b bindingSpec) equal(o bindingSpec) bool {
	return b.certID == o.certID && slices.Equal(b.ext, o.ext) && b.mode == o.mode && b.caID == o.caID && b.verify == o.verify
}

// check applies the rules that need no certificates.
func (b bindingSpec) check() error {
	ids := map[string]bool{}
	for _, id := range append([]string{b.certID}, b.ext...) {
		if ids[id] {
			return fmt.Errorf("certificate %s is bound twice", id)
		}
		ids[id] = true
	}
	switch {
	case b.certID == "":
		return fmt.Errorf("extCertIds, sslMode, certCaId and sslVerifyClient need certId")
	case slices.Contains(b.ext, ""):
		return fmt.Errorf("extCertIds holds an empty id")
	case b.mode != "" && b.mode != sslModeOneWay && b.mode != sslModeMutual:
		return fmt.Errorf("sslMode %q is not UNIDIRECTIONAL or MUTUAL", b.mode)
	case b.mode == sslModeMutual && b.caID == "":
		return fmt.Errorf("sslMode MUTUAL needs certCaId, the client CA")
	case b.mode != sslModeMutual && (b.caID != "" || b.verify != ""):
		return fmt.Errorf("certCaId and sslVerifyClient apply to sslMode MUTUAL only")
	case b.verify != "" && b.verify != verifyOn && b.verify != verifyOptional:
		return fmt.Errorf("sslVerifyClient %q is not ON or OPTIONAL", b.verify)
	}
	return nil
}

// model is the binding the topology describes, with CLB's defaults filled in.
func (b bindingSpec) model() certBinding {
	if b.certID == "" {
		return certBinding{}
	}
	out := certBinding{CertIDs: append([]string{b.certID}, b.ext...), Mode: cmp.Or(b.mode, sslModeOneWay)}
	if out.Mode == sslModeMutual {
		out.CaID, out.Verify = b.caID, cmp.Or(b.verify, verifyOn)
	}
	return out
}

// CertSpec is a certificate already in the SSL store when the simulator starts (uploaded by
// hand, say) that a topology may reference. It is validated like an upload, except that it
// may have expired since.
type CertSpec struct {
	ID      string `json:"id"` // letters and digits, like the service's 8-character ids
	Alias   string `json:"alias"`
	CertPEM string `json:"certPem"` // leaf first, then the chain
	KeyPEM  string `json:"keyPem"`  // empty for a CA certificate
	// Type is SVR (default), a server certificate, or CA, a client CA for mutual TLS.
	Type string `json:"type"`
}

// Listener protocols.
const (
	protoHTTPS  = "HTTPS"
	protoTCPSSL = "TCP_SSL"
	protoQUIC   = "QUIC"
	protoHTTP   = "HTTP"
	protoTCP    = "TCP"
)

// isResourceID reports whether id is prefix followed by lower-case letters and digits, the
// shape of CLB's ids ("lb-abc12345", "lbl-abc12345", "loc-abc12345").
func isResourceID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	return ok && rest != "" && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// claimID checks the id of a topology's resource at where: the shape of ids with prefix, and
// not one of those seen, to which it is added.
func claimID(seen map[string]bool, id, prefix, where string) error {
	if !isResourceID(id, prefix) {
		return fmt.Errorf("%s: id must look like %sabc12345", where, prefix)
	}
	if seen[id] {
		return fmt.Errorf("%s: id used twice", where)
	}
	seen[id] = true
	return nil
}

// isCertID reports whether id has the shape of an SSL certificate id: letters and digits.
func isCertID(id string) bool {
	return id != "" && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// LoadTopology reads a topology file: JSON with the field names of Topology's tags. Names
// are matched exactly and unknown ones are errors (encoding/json alone would take "certID"
// for "certId"), so a typo cannot silently leave a listener without a certificate.
// Certificates are checked when the simulator starts.
func LoadTopology(path string) (Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Topology{}, fmt.Errorf("tcsim: %w", err)
	}
	var t Topology
	if err := decodeParams(data, &t); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			err = errors.New(ae.Message)
		}
		return Topology{}, fmt.Errorf("tcsim: topology %s: %w", path, err)
	}
	if err := checkTopology(t); err != nil {
		return Topology{}, fmt.Errorf("tcsim: topology %s: %w", path, err)
	}
	return t, nil
}

// checkTopology rejects what cannot exist on CLB. It does not need the certificates.
func checkTopology(t Topology) error {
	backends, err := checkBackends(t.Backends)
	if err != nil {
		return err
	}
	lbIDs, listenerIDs, locationIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, lb := range t.LoadBalancers {
		where := fmt.Sprintf("load balancer %d (%s)", i, lb.ID)
		if lb.ID != "" {
			if err := claimID(lbIDs, lb.ID, "lb-", where); err != nil {
				return err
			}
		}
		if !knownRegion(lb.Region) {
			return fmt.Errorf("%s: region %q is not a Tencent Cloud region", where, lb.Region)
		}
		if lb.VIP != "" {
			if ip := net.ParseIP(lb.VIP); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%s: VIP %q is not a loopback IP", where, lb.VIP)
			}
		}
		ports := map[int]bool{}
		for j, l := range lb.Listeners {
			lwhere := fmt.Sprintf("%s listener %d (%s)", where, j, l.ID)
			if l.ID != "" {
				if err := claimID(listenerIDs, l.ID, "lbl-", lwhere); err != nil {
					return err
				}
			}
			if l.Port < 0 || l.Port > 65535 {
				return fmt.Errorf("%s: port %d is out of range", lwhere, l.Port)
			}
			if l.Port != 0 {
				if ports[l.Port] {
					return fmt.Errorf("%s: port %d is used by another listener of the load balancer", lwhere, l.Port)
				}
				ports[l.Port] = true
			}
			if err := checkListenerSpec(l, locationIDs, backends); err != nil {
				return fmt.Errorf("%s: %w", lwhere, err)
			}
		}
	}
	lbRegions := map[string]string{}
	for _, lb := range t.LoadBalancers {
		if lb.ID != "" {
			lbRegions[lb.ID] = lb.Region
		}
	}
	if err := checkConfigSpecs(t.CustomizedConfigs, lbRegions); err != nil {
		return err
	}
	return checkProducts(t)
}

func checkBackends(specs []BackendSpec) (map[string]bool, error) {
	ids := map[string]bool{}
	for i, b := range specs {
		where := fmt.Sprintf("backend %d (%s)", i, b.ID)
		switch {
		case b.ID == "":
			return nil, fmt.Errorf("%s: needs an id for targets to refer to", where)
		case ids[b.ID]:
			return nil, fmt.Errorf("%s: id used twice", where)
		case b.Port < 0 || b.Port > 65535:
			return nil, fmt.Errorf("%s: port %d is out of range", where, b.Port)
		}
		if b.IP != "" {
			if ip := net.ParseIP(b.IP); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("%s: ip %q is not a loopback IP", where, b.IP)
			}
		}
		ids[b.ID] = true
	}
	return ids, nil
}

func checkConfigSpecs(specs []CustomizedConfigSpec, lbRegions map[string]string) error {
	ids, bound := map[string]bool{}, map[string]string{}
	for i, cs := range specs {
		where := fmt.Sprintf("customized config %d (%s)", i, cs.ID)
		if cs.ID != "" {
			if err := claimID(ids, cs.ID, "pz-", where); err != nil {
				return err
			}
		}
		if _, err := parseCustomConfig(cs.Content); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if cs.Region == "" && len(cs.LoadBalancerIDs) == 0 {
			return fmt.Errorf("%s: needs a region or load balancers", where)
		}
		if cs.Region != "" && !knownRegion(cs.Region) {
			return fmt.Errorf("%s: region %q is not a Tencent Cloud region", where, cs.Region)
		}
		for _, lb := range cs.LoadBalancerIDs {
			switch {
			case lbRegions[lb] == "":
				return fmt.Errorf("%s: load balancer %q is not in the topology (give it an id)", where, lb)
			case bound[lb] != "":
				return fmt.Errorf("%s: load balancer %s already has customized config %s; CLB binds one", where, lb, bound[lb])
			}
			if r := lbRegions[lb]; cs.Region != "" && r != cs.Region {
				return fmt.Errorf("%s: load balancer %s is in %s, not %s", where, lb, r, cs.Region)
			}
			bound[lb] = fmt.Sprint(i)
		}
	}
	return nil
}

func checkListenerSpec(l ListenerSpec, locationIDs, backends map[string]bool) error {
	switch l.Protocol {
	case protoHTTPS, protoTCPSSL, protoQUIC, protoHTTP, protoTCP:
	default:
		return fmt.Errorf("protocol %q is not HTTPS, TCP_SSL, QUIC, HTTP or TCP", l.Protocol)
	}
	if l.SNI && l.Protocol != protoHTTPS {
		return fmt.Errorf("SNI is for HTTPS listeners only")
	}
	needsCert := l.Protocol == protoTCPSSL || l.Protocol == protoQUIC || l.Protocol == protoHTTPS && !l.SNI
	switch {
	case needsCert && l.CertID == "":
		return fmt.Errorf("a %s listener without SNI needs certId", l.Protocol)
	case !needsCert && !l.binding().none():
		return fmt.Errorf("a %s listener has no listener certificate (SNI: %v); certificates go on its rules", l.Protocol, l.SNI)
	case needsCert && l.Protocol == protoQUIC && len(l.ExtCertIDs) > 0:
		return fmt.Errorf("a QUIC listener binds one certificate; extCertIds are for HTTPS without SNI and TCP_SSL")
	}
	if needsCert {
		if err := l.binding().check(); err != nil {
			return err
		}
	}
	if len(l.Rules) > 0 && l.Protocol != protoHTTP && l.Protocol != protoHTTPS {
		return fmt.Errorf("only HTTP and HTTPS listeners have forwarding rules")
	}
	layer7 := isLayer7(l.Protocol)
	if layer7 && !isZeroBalancing(l.BalancingSpec) {
		return fmt.Errorf("an %s listener balances per rule: put scheduler, sessionExpireTime, healthCheck and targets on its rules", l.Protocol)
	}
	if (l.Protocol == protoTCPSSL || l.Protocol == protoQUIC) && l.SessionExpireTime != 0 {
		return fmt.Errorf("a %s listener has no session persistence (sessionExpireTime is for TCP listeners and rules)", l.Protocol)
	}
	if err := checkBalancingSpec(l.BalancingSpec, l.Protocol, backends); err != nil {
		return err
	}
	if l.SNI && len(l.Rules) == 0 {
		return fmt.Errorf("an SNI listener needs at least one rule with a domain and certificate")
	}
	domainCert := map[string]bindingSpec{}
	paths := map[string]bool{}
	for k, r := range l.Rules {
		if r.LocationID != "" {
			if !isResourceID(r.LocationID, "loc-") {
				return fmt.Errorf("rule %d: locationId must look like loc-abc12345", k)
			}
			if locationIDs[r.LocationID] {
				return fmt.Errorf("rule %d: locationId %s used twice", k, r.LocationID)
			}
			locationIDs[r.LocationID] = true
		}
		if !validRuleDomain(r.Domain) {
			return fmt.Errorf("rule %d: domain %q is not a lower-case host name or *.wildcard", k, r.Domain)
		}
		url := r.URL
		if url == "" {
			url = "/"
		}
		if !strings.HasPrefix(url, "/") {
			return fmt.Errorf("rule %d: url %q must start with /", k, r.URL)
		}
		if paths[r.Domain+url] {
			return fmt.Errorf("rule %d: domain %s url %s repeats another rule", k, r.Domain, url)
		}
		paths[r.Domain+url] = true
		if err := checkBalancingSpec(r.BalancingSpec, l.Protocol, backends); err != nil {
			return fmt.Errorf("rule %d: %w", k, err)
		}
		rb := r.binding()
		if !l.SNI {
			if !rb.none() {
				return fmt.Errorf("rule %d: certId on a listener without SNI (the listener's certificate is served)", k)
			}
			continue
		}
		prev, seen := domainCert[r.Domain]
		switch {
		case !seen && r.CertID == "":
			return fmt.Errorf("rule %d: domain %s needs a certificate on an SNI listener", k, r.Domain)
		case !seen:
			if err := rb.check(); err != nil {
				return fmt.Errorf("rule %d: %w", k, err)
			}
			domainCert[r.Domain] = rb
		case !rb.none() && !rb.equal(prev):
			return fmt.Errorf("rule %d: domain %s has two certificate bindings; CLB keeps one per domain (leave later rules' certificate fields empty)", k, r.Domain)
		}
	}
	return nil
}

func isZeroBalancing(b BalancingSpec) bool {
	return b.Scheduler == "" && b.SessionExpireTime == 0 && b.HealthCheck == nil && len(b.Targets) == 0
}

// validRuleDomain accepts a lower-case host name, optionally with "*" as its first label.
func validRuleDomain(d string) bool {
	if d == "" || d != strings.ToLower(d) || strings.HasSuffix(d, ".") || !isASCII(d) {
		return false
	}
	if _, ok := dns.IsDomainName(d); !ok || net.ParseIP(d) != nil {
		return false
	}
	for i, label := range strings.Split(d, ".") {
		if label == "*" && i == 0 {
			continue
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// knownRegion reports whether r is a region of Tencent Cloud's public API.
func knownRegion(r string) bool {
	switch r {
	case "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing",
		"ap-hongkong", "ap-singapore", "ap-jakarta", "ap-seoul", "ap-tokyo", "ap-bangkok", "ap-mumbai",
		"ap-taipei", "na-siliconvalley", "na-ashburn", "na-toronto", "sa-saopaulo", "eu-frankfurt",
		"eu-moscow", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-beijing-fsi", "ap-guangzhou-open":
		return true
	}
	return false
}
