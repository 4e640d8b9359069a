// Package listeners is the operator's view of what the load balancers
// serve and how they balance it: every listener and forwarding rule with its
// certificate (names, days left), SNI switch, scheduler, session
// persistence, health check and backends with their health, and each load
// balancer's TLS protocols. It is built from pkg/inventory and only reads.
package listeners

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// View is the JSON document `clbcert listeners --json` prints. Its shape
// only grows:
//
//	{"regions": [...],
//	 "loadBalancers": [{"region", "id", "name", "vips": [...],
//	     "tlsProtocols": [...], "tlsProtocolsDefault": bool, "customizedConfigId",
//	     "listeners": [{"id", "name", "protocol", "port", "tls": bool, "sni": bool,
//	         "certificate": Cert|null, "scheduler", "sessionExpireTime",
//	         "healthCheck": HealthCheck|null, "backends": [Backend],
//	         "rules": [{"locationId", "domain", "url", "certificate": Cert|null,
//	             "scheduler", "sessionExpireTime", "healthCheck", "backends"}]}]}],
//	 "failures": [{"region", "loadBalancerId", "certificateId", "error"}]}
//
// Cert is {"id", "names", "notBefore", "notAfter", "daysLeft", "known"}; HealthCheck is
// inventory.HealthCheck's JSON; Backend is {"ip", "port", "weight",
// "healthy", "status"}. Load balancers are sorted by region and id,
// listeners by port and protocol, rules as CLB lists them.
type View struct {
	Regions       []string            `json:"regions"`
	LoadBalancers []LoadBalancer      `json:"loadBalancers"`
	Failures      []inventory.Failure `json:"failures"`
}

// LoadBalancer is one load balancer with its listeners.
type LoadBalancer struct {
	Region string   `json:"region"`
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	VIPs   []string `json:"vips"`
	// TLSProtocols are what its HTTPS listeners allow; TLSProtocolsDefault
	// says they are CLB's default because no customized configuration sets
	// them. Both are empty when the configuration could not be read (a
	// Failure says why).
	TLSProtocols        []string   `json:"tlsProtocols"`
	TLSProtocolsDefault bool       `json:"tlsProtocolsDefault"`
	CustomizedConfigID  string     `json:"customizedConfigId,omitempty"`
	Listeners           []Listener `json:"listeners"`
}

// Listener is one listener.
type Listener struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int64  `json:"port"`
	// TLS is whether it carries a certificate (HTTPS, TCP_SSL, QUIC).
	TLS bool `json:"tls"`
	SNI bool `json:"sni"`
	// Certificate is the listener's own (nil on an SNI listener, where each
	// rule's domain has one, and on plain HTTP/TCP/UDP).
	Certificate *Cert `json:"certificate"`
	// Balancing is the listener's own on layer 4; HTTP and HTTPS
	// listeners balance per rule.
	Balancing
	Rules []Rule `json:"rules"`
}

// Rule is a forwarding rule of an HTTP or HTTPS listener.
type Rule struct {
	LocationID  string `json:"locationId"`
	Domain      string `json:"domain"`
	URL         string `json:"url"`
	Certificate *Cert  `json:"certificate"`
	Balancing
}

// Balancing is how a layer-4 listener or a rule spreads requests over its
// backends, and how they are.
type Balancing struct {
	Scheduler         string                 `json:"scheduler"`
	SessionExpireTime int64                  `json:"sessionExpireTime"`
	HealthCheck       *inventory.HealthCheck `json:"healthCheck"`
	Backends          []Backend              `json:"backends"`
}

// balancing is b with the backends.
func balancing(b inventory.Balancing, backends []Backend) Balancing {
	return Balancing{Scheduler: b.Scheduler, SessionExpireTime: b.SessionExpireTime, HealthCheck: b.HealthCheck, Backends: backends}
}

