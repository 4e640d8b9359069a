package tcsim

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Resources of the products other than CLB that serve certificates of the SSL store: CDN
// domains, EdgeOne (teo) hosts, WAF domains and the generic resources of the other types. They
// have no API of their own in tcsim; the SSL service finds them (the bind-resource tasks) and
// moves them from one certificate to another (UpdateCertificateInstance), as on Tencent Cloud.

// Resource types, as the SSL service spells them.
const (
	resCLB        = "clb"
	resCDN        = "cdn"
	resTEO        = "teo"
	resWAF        = "waf"
	resDDOS       = "ddos"
	resLive       = "live"
	resVOD        = "vod"
	resAPIGateway = "apigateway"
	resCOS        = "cos"
	resSCF        = "scf"
	resTKE        = "tke"
	resTCB        = "tcb"
	resTSE        = "tse"
	resTDMQ       = "tdmq"
	resMQTT       = "mqtt"
	resGAAP       = "gaap"
)

// Faults a resource can be given: how the SSL service's update of it ends.
const (
	// FaultNone: the update succeeds.
	FaultNone = ""
	// FaultOnce: the next update of the resource fails, later ones succeed.
	FaultOnce = "once"
	// FaultAlways: every update of the resource fails until the fault is cleared.
	FaultAlways = "always"
)

// CDNDomainSpec is a CDN acceleration domain serving HTTPS with a certificate of the SSL store.
// The data plane serves it on its own address (see Sim.ResourceAddr).
type CDNDomainSpec struct {
	Domain string `json:"domain"` // "cdn.example.test", lower case
	CertID string `json:"certId"`
	VIP    string `json:"vip"`   // a loopback IP; default 127.0.0.1, with a port of its own
	Fault  string `json:"fault"` // "", "once" or "always" (see FaultOnce)
}

// EdgeOneZoneSpec is an EdgeOne (teo) site and its accelerated hosts.
type EdgeOneZoneSpec struct {
	ID    string            `json:"id"` // "zone-abc12345"
	Name  string            `json:"name"`
	Hosts []EdgeOneHostSpec `json:"hosts"`
}

// EdgeOneHostSpec is one accelerated host of a zone, served like a CDN domain.
type EdgeOneHostSpec struct {
	Host   string `json:"host"`
	CertID string `json:"certId"`
	VIP    string `json:"vip"`
	Fault  string `json:"fault"`
}

// WAFDomainSpec is a domain protected by a WAF instance (a regional type).
type WAFDomainSpec struct {
	Domain     string `json:"domain"`
	Region     string `json:"region"`
	InstanceID string `json:"instanceId"` // "waf_abc12345"; default generated
	CertID     string `json:"certId"`
	Fault      string `json:"fault"`
}

// ResourceSpec is a resource of another type the SSL service can update: ddos, live, vod,
// gaap (no region), apigateway, cos, scf, tke, tcb, tse, tdmq, mqtt (regional: Region
// required). Domains are the names it serves the certificate for: required for the types the
// service lists by domain, optional for tke (its ingresses' TLS domains) and not listed for
// tdmq, mqtt and gaap, which the service lists by instance.
type ResourceSpec struct {
	Type       string   `json:"type"`
	Region     string   `json:"region"`
	InstanceID string   `json:"instanceId"` // the instance, service, bucket, function, cluster, environment, gateway or proxy; default generated
	Domains    []string `json:"domains"`
	CertID     string   `json:"certId"`
	Fault      string   `json:"fault"`
	// Namespace and Secret name a tke resource's Kubernetes Secret (both required);
	// Listener is a gaap resource's listener (required); Service is a tcb resource's
	// "access" (default) or "host" service. Other types leave them empty.
	Namespace string `json:"namespace"`
	Secret    string `json:"secret"`
	Listener  string `json:"listener"`
	Service   string `json:"service"`
}

// TCB services a ResourceSpec names.
const (
	tcbAccess = "access"
	tcbHost   = "host"
)

// ListSpec names one list of the SSL service's bind-resource detail: a type, and for the
// regional types a region.
type ListSpec struct {
	Type   string `json:"type"`
	Region string `json:"region"`
}

// Resource is a resource of another product as the SSL service sees it, for tests.
type Resource struct {
	Type       string
	Region     string // "" for the types without regions
	InstanceID string // teo: the zone id; cdn: ""
	Domains    []string
	CertID     string
	// Addr is "IP:PORT" where the data plane serves it (cdn and teo), else "".
	Addr  string
	Fault string
	// Namespace, Secret, Listener and Service are as in ResourceSpec.
	Namespace, Secret, Listener, Service string
}

