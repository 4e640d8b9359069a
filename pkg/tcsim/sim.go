// Package tcsim is a local Tencent Cloud for tests and demos: an API gateway that the real
// tencentcloud-sdk-go can be pointed at (TC3-HMAC-SHA256 signatures verified, the real
// envelopes and error codes, rate limits and injected faults), the DNSPod API, authoritative
// DNS servers that serve the DNSPod zones with a propagation delay, the SSL Certificates API,
// and the CLB API over load balancers whose HTTPS and TCP_SSL listeners really serve TLS on
// loopback with the certificate bound at the moment of the handshake, and whose listeners
// forward to the targets registered on them (HTTP servers tcsim runs, or the caller's) by
// their scheduler, health-checking them and taking the unhealthy ones out. CDN domains,
// EdgeOne hosts, WAF domains and resources of other products hold certificates too: the SSL
// service finds them (bind-resource tasks) and moves them (UpdateCertificateInstance), and the
// CDN domains and EdgeOne hosts serve TLS on loopback as the listeners do.
//
// It is strict where Tencent Cloud is strict, because a lenient stand-in hides exactly the
// bugs that break renewals. It imports none of clbcert's own packages: a stand-in that shares
// the product's logic shares its bugs.
package tcsim

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Credential is an API key the simulated account accepts. Token empty means a permanent key;
// a non-empty Token makes it a temporary (STS) key whose calls must carry X-TC-Token equal to it.
type Credential struct{ SecretID, SecretKey, Token string }

// Options configures a simulator. The zero value is a working account with one generated key,
// no zones and one nameserver.
type Options struct {
	// Credentials are the keys the account accepts. If empty, Start generates one random
	// permanent key (see Sim.Credential).
	Credentials []Credential
	// APIAddr is where the API listens; default "127.0.0.1:0" (a free port).
	APIAddr string
	// Zones are the account's DNSPod zones.
	Zones []ZoneSpec
	// Nameservers are the authoritative DNS servers of every zone; default one, Host
	// "ns1.tcsim.test.", IP "127.0.0.1".
	Nameservers []NameserverSpec
	// DNSPort is the port every nameserver listens on, UDP and TCP, the same on every IP.
	// 0 picks one that is free on all IPs.
	DNSPort int
	// PropagationDelay is how long after an API change (or AddRecord) the nameservers start
	// serving it, plus each nameserver's Lag.
	PropagationDelay time.Duration
	// ListingDelay is how long a new record stays out of DescribeRecordList; the real
	// service documents up to ~30 s. Default 0.
	ListingDelay time.Duration
	// RateLimits maps an action name to requests per second (token bucket, burst = rate).
	// Absent or 0 means unlimited. Over the limit the answer is the product's throttling
	// code: RequestLimitExceeded, except LimitExceeded.RateLimitExceeded for SSL.
	RateLimits map[string]int
	// FaultRate is the probability that an authenticated call fails: half of the faults
	// answer InternalError, half drop the connection without an answer.
	FaultRate float64
	// Seed seeds the fault generator, so a failing sequence can be replayed.
	Seed int64
	// Topology is the account's CLB load balancers (see LoadTopology for files).
	Topology Topology
	// Certificates are in the SSL store from the start, as if uploaded by hand; the topology's
	// certificate ids refer to them.
	Certificates []CertSpec
	// TaskDelay is how long an asynchronous CLB change (CreateListener, ModifyListener,
	// ModifyDomainAttributes, ModifyRule, the target changes, and binding or updating a bound
	// customized configuration) runs before it applies. 0 means it completes when
	// DescribeTaskStatus first asks about it: until then the load balancer stays busy, as a
	// real one is for a few seconds, so a client that does not wait for its tasks fails.
	TaskDelay time.Duration
	// FailingLBs are load balancer ids whose every call answers InternalError: the calls
	// that name one (DescribeListeners, the modifications, DescribeLoadBalancers with
	// LoadBalancerIds). Listings still show it, and its listeners still serve.
	FailingLBs []string
	// ProductTaskDelay is how long each step of the SSL service's work over the other
	// products takes: a bind-resource task runs this long, and an UpdateCertificateInstance
	// detail stays this long pending and this long deploying before it ends. 0 means each
	// moves when asked about: a bind-resource task ends at the second look, and a detail moves
	// one state per DescribeHostUpdateRecordDetail call.
	ProductTaskDelay time.Duration
	// HealthCheckUnit is how long one second of a health check's IntervalTime and TimeOut
	// lasts; default 1 s. Tests shrink it (10 ms: a check every 50 ms with CLB's default
	// interval of 5 s) so targets go Dead and Alive in a fraction of a second.
	HealthCheckUnit time.Duration
	// Now is the clock for signature skew, propagation and listing delay, task delay and
	// certificate expiry; default time.Now.
	// The SDK stamps requests with the real time, so a test clock must stay within 5 minutes
	// of it or every call fails with AuthFailure.SignatureExpire. Rate limits use real time.
	Now func() time.Time
	// Logger receives debug logs of every call; default discards. Secrets, signatures and
	// Authorization headers are never logged.
	Logger *slog.Logger
}

