package tcsim

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// CertInfo is a certificate in the SSL store, for tests.
type CertInfo struct {
	ID          string
	Alias       string
	Type        string // SVR or CA
	Domain      string // the main domain: the subject CN, or the first SAN without one
	Names       []string
	Fingerprint string // SHA-256 of the leaf's DER, lower-case hex
	NotBefore   time.Time
	NotAfter    time.Time
	Inserted    time.Time
	Uploaded    bool   // through UploadCertificate, not from Options.Certificates
	Algorithm   string // the key algorithm as DescribeCertificates' EncryptAlgorithm: RSA or ECC
	// BoundTo is every place CLB serves it, or verifies clients with it, now: "lb-x/lbl-y" for a
	// listener, "lb-x/lbl-y/DOMAIN" for an SNI domain (the target syntax of clbcert's config).
	BoundTo []string
}

// cloud is the account's SSL certificates and CLB load balancers. They share one lock because
// each product consults the other: SSL refuses to delete a certificate CLB uses, CLB binds only
// certificates SSL holds, and a listener's handshake reads both.
type cloud struct {
	now       func() time.Time
	taskDelay time.Duration
	// failing are the load balancers whose every call fails (FailingLBs,
	// SetFailing), under failMu: calls read it with or without mu held.
	failMu  sync.Mutex
	failing map[string]bool

	mu      sync.Mutex
	certs   map[string]*sslCert
	certSeq uint64 // insertion counter, orders certificates inserted in the same instant
	uploads int
	lbs     []*loadBalancer // topology order
	lbByID  map[string]*loadBalancer
	tasks   map[string]*clbTask
	configs map[string]*customConfig // layer-7 customized configurations by UconfigId
	// prod is the other products' resources and the SSL service's work over them.
	prod *products
	// net is the listeners' sockets, where CreateListener binds the ports of new listeners;
	// set when the network starts, before the API serves.
	net *lbNetwork
}

type loadBalancer struct {
	ID, Name, Region, VIP string
	Created               time.Time
	Listeners             []*listener
	// ConfigID is the customized configuration bound to the load balancer, "" for none.
	ConfigID string
	// task is the running asynchronous change, nil when the load balancer is idle.
	task *clbTask
}

type listener struct {
	ID, Name, Protocol string
	Port               int
	SNI                bool
	Cert               certBinding // non-SNI HTTPS, TCP_SSL, QUIC
	Rules              []*rule
	Created            time.Time
	// Layer 4 (TCP_SSL, QUIC, TCP) balances per listener; layer 7 per rule.
	balancing
}

type rule struct {
	LocationID, Domain, URL string
	Cert                    certBinding // SNI listeners: the certificates of Domain
	Created                 time.Time
	balancing
}

// balancing is how a layer-4 listener or a layer-7 rule spreads traffic: its scheduler,
// session persistence, health check and registered targets.
type balancing struct {
	Scheduler     string // WRR, LEAST_CONN or IP_HASH
	SessionExpire int    // seconds of session persistence; 0 is off
	Health        healthCheck
	Targets       []*target
}

// healthCheck is CLB's HealthCheck in its own units: seconds and counts.
type healthCheck struct {
	On          bool
	TimeOut     int    // seconds, less than Interval
	Interval    int    // seconds between checks
	HealthNum   int    // consecutive successes that make a dead target alive
	UnHealthNum int    // consecutive failures that make an alive target dead
	HTTPCode    int    // bitmask of healthy status classes: 1 = 1xx, 2 = 2xx, 4 = 3xx, 8 = 4xx, 16 = 5xx
	Path        string // HTTP and HTTPS checks
	Domain      string // HTTP and HTTPS checks: the Host header; "" means the rule's domain
	Method      string // HEAD or GET
	// HTTPVersion is the HTTP check's protocol version on a TCP listener (HTTP/1.0 or
	// HTTP/1.1), which CLB requires with CheckType HTTP there; "" elsewhere.
	HTTPVersion string
	CheckType   string // TCP, HTTP or HTTPS (rules of HTTPS listeners)
}

// target is a backend registered to a listener or rule.
type target struct {
	IP     string
	Port   int
	Weight int // 0-100; 0 takes no new connections
	// Health is what DescribeTargetHealth reports, kept by the data plane's checker:
	// Alive, Dead, Unknown (not checked yet) or Close (health check off).
	Health string
	// ok and fail count consecutive check results towards HealthNum and UnHealthNum.
	ok, fail int
	// Tag and Registered are what RegisterTargets recorded (DescribeTargets shows them); a
	// target of the topology has no tag and counts as registered when its listener was created.
	Tag        string
	Registered time.Time
}