// Cert is a bound certificate as the SSL service describes it. Known is
// false for an id the service does not have (deleted, another account's):
// then only ID is set. Of a binding that holds more than one certificate
// (an RSA and an ECC one) it is the one CLB reports as CertId, and Members
// are all of them, itself first.
type Cert struct {
	ID        string    `json:"id"`
	Names     []string  `json:"names"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// DaysLeft is whole days until NotAfter, negative once expired.
	DaysLeft int  `json:"daysLeft"`
	Known    bool `json:"known"`
	// Algorithm is the key algorithm: RSA, ECC or SM2.
	Algorithm string `json:"algorithm,omitempty"`
	Members   []Cert `json:"members,omitempty"`
	// SSLMode is MUTUAL for mutual TLS, with the client CA and whether a
	// client certificate is required (ON) or not (OPTIONAL).
	SSLMode         string `json:"sslMode,omitempty"`
	CAID            string `json:"caId,omitempty"`
	SSLVerifyClient string `json:"sslVerifyClient,omitempty"`
}

// all are the binding's certificates: Members, or c alone.
func (c *Cert) all() []Cert {
	if c == nil {
		return nil
	}
	if len(c.Members) > 0 {
		return c.Members
	}
	return []Cert{*c}
}

// Backend is a target with its health (inventory.TargetHealth).
type Backend struct {
	IP      string `json:"ip"`
	Port    int64  `json:"port"`
	Weight  uint64 `json:"weight"`
	Healthy bool   `json:"healthy"`
	Status  string `json:"status"` // Alive, Dead, Unknown, Close
}

// Collect reads the regions through c: the inventory, each load balancer's
// customized configuration (for its TLS protocols) and its backends'
// health. Anything that cannot be read is a Failure beside the rest; the
// error is for a canceled context only. now dates the certificates.
func Collect(ctx context.Context, c *inventory.Client, regions []string, now time.Time) (*View, error) {
	inv, err := c.Collect(ctx, regions)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := &View{Regions: slices.Clone(regions), LoadBalancers: []LoadBalancer{}, Failures: slices.Clone(inv.Failures)}
	if err != nil {
		v.Failures = append(v.Failures, inventory.Failure{Error: err.Error()})
	}
	byRegion := map[string][]string{}
	for _, lb := range inv.LoadBalancers {
		byRegion[lb.Region] = append(byRegion[lb.Region], lb.ID)
	}
	configs := map[string]inventory.CustomizedConfig{}
	configRead := map[string]bool{}
	var health []inventory.TargetHealth
	for _, r := range regions {
		ids := byRegion[r]
		if len(ids) == 0 {
			continue
		}
		if found, err := c.CustomizedConfigs(ctx, r, ids); err != nil {
			v.Failures = append(v.Failures, inventory.Failure{Region: r, Error: err.Error()})
		} else {
			configRead[r] = true
			for id, cfg := range found {
				configs[id] = cfg
			}
		}
		if th, err := c.TargetHealth(ctx, r, ids); err != nil {
			v.Failures = append(v.Failures, inventory.Failure{Region: r, Error: err.Error()})
		} else {
			health = append(health, th...)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, lb := range inv.LoadBalancers {
		out := LoadBalancer{Region: lb.Region, ID: lb.ID, Name: lb.Name, VIPs: lb.VIPs, TLSProtocols: []string{}, Listeners: []Listener{}}
		if configRead[lb.Region] {
			var bound *inventory.CustomizedConfig
			if cfg, ok := configs[lb.ID]; ok {
				out.CustomizedConfigID, bound = cfg.ID, &cfg
			}
			var configured bool
			out.TLSProtocols, configured = inventory.EffectiveTLSProtocols(bound)
			out.TLSProtocolsDefault = !configured
		}
		for _, l := range lb.Listeners {
			out.Listeners = append(out.Listeners, listener(lb, l, inv.Certificates, health, now))
		}
		slices.SortStableFunc(out.Listeners, func(a, b Listener) int {
			return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(a.Protocol, b.Protocol))
		})
		v.LoadBalancers = append(v.LoadBalancers, out)
	}
	return v, nil
}

func listener(lb inventory.LoadBalancer, l inventory.Listener, certs map[string]inventory.Certificate, health []inventory.TargetHealth, now time.Time) Listener {
	out := Listener{
		ID: l.ID, Name: l.Name, Protocol: l.Protocol, Port: l.Port, TLS: inventory.IsTLS(l.Protocol), SNI: l.SNI,
		Balancing: balancing(l.Balancing, []Backend{}), Rules: []Rule{},
	}
	if !inventory.IsLayer7(l.Protocol) {
		out.Backends = backends(health, lb.ID, l.ID, nil)
	}
	if !l.SNI {
		out.Certificate = cert(l.Certificate, certs, now)
	}
	for _, r := range l.Rules {
		rule := Rule{
			LocationID: r.LocationID, Domain: r.Domain, URL: r.URL,
			Balancing: balancing(r.Balancing, backends(health, lb.ID, l.ID, &r.LocationID)),
		}
		if l.SNI {
			rule.Certificate = cert(l.CertificateFor(r.Domain), certs, now)
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

func cert(ref *inventory.CertRef, certs map[string]inventory.Certificate, now time.Time) *Cert {
	if ref == nil {
		return nil
	}
	out := member(ref.ID, certs, now)
	if ids := ref.IDs(); len(ids) > 1 {
		for _, id := range ids {
			out.Members = append(out.Members, member(id, certs, now))
		}
	}
	if ref.SSLMode == "MUTUAL" {
		out.SSLMode, out.CAID, out.SSLVerifyClient = ref.SSLMode, ref.CAID, cmp.Or(ref.SSLVerifyClient, "ON")
	}
	return &out
}

func member(id string, certs map[string]inventory.Certificate, now time.Time) Cert {
	c, ok := certs[id]
	if !ok {
		return Cert{ID: id, Names: []string{}}
	}
	return Cert{ID: c.ID, Names: slices.Clone(c.Names), NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: lineage.DaysLeft(c.NotAfter, now), Known: true, Algorithm: c.Algorithm}
}

// backends are the targets of a rule, or with locationID nil of a layer-4
// listener: how CLB labels a layer-4 listener's one list of targets is not
// documented, so any location of the listener counts.
func backends(health []inventory.TargetHealth, lbID, listenerID string, locationID *string) []Backend {
	out := []Backend{}
	for _, t := range health {
		if t.LoadBalancerID == lbID && t.ListenerID == listenerID && (locationID == nil || t.LocationID == *locationID) {
			out = append(out, Backend{IP: t.IP, Port: t.Port, Weight: t.Weight, Healthy: t.Healthy, Status: t.Status})
		}
	}
	return out
}

// Unreadable reports whether anything could not be read.
func (v *View) Unreadable() bool { return len(v.Failures) > 0 }

// Level judges the view as a monitoring plugin would, every served
// certificate by rule on its own dates (package level): the worst of them,
// or Unknown if anything could not be read and none is Critical. A known
// Critical outranks Unknown, as in clbcert status: an unreadable load
// balancer does not hide an expiring certificate.
func (v *View) Level(rule level.Rule, now time.Time) level.Level {
	worst := level.OK
	for _, lb := range v.LoadBalancers {
		for _, l := range lb.Listeners {
			certs := l.Certificate.all()
			for _, r := range l.Rules {
				certs = append(certs, r.Certificate.all()...)
			}
			for _, c := range certs {
				if c.Known {
					worst = level.Worse(worst, rule.Expiry(level.Cert{NotBefore: c.NotBefore, NotAfter: c.NotAfter}, now).Level)
				}
			}
		}
	}
	if v.Unreadable() {
		worst = level.Worse(worst, level.Unknown)
	}
	return worst
}
