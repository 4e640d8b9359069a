package dns01

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// server is one DNS server to ask directly.
type server struct {
	Host string // the NS name, or the address itself for --dns-server
	Addr string // ip:port
}

func (s server) String() string {
	if s.Host == s.Addr {
		return s.Addr
	}
	return s.Host + " (" + s.Addr + ")"
}

// dnsClient asks recursive resolvers only for what already exists (a zone's
// NS records and the nameservers' addresses) and asks authoritative servers
// for everything about the challenge name, so no resolver ever caches a
// negative answer for it.
type dnsClient struct {
	resolvers []string
	override  string // --dns-server: replaces every zone's nameservers
	port      string
	timeout   time.Duration

	mu    sync.Mutex
	cache map[string][]server
}

// SystemResolvers reads the nameservers of /etc/resolv.conf (or another
// resolv.conf) as host:port.
func SystemResolvers(path string) ([]string, error) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read resolvers from %s: %w", ErrNoNameservers, path, err)
	}
	out := make([]string, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	return out, nil
}

// exchange sends one query, over UDP first and over TCP when the answer is
// truncated. recurse sets RD, for resolvers only.
func (c *dnsClient) exchange(ctx context.Context, addr, name string, qtype uint16, recurse bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = recurse
	m.SetEdns0(1232, false)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	udp := &dns.Client{Net: "udp", Timeout: c.timeout}
	r, _, err := udp.ExchangeContext(ctx, m, addr)
	if err == nil && r.Truncated {
		tcp := &dns.Client{Net: "tcp", Timeout: c.timeout}
		r, _, err = tcp.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s at %s: %w", dns.TypeToString[qtype], strings.TrimSuffix(name, "."), addr, err)
	}
	return r, nil
}

// resolve asks the resolvers in turn until one gives a usable answer.
func (c *dnsClient) resolve(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if len(c.resolvers) == 0 {
		return nil, errors.New("no DNS resolver configured (empty /etc/resolv.conf?)")
	}
	var errs []error
	for _, addr := range c.resolvers {
		r, err := c.exchange(ctx, addr, name, qtype, true)
		if err == nil && (r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError) {
			return r, nil
		}
		if err == nil {
			err = fmt.Errorf("%s %s at %s: %s", dns.TypeToString[qtype], strings.TrimSuffix(name, "."), addr, dns.RcodeToString[r.Rcode])
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// zoneServers returns the authoritative nameservers of zone, or the
// --dns-server when one is set.
func (c *dnsClient) zoneServers(ctx context.Context, zone string) ([]server, error) {
	if c.override != "" {
		return []server{{Host: c.override, Addr: c.override}}, nil
	}
	c.mu.Lock()
	cached, ok := c.cache[zone]
	c.mu.Unlock()
	if ok {
		return cached, nil
	}
	fail := func(err error) ([]server, error) {
		return nil, fmt.Errorf("%w: zone %s through resolvers %s: %w", ErrNoNameservers, zone, strings.Join(c.resolvers, ", "), err)
	}
	r, err := c.resolve(ctx, zone, dns.TypeNS)
	if err != nil {
		return fail(err)
	}
	glue := map[string][]string{}
	for _, rr := range r.Extra {
		switch a := rr.(type) {
		case *dns.A:
			glue[strings.ToLower(a.Hdr.Name)] = append(glue[strings.ToLower(a.Hdr.Name)], a.A.String())
		case *dns.AAAA:
			glue[strings.ToLower(a.Hdr.Name)] = append(glue[strings.ToLower(a.Hdr.Name)], a.AAAA.String())
		}
	}
	var out []server
	for _, rr := range r.Answer {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		host := strings.ToLower(ns.Ns)
		ips := glue[host]
		if len(ips) == 0 {
			if ips, err = c.addresses(ctx, host); err != nil {
				return fail(err)
			}
		}
		for _, ip := range ips {
			out = append(out, server{Host: strings.TrimSuffix(host, "."), Addr: net.JoinHostPort(ip, c.port)})
		}
	}
	if len(out) == 0 {
		return fail(errors.New("no NS records with addresses"))
	}
	c.mu.Lock()
	c.cache[zone] = out
	c.mu.Unlock()
	return out, nil
}

func (c *dnsClient) addresses(ctx context.Context, host string) ([]string, error) {
	var ips []string
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		r, err := c.resolve(ctx, host, qt)
		if err != nil {
			return nil, err
		}
		for _, rr := range r.Answer {
			switch a := rr.(type) {
			case *dns.A:
				ips = append(ips, a.A.String())
			case *dns.AAAA:
				ips = append(ips, a.AAAA.String())
			}
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("nameserver %s has no address", strings.TrimSuffix(host, "."))
	}
	return ips, nil
}

// zoneOf finds the zone that holds name by asking a resolver for name's SOA:
// the SOA in the answer or in the authority section names the zone. Only
// used for names in no zone of the account, and only for names that exist
// independently of the challenge (the domain, never _acme-challenge.*).
func (c *dnsClient) zoneOf(ctx context.Context, name string) (string, error) {
	if c.override != "" {
		return "", fmt.Errorf("%s is in no DNSPod zone of this account", name)
	}
	r, err := c.resolve(ctx, name, dns.TypeSOA)
	if err != nil {
		return "", fmt.Errorf("find the zone of %s: %w", name, err)
	}
	for _, rr := range append(r.Answer, r.Ns...) {
		if soa, ok := rr.(*dns.SOA); ok {
			return normalize(soa.Hdr.Name), nil
		}
	}
	return "", fmt.Errorf("find the zone of %s: no SOA record in the answer", name)
}

// cname asks the servers in turn for a CNAME at name and returns its target,
// or "" when name has none. The first server that answers decides.
func (c *dnsClient) cname(ctx context.Context, servers []server, name string) (string, error) {
	var errs []error
	for _, s := range servers {
		r, err := c.exchange(ctx, s.Addr, name, dns.TypeCNAME, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("CNAME %s at %s: %s", name, s, dns.RcodeToString[r.Rcode]))
			continue
		}
		for _, rr := range r.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, dns.Fqdn(name)) {
				return normalize(cn.Target), nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("look up CNAME at %s: %w", name, errors.Join(errs...))
}

// hasTXT reports whether the server answers value among the TXT records at name.
func (c *dnsClient) hasTXT(ctx context.Context, s server, name, value string) (bool, error) {
	r, err := c.exchange(ctx, s.Addr, name, dns.TypeTXT, false)
	if err != nil {
		return false, err
	}
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok && strings.EqualFold(txt.Hdr.Name, dns.Fqdn(name)) && strings.Join(txt.Txt, "") == value {
			return true, nil
		}
	}
	return false, nil
}