// Target health states, as DescribeTargetHealth's HealthStatusDetail.
const (
	healthAlive   = "Alive"
	healthDead    = "Dead"
	healthUnknown = "Unknown"
	healthClose   = "Close"
)

// customConfig is a layer-7 customized configuration ("个性化配置") of type CLB.
type customConfig struct {
	ID, Name, Region, Content string
	Created, Updated          time.Time
}

// Task states of DescribeTaskStatus. CLB also has 1 (failed); no simulated change fails once
// accepted, because everything that could make it fail is checked when it is requested.
const (
	taskSucceeded = 0
	taskRunning   = 2
)

// clbTask is an asynchronous CLB change. It applies when it completes: at Due, or, with
// onPoll (TaskDelay 0), when DescribeTaskStatus first asks about it.
type clbTask struct {
	ID, Region, LBID string
	Created, Due     time.Time
	onPoll           bool
	Status           int64
	// certIDs are the certificates the change binds (server certificates and client CA). They
	// count as in use while the change runs, so none can be deleted between the call and the
	// rebinding.
	certIDs []string
	// otherLBIDs are the further load balancers a change of several keeps busy (binding a
	// customized configuration); configID is that configuration, which cannot be deleted
	// while the change runs.
	otherLBIDs []string
	configID   string
	apply      func()
}

// lbIDs are the load balancers the task changes.
func (t *clbTask) lbIDs() []string {
	if t.LBID == "" {
		return []string{}
	}
	return append([]string{t.LBID}, t.otherLBIDs...)
}

func newCloud(now func() time.Time, taskDelay time.Duration, failing []string) *cloud {
	c := &cloud{
		now: now, taskDelay: taskDelay, failing: map[string]bool{},
		certs: map[string]*sslCert{}, lbByID: map[string]*loadBalancer{}, tasks: map[string]*clbTask{},
		configs: map[string]*customConfig{}, prod: newProducts(0),
	}
	for _, id := range failing {
		c.failing[id] = true
	}
	return c
}

// addCertLocked stores a parsed certificate under a new or given id.
func (c *cloud) addCertLocked(cert *sslCert, id string, at time.Time, uploaded bool) {
	if id == "" {
		id = c.newCertIDLocked()
	}
	c.certSeq++
	cert.ID, cert.Inserted, cert.seq, cert.Uploaded = id, at, c.certSeq, uploaded
	c.certs[id] = cert
	if uploaded {
		c.uploads++
	}
}

// newCertIDLocked returns an unused id shaped like the service's: 8 letters and digits.
func (c *cloud) newCertIDLocked() string {
	for {
		id := randomAlnum(8)
		if _, taken := c.certs[id]; !taken {
			return id
		}
	}
}

// settleLocked completes the tasks whose time has come: CLB's, then the SSL service's over
// the products (which move CLB bindings too). Everything that reads CLB or product state calls
// it first, so a rebinding is visible to API calls and handshakes from the moment it is due.
func (c *cloud) settleLocked(now time.Time) {
	for _, lb := range c.lbs {
		if t := lb.task; t != nil && !t.onPoll && !now.Before(t.Due) {
			c.completeLocked(t)
		}
	}
	c.settleProductsLocked(now)
}

func (c *cloud) completeLocked(t *clbTask) {
	t.apply()
	t.Status = taskSucceeded
	for _, id := range t.lbIDs() {
		if lb := c.lbByID[id]; lb != nil && lb.task == t {
			lb.task = nil
		}
	}
}

// startTaskLocked makes lb busy with a change that applies later and binds certIDs (none
// for nil). id is the request id, which CLB hands out as the task id.
func (c *cloud) startTaskLocked(id string, lb *loadBalancer, now time.Time, certIDs []string, apply func()) {
	t := c.startTasksLocked(id, lb.Region, []*loadBalancer{lb}, now, apply)
	t.certIDs = certIDs
}