// ZoneSpec is one DNSPod zone of the account.
type ZoneSpec struct {
	Name    string       // "example.test": no trailing dot, lower case
	MinTTL  uint64       // the plan's minimum TTL; 0 means 600 (DNSPod free plan)
	Records []RecordSpec // initial records, served on DNS and listed at once
}

// RecordSpec is a record to create outside the API (initial records, Sim.AddRecord).
type RecordSpec struct {
	Name  string // relative host: "@" for apex, "_acme-challenge", "_acme-challenge.www", "www"
	Type  string // "TXT", "CNAME", "A", "AAAA", "NS", "MX", "CAA", "SRV"
	Value string // TXT value unquoted; CNAME target as FQDN with trailing dot
	TTL   uint64 // 0 means 600
	MX    uint64 // MX preference; only for MX records
}

// NameserverSpec is one authoritative DNS server.
type NameserverSpec struct {
	Host string        // FQDN with trailing dot, e.g. "ns1.tcsim.test."
	IP   string        // loopback IP, e.g. "127.0.0.2"
	Lag  time.Duration // extra propagation delay of this server on top of PropagationDelay
}

// Record is a record as DescribeRecordList would show it, plus the facts that decide when
// DNS serves it: nameserver i serves the current content from Updated+PropagationDelay+Lag_i
// (initial records from the start).
type Record struct {
	ID        uint64
	Zone      string
	Name      string
	Type      string
	Value     string
	Line      string
	TTL       uint64
	Created   time.Time
	MX        uint64
	Status    string // ENABLE or DISABLE; disabled records are never served
	DefaultNS bool   // one of the NS records DNSPod keeps at the apex
	Updated   time.Time
}

const (
	defaultNSHost = "ns1.tcsim.test."
	defaultNSIP   = "127.0.0.1"
	// firstDomainID and firstRecordID make ids look like the real service's (large, increasing).
	firstDomainID = 98_000_001
	firstRecordID = 1_700_000_001
)

// Sim is a running simulator. Its methods are safe for concurrent use.
type Sim struct {
	opts    Options
	now     func() time.Time
	log     *slog.Logger
	store   *zoneStore
	dnspod  *dnspod
	gw      *gateway
	dns     *dnsServers
	cloud   *cloud
	lbNet   *lbNetwork
	prodNet *productNetwork
	back    *backendServers
	api     *http.Server
	apiURL  string

	closeOnce sync.Once
	closeErr  error
}

