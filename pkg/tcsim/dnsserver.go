package tcsim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SOA values of a DNSPod free zone. The minimum (180 s) is the negative-caching TTL: a
// resolver that asks for a TXT record before it propagates remembers the NXDOMAIN that long.
const (
	soaRname   = "freednsadmin.dnspod.com."
	soaTTL     = 600
	soaRefresh = 3600
	soaRetry   = 180
	soaExpire  = 1209600
	soaMinimum = 180

	// nsHostTTL is the TTL of the A/AAAA answers for the nameservers' own names.
	nsHostTTL = 600
	// maxCNAMEChain bounds how many CNAMEs one answer follows, so a loop cannot run away.
	maxCNAMEChain = 8
	// ednsSize is the UDP payload size tcsim advertises and the most it sends over UDP.
	ednsSize = 1232
	// dnsBindAttempts is how often a DNSPort of 0 is retried when another process takes the
	// port between binding the first and the other nameserver addresses.
	dnsBindAttempts = 8
)

// nameserver is one authoritative server: its name, address and how far behind the API it is.
type nameserver struct {
	host  string // lower-case FQDN with trailing dot
	ip    net.IP
	delay time.Duration // PropagationDelay + Lag
}

// authority answers DNS queries for the simulated zones as one nameserver sees them at a time.
type authority struct {
	store       *zoneStore
	nameservers []nameserver
	now         func() time.Time
}

func (a *authority) handler(delay time.Duration) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		_, udp := w.RemoteAddr().(*net.UDPAddr)
		_ = w.WriteMsg(a.respond(req, delay, udp))
	})
}

func (a *authority) respond(req *dns.Msg, delay time.Duration, udp bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if req.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	opt := req.IsEdns0()
	size := dns.MinMsgSize
	if opt != nil {
		if opt.Version() != 0 {
			m.Rcode = dns.RcodeBadVers
			m.SetEdns0(ednsSize, opt.Do())
			return m
		}
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), ednsSize)
	}
	q := req.Question[0]
	if q.Qclass == dns.ClassINET {
		a.answer(m, q, a.now().Add(-delay))
	} else {
		m.Rcode = dns.RcodeRefused
	}
	if opt != nil {
		m.SetEdns0(ednsSize, opt.Do())
	}
	if udp {
		m.Truncate(size)
	}
	return m
}

// answer fills m for q as the zones were at t.
func (a *authority) answer(m *dns.Msg, q dns.Question, t time.Time) {
	qname := strings.ToLower(dns.Fqdn(q.Name))
	if rrs, ok := a.hostAddresses(qname, q.Qtype); ok {
		m.Authoritative = true
		m.Answer = rrs
		return
	}
	zoneName, ok := a.store.zoneFor(qname)
	if !ok {
		m.Rcode = dns.RcodeRefused
		return
	}
	m.Authoritative = true
	views := map[string]*zoneView{}
	seen := map[string]bool{}
	name := qname
	for hop := 0; ; hop++ {
		v, ok := views[zoneName]
		if !ok {
			v = a.view(zoneName, t)
			views[zoneName] = v
		}
		res := v.lookup(name, q.Qtype)
		m.Answer = append(m.Answer, res.answer...)
		if res.referral {
			if hop == 0 {
				m.Authoritative = false
				m.Ns = res.authority
			}
			break
		}
		if res.cnameTarget == "" {
			m.Rcode = res.rcode
			m.Ns = res.authority
			break
		}
		seen[name] = true
		name = res.cnameTarget
		if seen[name] || hop+1 >= maxCNAMEChain {
			break
		}
		if zoneName, ok = a.store.zoneFor(name); !ok {
			break
		}
	}
	// Echo the question's spelling (resolvers may randomise case, draft-vixie-dnsext-dns0x20).
	for _, rr := range m.Answer {
		if rr.Header().Name == qname {
			rr.Header().Name = q.Name
		}
	}
}

// hostAddresses answers for a nameserver's own name, which lies in no zone tcsim serves, so
// that a client can resolve a zone's NS names through tcsim itself.
func (a *authority) hostAddresses(qname string, qtype uint16) ([]dns.RR, bool) {
	var rrs []dns.RR
	found := false
	for _, ns := range a.nameservers {
		if ns.host != qname {
			continue
		}
		found = true
		hdr := dns.RR_Header{Name: qname, Class: dns.ClassINET, Ttl: nsHostTTL}
		if ip4 := ns.ip.To4(); ip4 != nil && (qtype == dns.TypeA || qtype == dns.TypeANY) {
			hdr.Rrtype = dns.TypeA
			rrs = append(rrs, &dns.A{Hdr: hdr, A: ip4})
		}
		if ns.ip.To4() == nil && (qtype == dns.TypeAAAA || qtype == dns.TypeANY) {
			hdr.Rrtype = dns.TypeAAAA
			rrs = append(rrs, &dns.AAAA{Hdr: hdr, AAAA: ns.ip})
		}
	}
	return rrs, found
}