// startTasksLocked is startTaskLocked for a change of several load balancers, all busy until
// it completes. A change of none (a customized configuration nothing uses) applies at once,
// and DescribeTaskStatus reports it as succeeded.
func (c *cloud) startTasksLocked(id, region string, lbs []*loadBalancer, now time.Time, apply func()) *clbTask {
	t := &clbTask{
		ID: id, Region: region, Created: now, Due: now.Add(c.taskDelay),
		onPoll: c.taskDelay == 0, Status: taskRunning, apply: apply,
	}
	c.tasks[id] = t
	if len(lbs) == 0 {
		t.Due, t.onPoll = now, false
		c.completeLocked(t)
		return t
	}
	t.LBID = lbs[0].ID
	for _, lb := range lbs {
		if lb != lbs[0] {
			t.otherLBIDs = append(t.otherLBIDs, lb.ID)
		}
		lb.task = t
	}
	return t
}

// clbPlacesLocked are the listeners (domain "") and SNI domains where CLB serves certificate
// id, or verifies clients with it, now.
func (c *cloud) clbPlacesLocked(id string) []place {
	var out []place
	for _, lb := range c.lbs {
		for _, l := range lb.Listeners {
			if !l.SNI && l.Cert.uses(id) {
				out = append(out, place{lbID: lb.ID, listenerID: l.ID})
			}
			seen := map[string]bool{}
			for _, r := range l.Rules {
				if l.SNI && r.Cert.uses(id) && !seen[r.Domain] {
					seen[r.Domain] = true
					out = append(out, place{lbID: lb.ID, listenerID: l.ID, domain: r.Domain})
				}
			}
		}
	}
	return out
}

// bindingsLocked is clbPlacesLocked in the target syntax of clbcert's config: "lb-x/lbl-y"
// for a listener, "lb-x/lbl-y/DOMAIN" for an SNI domain.
func (c *cloud) bindingsLocked(id string) []string {
	var out []string
	for _, pl := range c.clbPlacesLocked(id) {
		out = append(out, pl.target())
	}
	return out
}

// holdersLocked names what keeps certificate id from being deleted: the CLB places that
// bind it, the CLB tasks about to, and the other products' resources and running updates.
func (c *cloud) holdersLocked(id string) []string {
	out := c.bindingsLocked(id)
	for _, lb := range c.lbs {
		if lb.task != nil && slices.Contains(lb.task.certIDs, id) {
			out = append(out, "task "+lb.task.ID+" of "+lb.ID)
		}
	}
	return append(out, c.productHoldersLocked(id)...)
}

// usesCert reports whether any listener or SNI domain of lb serves certificate id or
// verifies clients with it.
func usesCert(lb *loadBalancer, id string) bool {
	for _, l := range lb.Listeners {
		if !l.SNI && l.Cert.uses(id) {
			return true
		}
		for _, r := range l.Rules {
			if l.SNI && r.Cert.uses(id) {
				return true
			}
		}
	}
	return false
}

// servedBinding is the binding a handshake with server name sni gets: the listener's
// without SNI; with SNI the one of the rule whose domain matches exactly, else of a wildcard
// rule domain, else of the first rule.
func servedBinding(l *listener, sni string) certBinding {
	if !l.SNI {
		return l.Cert
	}
	if len(l.Rules) == 0 {
		return certBinding{}
	}
	name := strings.ToLower(strings.TrimSuffix(sni, "."))
	for _, r := range l.Rules {
		if r.Domain == name {
			return r.Cert
		}
	}
	if _, parent, ok := strings.Cut(name, "."); ok {
		for _, r := range l.Rules {
			if r.Domain == "*."+parent {
				return r.Cert
			}
		}
	}
	return l.Rules[0].Cert
}

func (c *cloud) findLocked(lbID, listenerID string) (*loadBalancer, *listener) {
	lb := c.lbByID[lbID]
	if lb == nil {
		return nil, nil
	}
	for _, l := range lb.Listeners {
		if l.ID == listenerID {
			return lb, l
		}
	}
	return lb, nil
}

// ruleByLocation is l's rule with LocationId id, nil if it has none.
func ruleByLocation(l *listener, id string) *rule {
	for _, r := range l.Rules {
		if r.LocationID == id {
			return r
		}
	}
	return nil
}

// handshakeBinding sets cfg up to answer hello on a listener as its binding for the server
// name stands right now: the server certificate and, with mutual TLS, client verification.
func (c *cloud) handshakeBinding(lbID, listenerID string, hello *tls.ClientHelloInfo, cfg *tls.Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	_, l := c.findLocked(lbID, listenerID)
	if l == nil {
		return fmt.Errorf("listener %s/%s is gone", lbID, listenerID)
	}
	if err := c.handshakeConfigLocked(servedBinding(l, hello.ServerName), hello, cfg); err != nil {
		return fmt.Errorf("listener %s/%s: %w", lbID, listenerID, err)
	}
	return nil
}