// Start validates opts, starts the DNS servers and the API, and returns when both listen.
func Start(opts Options) (*Sim, error) {
	o, err := normalize(opts)
	if err != nil {
		return nil, err
	}
	s := &Sim{opts: o, now: o.Now, log: o.Logger}
	start := s.now()

	nss := make([]nameserver, len(o.Nameservers))
	hosts := make([]string, len(o.Nameservers))
	for i, ns := range o.Nameservers {
		nss[i] = nameserver{host: ns.Host, ip: net.ParseIP(ns.IP), delay: o.PropagationDelay + ns.Lag}
		hosts[i] = ns.Host
	}
	s.store = newZoneStore(firstRecordID)
	s.dnspod = &dnspod{store: s.store, nsHosts: hosts, listingDelay: o.ListingDelay}
	for i, z := range o.Zones {
		s.store.addZone(firstDomainID+uint64(i), z.Name, z.MinTTL, start)
		s.dnspod.addDefaultNS(z.Name, start)
	}
	for _, z := range o.Zones {
		for _, r := range z.Records {
			if _, err := s.dnspod.addRecord(z.Name, r, start, insertInitial); err != nil {
				return nil, fmt.Errorf("tcsim: zone %s: initial record %s %s: %w", z.Name, r.Name, r.Type, err)
			}
		}
	}

	s.back, err = startBackends(o.Topology.Backends)
	if err != nil {
		return nil, fmt.Errorf("tcsim: %w", err)
	}
	s.cloud = newCloud(o.Now, o.TaskDelay, o.FailingLBs)
	s.cloud.prod.delay = o.ProductTaskDelay
	if err := s.cloud.loadTopology(o.Topology, o.Certificates, start, s.back.addrs); err != nil {
		s.back.close()
		return nil, fmt.Errorf("tcsim: %w", err)
	}
	if err := s.cloud.loadProducts(o.Topology); err != nil {
		s.back.close()
		return nil, fmt.Errorf("tcsim: %w", err)
	}

	rt := newRoutes()
	s.dnspod.register(rt)
	s.cloud.registerSSL(rt)
	s.cloud.registerCLB(rt)
	s.cloud.registerSSLProducts(rt)
	for action, rate := range o.RateLimits {
		if !rt.hasAction(action) {
			return nil, fmt.Errorf("tcsim: RateLimits names unknown action %q", action)
		}
		if rate < 0 {
			return nil, fmt.Errorf("tcsim: RateLimits[%q] is negative", action)
		}
	}
	s.gw = newGateway(gatewayConfig{
		credentials: o.Credentials,
		now:         o.Now,
		routes:      rt,
		limiter:     newRateLimiter(o.RateLimits, time.Now),
		faultRate:   o.FaultRate,
		seed:        o.Seed,
		log:         o.Logger,
	})

	s.dns, err = startDNS(nss, o.DNSPort, &authority{store: s.store, nameservers: nss, now: o.Now})
	if err != nil {
		s.back.close()
		return nil, fmt.Errorf("tcsim: %w", err)
	}
	s.lbNet, err = startNetwork(s.cloud, o.Logger, o.HealthCheckUnit)
	if err != nil {
		_ = s.dns.close()
		s.back.close()
		return nil, fmt.Errorf("tcsim: %w", err)
	}
	s.prodNet, err = startProductNetwork(s.cloud, o.Logger)
	if err != nil {
		_ = s.dns.close()
		s.lbNet.close()
		s.back.close()
		return nil, fmt.Errorf("tcsim: %w", err)
	}
	ln, err := net.Listen("tcp", o.APIAddr)
	if err != nil {
		_ = s.dns.close()
		s.lbNet.close()
		s.prodNet.close()
		s.back.close()
		return nil, fmt.Errorf("tcsim: API listen: %w", err)
	}
	s.apiURL = "http://" + ln.Addr().String()
	s.api = &http.Server{
		Handler:           s.gw,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	go func() { _ = s.api.Serve(ln) }()
	s.log.Info("tcsim started", "endpoint", s.apiURL, "dns", s.dns.addrs, "zones", len(o.Zones),
		"loadBalancers", len(o.Topology.LoadBalancers), "certificates", len(o.Certificates))
	return s, nil
}

// normalize applies defaults and rejects options that cannot describe a Tencent Cloud account.
func normalize(o Options) (Options, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.APIAddr == "" {
		o.APIAddr = "127.0.0.1:0"
	}
	if o.DNSPort < 0 || o.DNSPort > math.MaxUint16 {
		return o, fmt.Errorf("tcsim: DNSPort %d is out of range", o.DNSPort)
	}
	rates := make(map[string]int, len(o.RateLimits))
	for action, rate := range o.RateLimits {
		rates[action] = rate
	}
	o.RateLimits = rates
	if o.PropagationDelay < 0 || o.ListingDelay < 0 || o.TaskDelay < 0 || o.HealthCheckUnit < 0 || o.ProductTaskDelay < 0 {
		return o, errors.New("tcsim: delays and HealthCheckUnit must not be negative")
	}
	if o.HealthCheckUnit == 0 {
		o.HealthCheckUnit = time.Second
	}
	if !(o.FaultRate >= 0 && o.FaultRate <= 1) {
		return o, fmt.Errorf("tcsim: FaultRate %v is not a probability", o.FaultRate)
	}
	if len(o.Credentials) == 0 {
		o.Credentials = []Credential{generateCredential()}
	} else {
		o.Credentials = append([]Credential(nil), o.Credentials...)
	}
	ids := map[string]bool{}
	for i, c := range o.Credentials {
		if c.SecretID == "" || c.SecretKey == "" {
			return o, fmt.Errorf("tcsim: credential %d has an empty SecretID or SecretKey", i)
		}
		if ids[c.SecretID] {
			return o, fmt.Errorf("tcsim: credential %d repeats a SecretID", i)
		}
		ids[c.SecretID] = true
	}

	if len(o.Nameservers) == 0 {
		o.Nameservers = []NameserverSpec{{Host: defaultNSHost, IP: defaultNSIP}}
	} else {
		o.Nameservers = append([]NameserverSpec(nil), o.Nameservers...)
	}
	ips := map[string]bool{}
	for i := range o.Nameservers {
		ns := &o.Nameservers[i]
		if _, ok := dns.IsDomainName(ns.Host); !ok || !dns.IsFqdn(ns.Host) || ns.Host == "." {
			return o, fmt.Errorf("tcsim: nameserver host %q is not an FQDN with a trailing dot", ns.Host)
		}
		ns.Host = strings.ToLower(ns.Host)
		ip := net.ParseIP(ns.IP)
		if ip == nil {
			return o, fmt.Errorf("tcsim: nameserver %s: IP %q is not an IP address", ns.Host, ns.IP)
		}
		ns.IP = ip.String()
		if ips[ns.IP] {
			return o, fmt.Errorf("tcsim: nameserver IP %s is used twice", ns.IP)
		}
		ips[ns.IP] = true
		if ns.Lag < 0 {
			return o, fmt.Errorf("tcsim: nameserver %s: negative Lag", ns.Host)
		}
	}

	o.Zones = append([]ZoneSpec(nil), o.Zones...)
	names := map[string]bool{}
	for i := range o.Zones {
		z := &o.Zones[i]
		if _, ok := dns.IsDomainName(z.Name); !ok || z.Name == "" || strings.HasSuffix(z.Name, ".") ||
			z.Name != strings.ToLower(z.Name) || !strings.Contains(z.Name, ".") || !isASCII(z.Name) {
			// Non-ASCII (IDN) zones are refused rather than served under a wrong Punycode.
			return o, fmt.Errorf("tcsim: zone name %q must be a lower-case ASCII domain without a trailing dot", z.Name)
		}
		if names[z.Name] {
			return o, fmt.Errorf("tcsim: zone %s is listed twice", z.Name)
		}
		names[z.Name] = true
		if z.MinTTL == 0 {
			z.MinTTL = freePlanMinTTL
		}
	}
	return normalizeCloud(o)
}

// normalizeCloud checks the SSL and CLB options; certificates are parsed by Start.
func normalizeCloud(o Options) (Options, error) {
	if err := checkTopology(o.Topology); err != nil {
		return o, fmt.Errorf("tcsim: topology: %w", err)
	}
	o.Certificates = append([]CertSpec(nil), o.Certificates...)
	certIDs := map[string]bool{}
	for i, c := range o.Certificates {
		if !isCertID(c.ID) {
			return o, fmt.Errorf("tcsim: certificate %d: id %q must be letters and digits", i, c.ID)
		}
		if certIDs[c.ID] {
			return o, fmt.Errorf("tcsim: certificate id %s is used twice", c.ID)
		}
		switch {
		case c.Type != "" && c.Type != certTypeServer && c.Type != certTypeCA:
			return o, fmt.Errorf("tcsim: certificate %s: type %q is not SVR or CA", c.ID, c.Type)
		case c.Type == certTypeCA && c.KeyPEM != "":
			return o, fmt.Errorf("tcsim: certificate %s: a CA certificate is stored without its key; drop keyPem", c.ID)
		}
		certIDs[c.ID] = true
	}
	lbIDs := map[string]bool{}
	for _, lb := range o.Topology.LoadBalancers {
		lbIDs[lb.ID] = true
	}
	o.FailingLBs = append([]string(nil), o.FailingLBs...)
	for _, id := range o.FailingLBs {
		if id == "" || !lbIDs[id] {
			return o, fmt.Errorf("tcsim: FailingLBs names %q, which is not a load balancer id of the topology", id)
		}
	}
	return o, nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// generateCredential makes a key shaped like Tencent Cloud's: "AKID" + 32 characters, and a
// 32-character secret.
func generateCredential() Credential {
	return Credential{SecretID: "AKID" + randomAlnum(32), SecretKey: randomAlnum(32)}
}

func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Close stops the API and the DNS servers. It is safe to call more than once.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		// Close, not Shutdown: Shutdown waits up to 5 s for connections that
		// were opened but sent nothing yet, and a stand-in that is going away
		// owes its clients no graceful end.
		apiErr := s.api.Close()
		s.lbNet.close()
		s.prodNet.close()
		s.back.close()
		s.closeErr = errors.Join(apiErr, s.dns.close())
	})
	return s.closeErr
}