// zoneView is one zone's served data at one moment, indexed by owner name.
type zoneView struct {
	apex   string
	rrs    map[string][]dns.RR
	exists map[string]bool // owners and every name between them and the apex
	soa    *dns.SOA
}

func (a *authority) view(zoneName string, t time.Time) *zoneView {
	data, newest := a.store.served(zoneName, t)
	apex := zoneName + "."
	v := &zoneView{apex: apex, rrs: map[string][]dns.RR{}, exists: map[string]bool{}}
	v.soa = &dns.SOA{
		Hdr:     dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: soaTTL},
		Ns:      a.nameservers[0].host,
		Mbox:    soaRname,
		Serial:  uint32(newest.Unix()),
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  soaMinimum,
	}
	v.add(v.soa)
	for _, d := range data {
		if rr := toRR(ownerName(d.Name, zoneName), d); rr != nil {
			v.add(rr)
		}
	}
	return v
}

func (v *zoneView) add(rr dns.RR) {
	owner := rr.Header().Name
	v.rrs[owner] = append(v.rrs[owner], rr)
	for n := owner; strings.HasSuffix(n, "."+v.apex) || n == v.apex; {
		v.exists[n] = true
		if n == v.apex {
			break
		}
		_, n, _ = strings.Cut(n, ".")
	}
}

type lookupResult struct {
	answer      []dns.RR
	authority   []dns.RR
	rcode       int
	cnameTarget string // set when the answer is a CNAME to follow
	referral    bool
}

// lookup resolves one name in the zone: delegation, exact match, empty non-terminal,
// wildcard (RFC 4592), else NXDOMAIN.
func (v *zoneView) lookup(name string, qtype uint16) lookupResult {
	if ns := v.delegation(name, qtype); ns != nil {
		return lookupResult{authority: ns, referral: true}
	}
	rrs, ok := v.rrs[name]
	if !ok {
		if v.exists[name] {
			return v.negative(dns.RcodeSuccess)
		}
		if rrs = v.wildcard(name); rrs == nil {
			return v.negative(dns.RcodeNameError)
		}
	}
	if qtype != dns.TypeCNAME {
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok {
				return lookupResult{answer: []dns.RR{c}, cnameTarget: strings.ToLower(c.Target)}
			}
		}
	}
	var answer []dns.RR
	for _, rr := range rrs {
		if qtype == dns.TypeANY || rr.Header().Rrtype == qtype {
			answer = append(answer, rr)
		}
	}
	if len(answer) == 0 {
		return v.negative(dns.RcodeSuccess)
	}
	return lookupResult{answer: answer}
}

// negative is NXDOMAIN or NODATA with the SOA in the authority section, its TTL capped at
// the SOA minimum as RFC 2308 §3 asks.
func (v *zoneView) negative(rcode int) lookupResult {
	soa := dns.Copy(v.soa)
	soa.Header().Ttl = min(soaTTL, soaMinimum)
	return lookupResult{rcode: rcode, authority: []dns.RR{soa}}
}

// delegation finds NS records at a name strictly below the apex on the way to name: the zone
// has delegated that subtree, so the answer is a referral.
func (v *zoneView) delegation(name string, qtype uint16) []dns.RR {
	if name == v.apex {
		return nil
	}
	labels := strings.Split(strings.TrimSuffix(name, "."+v.apex), ".")
	for i := len(labels) - 1; i >= 0; i-- {
		cut := strings.Join(labels[i:], ".") + "." + v.apex
		if cut == name && qtype == dns.TypeDS {
			return nil
		}
		var ns []dns.RR
		for _, rr := range v.rrs[cut] {
			if rr.Header().Rrtype == dns.TypeNS {
				ns = append(ns, rr)
			}
		}
		if len(ns) > 0 {
			return ns
		}
	}
	return nil
}

// wildcard synthesises name's records from "*.<closest encloser>", if that exists.
func (v *zoneView) wildcard(name string) []dns.RR {
	encloser := name
	for encloser != v.apex {
		_, encloser, _ = strings.Cut(encloser, ".")
		if v.exists[encloser] {
			break
		}
	}
	var out []dns.RR
	for _, rr := range v.rrs["*."+encloser] {
		c := dns.Copy(rr)
		c.Header().Name = name
		out = append(out, c)
	}
	return out
}