// resource is a resource of another product in the model.
type resource struct {
	Type, Region, InstanceID, InstanceName string
	Domains                                []string
	CertID                                 string
	// VIP and Port are where the data plane serves it; Port is set when it listens.
	VIP   string
	Port  int
	fault string
	// Namespace, Secret, Listener and Service are as in ResourceSpec.
	Namespace, Secret, Listener, Service string
}

func (r *resource) name() string {
	if len(r.Domains) > 0 {
		return r.Domains[0]
	}
	return r.InstanceID
}

// matches reports whether name is one of r's domains or its instance id.
func (r *resource) matches(typ, name string) bool {
	return r.Type == typ && (r.InstanceID == name || slices.Contains(r.Domains, name))
}

// servesData reports whether the data plane serves r: CDN domains and EdgeOne hosts.
func (r *resource) servesData() bool { return r.Type == resCDN || r.Type == resTEO }

// updatableType reports whether UpdateCertificateInstance takes resource type t (China site).
func updatableType(t string) bool {
	switch t {
	case resCLB, resCDN, resWAF, resLive, resDDOS, resTEO, resAPIGateway, resVOD, resTKE, resTCB, resTSE, resCOS,
		resMQTT, resSCF, resTDMQ, resGAAP:
		return true
	}
	return false
}

// regionalType reports whether UpdateCertificateInstance needs the regions of type t in
// ResourceTypesRegions.
func regionalType(t string) bool {
	switch t {
	case resCLB, resTKE, resAPIGateway, resWAF, resTCB, resTSE, resCOS, resMQTT, resSCF, resTDMQ:
		return true
	}
	return false
}

// genericType reports whether a ResourceSpec may have type t.
func genericType(t string) bool {
	switch t {
	case resDDOS, resLive, resVOD, resAPIGateway, resCOS, resSCF, resTKE, resTCB, resTSE, resTDMQ, resMQTT, resGAAP:
		return true
	}
	return false
}

// byInstance reports whether the bind-resource detail lists resources of type t by instance,
// without their domains.
func byInstance(t string) bool { return t == resTDMQ || t == resMQTT || t == resGAAP }

// checkResourceParts checks the fields of a ResourceSpec that only some types have.
func checkResourceParts(r ResourceSpec) error {
	switch {
	case (r.Type == resTKE) != (r.Namespace != "") || (r.Type == resTKE) != (r.Secret != ""):
		return fmt.Errorf("namespace and secret are for tke resources, which need both")
	case (r.Type == resGAAP) != (r.Listener != ""):
		return fmt.Errorf("listener is for gaap resources, which need one")
	case r.Service != "" && r.Type != resTCB:
		return fmt.Errorf("service is for tcb resources only")
	case r.Service != "" && r.Service != tcbAccess && r.Service != tcbHost:
		return fmt.Errorf("service %q is not %q or %q", r.Service, tcbAccess, tcbHost)
	case byInstance(r.Type) && len(r.Domains) > 0:
		return fmt.Errorf("the SSL service lists %s resources by instance: leave domains empty", r.Type)
	case !byInstance(r.Type) && r.Type != resTKE && len(r.Domains) == 0:
		return fmt.Errorf("needs at least one domain")
	}
	return nil
}

// checkLists checks the lists a topology makes fail: types the bind-resource detail lists,
// a region exactly for the regional ones.
func checkLists(lists []ListSpec) error {
	for i, l := range lists {
		where := fmt.Sprintf("unread list %d (%s %s)", i, l.Type, l.Region)
		switch {
		case !slices.Contains(bindTypes(), l.Type):
			return fmt.Errorf("%s: type %q is not one the SSL service lists: %s", where, l.Type, strings.Join(bindTypes(), ", "))
		case regionalType(l.Type) && !knownRegion(l.Region):
			return fmt.Errorf("%s: a %s list needs a Tencent Cloud region, not %q", where, l.Type, l.Region)
		case !regionalType(l.Type) && l.Region != "":
			return fmt.Errorf("%s: a %s list has no region", where, l.Type)
		}
	}
	return nil
}

func checkFault(f string) error {
	switch f {
	case FaultNone, FaultOnce, FaultAlways:
		return nil
	}
	return fmt.Errorf("fault %q is not \"\", %q or %q", f, FaultOnce, FaultAlways)
}