// servedBindingOf is Sim.ServedCert and Sim.Binding; ok is false for an unknown listener.
func (c *cloud) servedBindingOf(lbID, listenerID, domain string) (b certBinding, ok bool) {
	return onListener(c, lbID, listenerID, func(l *listener) (certBinding, bool) {
		return servedBinding(l, domain), true
	})
}

// onListener runs f on a listener as it is now, under the lock, for the data plane and
// the test accessors; ok is false for an unknown listener.
func onListener[T any](c *cloud, lbID, listenerID string, f func(l *listener) (T, bool)) (v T, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	_, l := c.findLocked(lbID, listenerID)
	if l == nil {
		return v, false
	}
	return f(l)
}

// certInfos is Sim.Certificates: oldest first.
func (c *cloud) certInfos() []CertInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	return c.certInfosLocked()
}

func (c *cloud) certInfosLocked() []CertInfo {
	certs := c.sortedCertsLocked()
	out := make([]CertInfo, 0, len(certs))
	for _, cert := range certs {
		leaf := cert.leaf()
		out = append(out, CertInfo{
			ID: cert.ID, Alias: cert.Alias, Type: cert.Type, Domain: cert.Domain,
			Names: slices.Clone(cert.Names), Fingerprint: cert.SHA256,
			NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Inserted: cert.Inserted,
			Uploaded: cert.Uploaded, Algorithm: encryptAlgorithm(cert), BoundTo: c.bindingsLocked(cert.ID),
		})
	}
	return out
}

// sortedCertsLocked is every certificate, oldest first.
func (c *cloud) sortedCertsLocked() []*sslCert {
	out := make([]*sslCert, 0, len(c.certs))
	for _, cert := range c.certs {
		out = append(out, cert)
	}
	slices.SortFunc(out, func(a, b *sslCert) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

func (c *cloud) uploadCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uploads
}

// cloudDump is the SSL and CLB part of Sim.Dump. It leaves out private keys.
type cloudDump struct {
	Certificates  []CertInfo   `json:"certificates"`
	Uploads       int          `json:"uploads"`
	LoadBalancers []lbDump     `json:"loadBalancers"`
	Configs       []configDump `json:"customizedConfigs"`
	Tasks         []taskDump   `json:"tasks"`
	FailingLBs    []string     `json:"failingLBs,omitempty"`
	TaskDelay     string       `json:"taskDelay"`
}

type lbDump struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Region    string         `json:"region"`
	VIP       string         `json:"vip"`
	Busy      string         `json:"busyWithTask,omitempty"`
	ConfigID  string         `json:"customizedConfig,omitempty"`
	Listeners []listenerDump `json:"listeners"`
}

type listenerDump struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Protocol string     `json:"protocol"`
	Port     int        `json:"port"`
	SNI      bool       `json:"sni"`
	Cert     *bindDump  `json:"certificate,omitempty"`
	Rules    []ruleDump `json:"rules,omitempty"`
	// Balancing is a layer-4 listener's; layer-7 listeners balance per rule.
	Balancing *balancingDump `json:"balancing,omitempty"`
}

type ruleDump struct {
	LocationID string        `json:"locationId"`
	Domain     string        `json:"domain"`
	URL        string        `json:"url"`
	Cert       *bindDump     `json:"certificate,omitempty"`
	Balancing  balancingDump `json:"balancing"`
}

// bindDump is a binding in the model's terms: every member, in the order written.
type bindDump struct {
	CertIDs []string `json:"certIds"`
	Mode    string   `json:"sslMode"`
	CaID    string   `json:"certCaId,omitempty"`
	Verify  string   `json:"sslVerifyClient,omitempty"`
}

func dumpBinding(b certBinding) *bindDump {
	if b.empty() {
		return nil
	}
	return &bindDump{CertIDs: b.CertIDs, Mode: b.Mode, CaID: b.CaID, Verify: b.Verify}
}

// balancingDump shows the health check in the model's own terms, and each target with the
// state the data plane's checker keeps.
type balancingDump struct {
	Scheduler     string       `json:"scheduler"`
	SessionExpire int          `json:"sessionExpireTime"`
	Health        healthCheck  `json:"healthCheck"`
	Targets       []targetDump `json:"targets"`
}