// toRR builds the resource record a DNSPod record is served as.
func toRR(owner string, d recordData) dns.RR {
	hdr := dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: uint32(d.TTL)}
	switch d.Type {
	case "A":
		hdr.Rrtype = dns.TypeA
		return &dns.A{Hdr: hdr, A: net.ParseIP(d.Value).To4()}
	case "AAAA":
		hdr.Rrtype = dns.TypeAAAA
		return &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP(d.Value)}
	case "CNAME":
		hdr.Rrtype = dns.TypeCNAME
		return &dns.CNAME{Hdr: hdr, Target: d.Value}
	case "NS":
		hdr.Rrtype = dns.TypeNS
		return &dns.NS{Hdr: hdr, Ns: d.Value}
	case "MX":
		hdr.Rrtype = dns.TypeMX
		return &dns.MX{Hdr: hdr, Preference: uint16(d.MX), Mx: d.Value}
	case "TXT":
		hdr.Rrtype = dns.TypeTXT
		return &dns.TXT{Hdr: hdr, Txt: txtStrings(d.Value)}
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", owner, d.TTL, d.Type, d.Value))
	if err != nil {
		return nil
	}
	return rr
}

// txtStrings splits a TXT value into character-strings of at most 255 bytes. miekg/dns reads
// backslashes in TXT strings as escapes, so they are doubled to go out verbatim.
func txtStrings(v string) []string {
	var out []string
	for len(v) > 0 {
		n := min(len(v), 255)
		out = append(out, strings.ReplaceAll(v[:n], `\`, `\\`))
		v = v[n:]
	}
	return out
}

// dnsServers runs a UDP and a TCP server on every nameserver address, all on one port.
type dnsServers struct {
	port    int
	addrs   []string
	servers []*dns.Server
}

func startDNS(nss []nameserver, port int, a *authority) (*dnsServers, error) {
	ips := make([]string, len(nss))
	for i, ns := range nss {
		ips[i] = ns.ip.String()
	}
	pcs, lns, port, err := listenDNS(ips, port)
	if err != nil {
		return nil, err
	}
	ds := &dnsServers{port: port}
	for i, ns := range nss {
		ds.addrs = append(ds.addrs, net.JoinHostPort(ips[i], strconv.Itoa(port)))
		h := a.handler(ns.delay)
		for _, srv := range []*dns.Server{
			{PacketConn: pcs[i], Handler: h, UDPSize: dns.MaxMsgSize},
			{Listener: lns[i], Handler: h},
		} {
			if err := serveDNS(srv); err != nil {
				_ = ds.close()
				closeAll(pcs[i:], lns[i:])
				return nil, err
			}
			ds.servers = append(ds.servers, srv)
		}
	}
	return ds, nil
}

// serveDNS starts srv and returns once it listens, or with the error that stopped it.
func serveDNS(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	go func() { failed <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return fmt.Errorf("start DNS server: %w", err)
	}
}

func (ds *dnsServers) close() error {
	var errs []error
	for _, srv := range ds.servers {
		if err := srv.Shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	ds.servers = nil
	return errors.Join(errs...)
}

// listenDNS binds UDP and TCP on every IP at one port. With port 0 the first UDP socket picks
// a free port and the others follow it; if one of them is taken, everything is retried.
func listenDNS(ips []string, port int) ([]net.PacketConn, []net.Listener, int, error) {
	attempts := 1
	if port == 0 {
		attempts = dnsBindAttempts
	}
	var err error
	for range attempts {
		var pcs []net.PacketConn
		var lns []net.Listener
		var got int
		if pcs, lns, got, err = listenOnce(ips, port); err == nil {
			return pcs, lns, got, nil
		}
	}
	return nil, nil, 0, err
}

func listenOnce(ips []string, port int) ([]net.PacketConn, []net.Listener, int, error) {
	var pcs []net.PacketConn
	var lns []net.Listener
	for _, ip := range ips {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			closeAll(pcs, lns)
			return nil, nil, 0, fmt.Errorf("DNS listen udp %s: %w", ip, err)
		}
		pcs = append(pcs, pc)
		if port == 0 {
			port = pc.LocalAddr().(*net.UDPAddr).Port
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			closeAll(pcs, lns)
			return nil, nil, 0, fmt.Errorf("DNS listen tcp %s: %w", ip, err)
		}
		lns = append(lns, ln)
	}
	return pcs, lns, port, nil
}

func closeAll(pcs []net.PacketConn, lns []net.Listener) {
	for _, pc := range pcs {
		_ = pc.Close()
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
}