func checkDataVIP(vip string) error {
	if vip == "" {
		return nil
	}
	if ip := net.ParseIP(vip); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("vip %q is not a loopback IP", vip)
	}
	return nil
}

// checkProducts rejects resources that cannot exist: bad names, regions, faults, or one
// domain served twice by the same product.
func checkProducts(t Topology) error {
	seen := map[string]bool{}
	claim := func(typ, domain, where string) error {
		if !validRuleDomain(domain) {
			return fmt.Errorf("%s: domain %q is not a lower-case host name or *.wildcard", where, domain)
		}
		if seen[typ+" "+domain] {
			return fmt.Errorf("%s: %s domain %s is listed twice", where, typ, domain)
		}
		seen[typ+" "+domain] = true
		return nil
	}
	// serve claims domain for a product that serves it with certificate certID, on data-plane
	// address vip (none for a WAF domain), failing as fault says.
	serve := func(typ, domain, certID, vip, fault, where string) error {
		if err := claim(typ, domain, where); err != nil {
			return err
		}
		if err := cmp.Or(checkFault(fault), checkDataVIP(vip)); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if certID == "" {
			return fmt.Errorf("%s: needs certId (a domain without HTTPS is not a resource of the SSL service)", where)
		}
		return nil
	}
	for i, d := range t.CDNDomains {
		if err := serve(resCDN, d.Domain, d.CertID, d.VIP, d.Fault, fmt.Sprintf("CDN domain %d (%s)", i, d.Domain)); err != nil {
			return err
		}
	}
	zones := map[string]bool{}
	for i, z := range t.EdgeOneZones {
		where := fmt.Sprintf("EdgeOne zone %d (%s)", i, z.ID)
		if err := claimID(zones, z.ID, "zone-", where); err != nil {
			return err
		}
		for j, h := range z.Hosts {
			if err := serve(resTEO, h.Host, h.CertID, h.VIP, h.Fault, fmt.Sprintf("%s host %d (%s)", where, j, h.Host)); err != nil {
				return err
			}
		}
	}
	for i, w := range t.WAFDomains {
		where := fmt.Sprintf("WAF domain %d (%s)", i, w.Domain)
		if err := serve(resWAF, w.Domain, w.CertID, "", w.Fault, where); err != nil {
			return err
		}
		if !knownRegion(w.Region) {
			return fmt.Errorf("%s: region %q is not a Tencent Cloud region", where, w.Region)
		}
	}
	for i, r := range t.Resources {
		where := fmt.Sprintf("resource %d (%s %s)", i, r.Type, r.InstanceID)
		switch {
		case r.Type == resCDN || r.Type == resTEO || r.Type == resWAF || r.Type == resCLB:
			return fmt.Errorf("%s: type %s has its own topology section (cdnDomains, edgeOneZones, wafDomains, loadBalancers)", where, r.Type)
		case !genericType(r.Type):
			return fmt.Errorf("%s: type %q is not one tcsim simulates: ddos, live, vod, apigateway, cos, scf, tke, tcb, tse, tdmq, mqtt or gaap", where, r.Type)
		case regionalType(r.Type) && !knownRegion(r.Region):
			return fmt.Errorf("%s: a %s resource needs a Tencent Cloud region, not %q", where, r.Type, r.Region)
		case !regionalType(r.Type) && r.Region != "":
			return fmt.Errorf("%s: a %s resource has no region", where, r.Type)
		case r.CertID == "":
			return fmt.Errorf("%s: needs certId", where)
		}
		if err := cmp.Or(checkResourceParts(r), checkFault(r.Fault)); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for _, d := range r.Domains {
			if err := claim(r.Type, d, where); err != nil {
				return err
			}
		}
		part := r.Listener
		if r.Type == resTKE {
			part = r.Namespace + "/" + r.Secret
		}
		if key := r.Type + " " + r.InstanceID + " " + part; r.InstanceID != "" && part != "" {
			if seen[key] {
				return fmt.Errorf("%s: %s %s of %s is listed twice", where, r.Type, part, r.InstanceID)
			}
			seen[key] = true
		}
	}
	return checkLists(t.UnreadLists)
}