// Endpoint is the API's base URL, "http://127.0.0.1:PORT" (what CLBCERT_ENDPOINT gets). For
// the SDK, set HttpProfile.Endpoint to the part after "http://" and Scheme to "HTTP".
func (s *Sim) Endpoint() string { return s.apiURL }

// Credential is the first key the account accepts.
func (s *Sim) Credential() Credential { return s.opts.Credentials[0] }

// NameserverAddrs are "IP:PORT" of each nameserver, in Options order.
func (s *Sim) NameserverAddrs() []string { return append([]string(nil), s.dns.addrs...) }

// DNSPort is the port all nameservers listen on.
func (s *Sim) DNSPort() int { return s.dns.port }

// Records are the live records of zone (deleted ones excluded, default NS records included),
// sorted by ID, whatever DescribeRecordList's listing delay and the nameservers' lag.
func (s *Sim) Records(zone string) []Record {
	listed := s.store.live(zone)
	out := make([]Record, 0, len(listed))
	for _, r := range listed {
		out = append(out, Record{
			ID: r.ID, Zone: zone, Name: r.Data.Name, Type: r.Data.Type, Value: r.Data.Value,
			Line: r.Data.Line, TTL: r.Data.TTL, Created: r.Created, MX: r.Data.MX,
			Status: r.Data.Status, DefaultNS: r.DefaultNS, Updated: r.Updated,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// AddRecord creates a record as another client would through the console: validated like
// CreateRecord, served on DNS after the propagation delay and listed after the listing delay.
func (s *Sim) AddRecord(zone string, r RecordSpec) (uint64, error) {
	id, err := s.dnspod.addRecord(zone, r, s.now(), insertChange)
	if err != nil {
		return 0, fmt.Errorf("tcsim: add record to %s: %w", zone, err)
	}
	return id, nil
}

// Calls is the number of calls to action that passed authentication, including those that
// then failed by FailNext, rate limit or fault.
func (s *Sim) Calls(action string) int { return s.gw.calledCount(action) }

// CallCounts is Calls for every action called so far.
func (s *Sim) CallCounts() map[string]int { return s.gw.callCounts() }

// FailNext makes the next n authenticated calls of action answer with error code (or, with
// code "", drop the connection without an answer). n <= 0 cancels pending failures of action.
func (s *Sim) FailNext(action, code string, n int) { s.gw.injectFailures(action, code, 0, n) }

// FailAfter lets the next after calls of action through, then fails the n after them as
// FailNext does: a way to stop a client between two steps of one job.
func (s *Sim) FailAfter(action, code string, after, n int) {
	s.gw.injectFailures(action, code, after, n)
}

// SetFailing makes every call that names the load balancer answer InternalError, as
// FailingLBs does from the start, or (failing false) serve it normally again: a load balancer
// that breaks and recovers between two runs.
func (s *Sim) SetFailing(lbID string, failing bool) error { return s.cloud.setFailing(lbID, failing) }

// ListenerAddr is "VIP:PORT" of a listener, where it serves; "" for an unknown listener,
// or one that CreateListener's task has not created yet.
func (s *Sim) ListenerAddr(lbID, listenerID string) string {
	s.cloud.mu.Lock()
	defer s.cloud.mu.Unlock()
	s.cloud.settleLocked(s.now())
	lb, l := s.cloud.findLocked(lbID, listenerID)
	if l == nil {
		return ""
	}
	return net.JoinHostPort(lb.VIP, strconv.Itoa(l.Port))
}

// BackendAddr is "IP:PORT" where backend id of Topology.Backends listens, "" if there is none.
func (s *Sim) BackendAddr(id string) string { return s.back.backendAddr(id) }

// SetBackendHealthy makes backend id's HealthPath answer 200 (true) or 503 (false), for the
// health checks to notice; its other paths answer 200 either way.
func (s *Sim) SetBackendHealthy(id string, healthy bool) error { return s.back.setHealthy(id, healthy) }

// ServedCert is the id of the certificate a TLS handshake with server name domain gets from
// a listener now (the listener's own certificate when SNI is off); "" for an unknown
// listener or one without certificates. Of a binding with several certificates it is the
// one DescribeListeners reports as CertId; Binding has them all.
func (s *Sim) ServedCert(lbID, listenerID, domain string) string {
	b, _ := s.cloud.servedBindingOf(lbID, listenerID, domain)
	if b.empty() {
		return ""
	}
	return b.reported()[0]
}

// Binding is a listener's certificate binding (without SNI), or an SNI domain's.
type Binding struct {
	CertIDs         []string // server certificates, sorted
	SSLMode         string   // UNIDIRECTIONAL or MUTUAL
	CertCaID        string   // MUTUAL: the client CA
	SSLVerifyClient string   // MUTUAL: ON or OPTIONAL
}

// Binding is what a TLS handshake with server name domain meets on a listener now; ok is
// false for an unknown listener.
func (s *Sim) Binding(lbID, listenerID, domain string) (b Binding, ok bool) {
	cb, ok := s.cloud.servedBindingOf(lbID, listenerID, domain)
	return Binding{CertIDs: cb.reported(), SSLMode: cb.Mode, CertCaID: cb.CaID, SSLVerifyClient: cb.Verify}, ok
}

// Certificates are the SSL store's certificates, oldest first, with where each is served.
func (s *Sim) Certificates() []CertInfo { return s.cloud.certInfos() }

// UploadCount is how many certificates UploadCertificate has created: a repeat answered with
// RepeatCertId, a refused upload and Options.Certificates do not count.
func (s *Sim) UploadCount() int { return s.cloud.uploadCount() }

// Dump is the whole state as indented JSON (zones with every record's history, certificates
// without their keys, load balancers and tasks, call counts, the options that shape
// behaviour), for test failure messages. It holds no secrets.
func (s *Sim) Dump() ([]byte, error) {
	zones, err := s.store.dump()
	if err != nil {
		return nil, err
	}
	nameservers := make([]map[string]string, len(s.opts.Nameservers))
	for i, ns := range s.opts.Nameservers {
		nameservers[i] = map[string]string{"host": ns.Host, "addr": s.dns.addrs[i], "lag": ns.Lag.String()}
	}
	return json.MarshalIndent(struct {
		Now              time.Time           `json:"now"`
		Endpoint         string              `json:"endpoint"`
		Nameservers      []map[string]string `json:"nameservers"`
		PropagationDelay string              `json:"propagationDelay"`
		ListingDelay     string              `json:"listingDelay"`
		RateLimits       map[string]int      `json:"rateLimits,omitempty"`
		FaultRate        float64             `json:"faultRate,omitempty"`
		Calls            map[string]int      `json:"calls"`
		Zones            json.RawMessage     `json:"zones"`
		Cloud            cloudDump           `json:"cloud"`
		Products         productsDump        `json:"products"`
	}{
		Now:              s.now(),
		Endpoint:         s.apiURL,
		Nameservers:      nameservers,
		PropagationDelay: s.opts.PropagationDelay.String(),
		ListingDelay:     s.opts.ListingDelay.String(),
		RateLimits:       s.opts.RateLimits,
		FaultRate:        s.opts.FaultRate,
		Calls:            s.gw.callCounts(),
		Zones:            zones,
		Cloud:            s.cloud.dump(),
		Products:         s.cloud.productsDump(),
	}, "", "  ")
}