type targetDump struct {
	Addr   string `json:"addr"`
	Weight int    `json:"weight"`
	Health string `json:"health"`
	OK     int    `json:"consecutiveOK"`
	Fail   int    `json:"consecutiveFail"`
	Tag    string `json:"tag,omitempty"`
}

type configDump struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Region  string    `json:"region"`
	Content string    `json:"content"`
	BoundTo []string  `json:"boundTo"`
	Updated time.Time `json:"updated"`
}

func dumpBalancing(b *balancing) balancingDump {
	d := balancingDump{Scheduler: b.Scheduler, SessionExpire: b.SessionExpire, Health: b.Health, Targets: []targetDump{}}
	for _, t := range b.Targets {
		d.Targets = append(d.Targets, targetDump{
			Addr: targetAddr(t), Weight: t.Weight, Health: t.Health, OK: t.ok, Fail: t.fail, Tag: t.Tag,
		})
	}
	return d
}

type taskDump struct {
	ID     string    `json:"id"`
	LB     string    `json:"lb"`
	Status int64     `json:"status"`
	Due    time.Time `json:"due"`
	OnPoll bool      `json:"completesOnPoll,omitempty"`
	// OtherLBs are the further load balancers a change of several keeps busy.
	OtherLBs []string `json:"otherLbs,omitempty"`
}

func (c *cloud) dump() cloudDump {
	c.mu.Lock()
	defer c.mu.Unlock()
	// One lock for the whole dump: certificates, bindings and tasks of the same instant.
	c.settleLocked(c.now())
	d := cloudDump{Certificates: c.certInfosLocked(), Uploads: c.uploads, LoadBalancers: []lbDump{}, Tasks: []taskDump{}, TaskDelay: c.taskDelay.String()}
	c.failMu.Lock()
	for id := range c.failing {
		d.FailingLBs = append(d.FailingLBs, id)
	}
	c.failMu.Unlock()
	slices.Sort(d.FailingLBs)
	for _, lb := range c.lbs {
		ld := lbDump{ID: lb.ID, Name: lb.Name, Region: lb.Region, VIP: lb.VIP, ConfigID: lb.ConfigID, Listeners: []listenerDump{}}
		if lb.task != nil {
			ld.Busy = lb.task.ID
		}
		for _, l := range lb.Listeners {
			lis := listenerDump{ID: l.ID, Name: l.Name, Protocol: l.Protocol, Port: l.Port, SNI: l.SNI, Cert: dumpBinding(l.Cert)}
			if !isLayer7(l.Protocol) {
				b := dumpBalancing(&l.balancing)
				lis.Balancing = &b
			}
			for _, r := range l.Rules {
				lis.Rules = append(lis.Rules, ruleDump{LocationID: r.LocationID, Domain: r.Domain, URL: r.URL, Cert: dumpBinding(r.Cert), Balancing: dumpBalancing(&r.balancing)})
			}
			ld.Listeners = append(ld.Listeners, lis)
		}
		d.LoadBalancers = append(d.LoadBalancers, ld)
	}
	for _, t := range c.tasks {
		d.Tasks = append(d.Tasks, taskDump{ID: t.ID, LB: t.LBID, Status: t.Status, Due: t.Due, OnPoll: t.onPoll, OtherLBs: t.otherLBIDs})
	}
	d.Configs = []configDump{}
	for _, cfg := range c.configs {
		cd := configDump{ID: cfg.ID, Name: cfg.Name, Region: cfg.Region, Content: cfg.Content, BoundTo: []string{}, Updated: cfg.Updated}
		for _, lb := range c.lbs {
			if lb.ConfigID == cfg.ID {
				cd.BoundTo = append(cd.BoundTo, lb.ID)
			}
		}
		d.Configs = append(d.Configs, cd)
	}
	slices.SortFunc(d.Configs, func(a, b configDump) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(d.Tasks, func(a, b taskDump) int { return a.Due.Compare(b.Due) })
	return d
}

// setFailing makes every call naming lbID fail, or stops that.
func (c *cloud) setFailing(lbID string, failing bool) error {
	c.mu.Lock()
	_, ok := c.lbByID[lbID]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("tcsim: SetFailing: no load balancer %q in the topology", lbID)
	}
	c.failMu.Lock()
	defer c.failMu.Unlock()
	if failing {
		c.failing[lbID] = true
	} else {
		delete(c.failing, lbID)
	}
	return nil
}