// products is the state of the other products and of the SSL service's work over them. It is
// guarded by cloud.mu: an update moves CLB bindings too, and the handshakes read both.
type products struct {
	delay       time.Duration
	resources   []*resource
	roleMissing bool
	// unread are the bind-resource lists that answer Error (Topology.UnreadLists).
	unread []ListSpec
	// muted are the certificates whose expiry notices an update turned off.
	muted map[string]bool

	bindTasks map[string]*bindTask
	bindSeq   uint64
	records   map[uint64]*updateRecord
	recordSeq uint64
	detailSeq uint64
	// creating are the UpdateCertificateInstance calls answered with DeployRecordId 0, by
	// their arguments: the next call with the same arguments creates the record.
	creating map[string]bool
}

const (
	firstBindTaskID     = 5_300_001
	firstUpdateRecordID = 880_001
	firstDetailID       = 12_000_001
)

func newProducts(delay time.Duration) *products {
	return &products{
		delay: delay, muted: map[string]bool{}, bindTasks: map[string]*bindTask{}, records: map[uint64]*updateRecord{},
		creating: map[string]bool{}, bindSeq: firstBindTaskID, recordSeq: firstUpdateRecordID, detailSeq: firstDetailID,
	}
}

// loadProducts adds the topology's resources of other products; the certificates must be
// loaded.
func (c *cloud) loadProducts(t Topology) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.prod
	p.roleMissing = t.SSLRoleMissing
	p.unread = slices.Clone(t.UnreadLists)
	add := func(r *resource, where string) error {
		if c.certs[r.CertID] == nil {
			return fmt.Errorf("%s: certificate %q is not in Options.Certificates", where, r.CertID)
		}
		if r.servesData() && r.VIP == "" {
			r.VIP = defaultVIP
		}
		p.resources = append(p.resources, r)
		return nil
	}
	for _, d := range t.CDNDomains {
		r := &resource{Type: resCDN, Domains: []string{d.Domain}, CertID: d.CertID, VIP: d.VIP, fault: d.Fault}
		if err := add(r, "CDN domain "+d.Domain); err != nil {
			return err
		}
	}
	for _, z := range t.EdgeOneZones {
		for _, h := range z.Hosts {
			r := &resource{Type: resTEO, InstanceID: z.ID, InstanceName: z.Name, Domains: []string{h.Host}, CertID: h.CertID, VIP: h.VIP, fault: h.Fault}
			if err := add(r, "EdgeOne host "+h.Host); err != nil {
				return err
			}
		}
	}
	for _, w := range t.WAFDomains {
		id := cmp.Or(w.InstanceID, "waf_"+randomLowerAlnum(8))
		r := &resource{Type: resWAF, Region: w.Region, InstanceID: id, Domains: []string{w.Domain}, CertID: w.CertID, fault: w.Fault}
		if err := add(r, "WAF domain "+w.Domain); err != nil {
			return err
		}
	}
	for _, g := range t.Resources {
		id := cmp.Or(g.InstanceID, g.Type+"-"+randomLowerAlnum(8))
		r := &resource{Type: g.Type, Region: g.Region, InstanceID: id, Domains: slices.Clone(g.Domains), CertID: g.CertID, fault: g.Fault,
			Namespace: g.Namespace, Secret: g.Secret, Listener: g.Listener, Service: g.Service}
		if r.Type == resTCB && r.Service == "" {
			r.Service = tcbAccess
		}
		if err := add(r, g.Type+" resource "+id); err != nil {
			return err
		}
	}
	return nil
}

// productHoldersLocked names the resources of other products that hold certificate id, and
// the updates that have not ended moving resources to or from it.
func (c *cloud) productHoldersLocked(id string) []string {
	var out []string
	for _, r := range c.prod.resources {
		if r.CertID == id {
			out = append(out, r.Type+" "+r.name())
		}
	}
	for _, recID := range c.recordIDsLocked() {
		if rec := c.prod.records[recID]; (rec.CertID == id || rec.OldCertID == id) && rec.running() {
			out = append(out, fmt.Sprintf("deploy record %d", rec.ID))
		}
	}
	return out
}

func (c *cloud) findResourceLocked(typ, name string) *resource {
	for _, r := range c.prod.resources {
		if r.matches(typ, name) {
			return r
		}
	}
	return nil
}

// Resources are the resources of the other products, in topology order, with the
// certificate each holds now.
func (s *Sim) Resources() []Resource {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	out := make([]Resource, 0, len(c.prod.resources))
	for _, r := range c.prod.resources {
		out = append(out, resourceInfo(r))
	}
	return out
}

func resourceInfo(r *resource) Resource {
	info := Resource{Type: r.Type, Region: r.Region, InstanceID: r.InstanceID, Domains: slices.Clone(r.Domains), CertID: r.CertID, Fault: r.fault,
		Namespace: r.Namespace, Secret: r.Secret, Listener: r.Listener, Service: r.Service}
	if r.Port != 0 {
		info.Addr = net.JoinHostPort(r.VIP, fmt.Sprint(r.Port))
	}
	return info
}

// ResourceCert is the certificate the resource of type typ ("cdn", "teo", "waf", ...) named
// name (one of its domains, or its instance id) holds now; "" for an unknown resource.
func (s *Sim) ResourceCert(typ, name string) string {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	if r := c.findResourceLocked(typ, name); r != nil {
		return r.CertID
	}
	return ""
}

// ResourceAddr is "IP:PORT" where the data plane serves the CDN domain or EdgeOne host name
// (typ "cdn" or "teo"); "" for an unknown one.
func (s *Sim) ResourceAddr(typ, name string) string {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.findResourceLocked(typ, name); r != nil && r.Port != 0 {
		return net.JoinHostPort(r.VIP, fmt.Sprint(r.Port))
	}
	return ""
}

// SetResourceFault sets how the SSL service's next updates of a resource end: FaultNone,
// FaultOnce or FaultAlways.
func (s *Sim) SetResourceFault(typ, name, fault string) error {
	if err := checkFault(fault); err != nil {
		return fmt.Errorf("tcsim: %w", err)
	}
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.findResourceLocked(typ, name)
	if r == nil {
		return fmt.Errorf("tcsim: no %s resource %q", typ, name)
	}
	r.fault = fault
	return nil
}

// SetSSLRole authorises (true) or removes (false) the SSL service's role
// SSL_QCSLinkedRoleInReplaceLoadCertificate, without which it can neither find nor update
// the resources of other products.
func (s *Sim) SetSSLRole(authorised bool) {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prod.roleMissing = !authorised
}

// SetListUnread makes the SSL service's bind-resource tasks that end from now on answer the
// list of type typ in region (""  for the types without regions) with Error (unread true), or
// read it again (false), as Topology.UnreadLists does.
func (s *Sim) SetListUnread(typ, region string, unread bool) error {
	l := ListSpec{Type: typ, Region: region}
	if err := checkLists([]ListSpec{l}); err != nil {
		return fmt.Errorf("tcsim: %w", err)
	}
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prod.unread = slices.DeleteFunc(c.prod.unread, func(x ListSpec) bool { return x == l })
	if unread {
		c.prod.unread = append(c.prod.unread, l)
	}
	return nil
}

// ExpiryNoticesMuted reports whether an update with ExpiringNotificationSwitch=1 turned off
// the expiry notices of certificate id.
func (s *Sim) ExpiryNoticesMuted(id string) bool {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prod.muted[id]
}

// productsDump is the other products' part of Sim.Dump.
type productsDump struct {
	Resources   []Resource   `json:"resources"`
	RoleMissing bool         `json:"sslRoleMissing,omitempty"`
	Records     []recordDump `json:"updateRecords"`
	BindTasks   []string     `json:"bindResourceTasks"`
}

type recordDump struct {
	ID        uint64   `json:"id"`
	CertID    string   `json:"certId"`
	OldCertID string   `json:"oldCertId"`
	Types     []string `json:"resourceTypes"`
	Details   []string `json:"details"`
}

func (c *cloud) productsDump() productsDump {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	d := productsDump{Resources: []Resource{}, RoleMissing: c.prod.roleMissing, Records: []recordDump{}, BindTasks: []string{}}
	for _, r := range c.prod.resources {
		d.Resources = append(d.Resources, resourceInfo(r))
	}
	for _, rec := range c.prod.records {
		rd := recordDump{ID: rec.ID, CertID: rec.CertID, OldCertID: rec.OldCertID, Types: rec.Types}
		for _, det := range rec.details {
			rd.Details = append(rd.Details, fmt.Sprintf("%d %s %s %s status %d %s", det.ID, det.Type, det.Region,
				strings.Join(det.Domains, ","), det.Status, det.ErrorMsg))
		}
		d.Records = append(d.Records, rd)
	}
	slices.SortFunc(d.Records, func(a, b recordDump) int { return cmp.Compare(a.ID, b.ID) })
	for _, t := range c.prod.bindTasks {
		d.BindTasks = append(d.BindTasks, fmt.Sprintf("%s cert %s done %v", t.ID, t.CertID, t.done))
	}
	slices.Sort(d.BindTasks)
	return d
}
