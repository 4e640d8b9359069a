package tcsim

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

const (
	// connTimeout bounds a client's TLS handshake and each HTTP request on a listener, and
	// the wait for a target's answer. Piped layer-4 connections have no bound: they last
	// until either end or Sim.Close ends them.
	connTimeout = 10 * time.Second
	// portAttempts is how often a port-0 listener is rebound when the kernel hands out a
	// port another listener of the same load balancer already has on the other transport.
	portAttempts = 8
	// defaultVIP is the VIP of a load balancer whose spec gives none.
	defaultVIP = "127.0.0.1"
)

// loadTopology fills c with the certificates and load balancers of the options. Generated
// ids are unique and stable for the run; load balancers are created a minute apart in
// topology order, so CreateTime orders them as listed.
func (c *cloud) loadTopology(top Topology, certs []CertSpec, start time.Time, backends map[string]*net.TCPAddr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cs := range certs {
		cert, err := parseCert(cs.CertPEM, cs.KeyPEM, cmp.Or(cs.Type, certTypeServer), start, false)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", cs.ID, err)
		}
		cert.Alias = cs.Alias
		c.addCertLocked(cert, cs.ID, start, false)
	}
	used := map[string]bool{}
	for _, lb := range top.LoadBalancers {
		used[lb.ID] = true
		for _, l := range lb.Listeners {
			used[l.ID] = true
			for _, r := range l.Rules {
				used[r.LocationID] = true
			}
		}
	}
	newID := func(given, prefix string) string {
		if given != "" {
			return given
		}
		for {
			id := prefix + randomLowerAlnum(8)
			if !used[id] {
				used[id] = true
				return id
			}
		}
	}
	n := len(top.LoadBalancers)
	for i, spec := range top.LoadBalancers {
		lb := &loadBalancer{
			ID: newID(spec.ID, "lb-"), Name: spec.Name, Region: spec.Region, VIP: spec.VIP,
			Created: start.Add(-time.Duration(n-i) * time.Minute),
		}
		if lb.Name == "" {
			lb.Name = lb.ID
		}
		if lb.VIP == "" {
			lb.VIP = defaultVIP
		}
		lb.VIP = net.ParseIP(lb.VIP).String()
		for _, ls := range spec.Listeners {
			l := &listener{
				ID: newID(ls.ID, "lbl-"), Name: ls.Name, Protocol: ls.Protocol, Port: ls.Port,
				SNI: ls.SNI, Cert: ls.binding().model(), Created: lb.Created,
			}
			if !isLayer7(l.Protocol) {
				l.balancing = balancingFromSpec(ls.BalancingSpec, false, backends)
			}
			domainCert := map[string]certBinding{}
			for _, rs := range ls.Rules {
				r := &rule{
					LocationID: newID(rs.LocationID, "loc-"), Domain: rs.Domain, URL: rs.URL, Cert: rs.binding().model(), Created: lb.Created,
					balancing: balancingFromSpec(rs.BalancingSpec, true, backends),
				}
				if r.URL == "" {
					r.URL = "/"
				}
				// The rules of one domain share its certificates, as on CLB.
				if ls.SNI {
					if r.Cert.empty() {
						r.Cert = domainCert[r.Domain]
					}
					domainCert[r.Domain] = r.Cert
				}
				l.Rules = append(l.Rules, r)
			}
			for _, b := range append([]certBinding{l.Cert}, ruleBindings(l)...) {
				if err := c.checkBindingLocked(b); err != nil {
					return fmt.Errorf("load balancer %s listener %s: %w", lb.ID, l.ID, err)
				}
			}
			lb.Listeners = append(lb.Listeners, l)
		}
		c.lbs = append(c.lbs, lb)
		c.lbByID[lb.ID] = lb
	}
	for _, cs := range top.CustomizedConfigs {
		cfg := &customConfig{ID: newID(cs.ID, "pz-"), Name: cs.Name, Region: cs.Region, Content: cs.Content, Created: start, Updated: start}
		for _, id := range cs.LoadBalancerIDs {
			lb := c.lbByID[id]
			lb.ConfigID = cfg.ID
			cfg.Region = lb.Region
		}
		c.configs[cfg.ID] = cfg
	}
	return nil
}

func ruleBindings(l *listener) []certBinding {
	var out []certBinding
	for _, r := range l.Rules {
		out = append(out, r.Cert)
	}
	return out
}

func randomLowerAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte(randomAlnum(n))
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// lbNetwork is the sockets of every listener and the data plane behind them. HTTPS and
// TCP_SSL terminate TLS with the certificate bound at the moment of the handshake; HTTP and
// HTTPS then serve HTTP/1.1 and proxy each request to a target of the rule it matches; TCP
// and TCP_SSL pipe each connection to a target of the listener; a QUIC listener holds its
// UDP port without answering (tcsim does not speak QUIC). The health checker keeps the
// targets' states that decide who gets traffic.
type lbNetwork struct {
	dp      *dataPlane
	checker *healthChecker
	log     *slog.Logger

	// mu guards servers and closed: CreateListener adds servers while the simulator runs.
	mu      sync.Mutex
	servers []*portServer
	closed  bool
}

// portServer serves one listener's port.
type portServer struct {
	ln     net.Listener   // TCP-based listeners
	pc     net.PacketConn // QUIC
	handle func(net.Conn)
	log    *slog.Logger
	// l7 serves HTTP on the connections handle hands it; nil for layer-4 listeners.
	l7 *layer7
	// closing is closed when the server closes, to end connections piped to targets.
	closing chan struct{}

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// startNetwork binds every listener's port on its VIP, records ports picked for Port 0, and
// starts serving and health checking; healthUnit is how long one second of the health
// checks' IntervalTime and TimeOut lasts.
func startNetwork(c *cloud, log *slog.Logger, healthUnit time.Duration) (*lbNetwork, error) {
	n, err := bindNetwork(c, log)
	if err != nil {
		return nil, err
	}
	n.checker = startHealthChecker(c, healthUnit, log)
	return n, nil
}

func bindNetwork(c *cloud, log *slog.Logger) (*lbNetwork, error) {
	n := &lbNetwork{dp: newDataPlane(c), log: log}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, lb := range c.lbs {
		if err := n.bindLB(c, lb, log); err != nil {
			n.close()
			return nil, err
		}
	}
	for _, ps := range n.servers {
		ps.start()
	}
	c.net = n
	return n, nil
}

// reserveLocked binds the ports of listeners that CreateListener adds to lb, each on lb's VIP
// at the port it asks for, all or none: the call fails, with nothing changed, when one cannot
// be had. The sockets are held from the call on, so no other listener takes the ports; start
// makes them serve, when the task completes. With c.mu held.
func (n *lbNetwork) reserveLocked(c *cloud, lb *loadBalancer, ls []*listener) (start func(), err error) {
	var bound []*portServer
	for _, l := range ls {
		ps, err := bindListener(c, n.dp, lb, l, map[int]bool{}, n.log)
		if err != nil {
			for _, ps := range bound {
				ps.close()
			}
			return nil, err
		}
		bound = append(bound, ps)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		for _, ps := range bound {
			ps.close()
		}
		return nil, errors.New("the simulator is closing")
	}
	n.servers = append(n.servers, bound...)
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.closed {
			return
		}
		for _, ps := range bound {
			ps.start()
		}
	}, nil
}

// bindLB binds the listeners with a fixed port first, so a picked port cannot take theirs.
func (n *lbNetwork) bindLB(c *cloud, lb *loadBalancer, log *slog.Logger) error {
	taken := map[int]bool{}
	for _, l := range lb.Listeners {
		if l.Port != 0 {
			taken[l.Port] = true
		}
	}
	ordered := make([]*listener, 0, len(lb.Listeners))
	for _, l := range lb.Listeners {
		if l.Port != 0 {
			ordered = append(ordered, l)
		}
	}
	for _, l := range lb.Listeners {
		if l.Port == 0 {
			ordered = append(ordered, l)
		}
	}
	for _, l := range ordered {
		ps, err := bindListener(c, n.dp, lb, l, taken, log)
		if err != nil {
			return fmt.Errorf("load balancer %s listener %s (%s) on %s: %w", lb.ID, l.ID, l.Protocol, lb.VIP, err)
		}
		n.servers = append(n.servers, ps)
	}
	return nil
}

func bindListener(c *cloud, dp *dataPlane, lb *loadBalancer, l *listener, taken map[int]bool, log *slog.Logger) (*portServer, error) {
	attempts := 1
	if l.Port == 0 {
		attempts = portAttempts
	}
	var rejected []*portServer
	defer func() {
		for _, ps := range rejected {
			ps.close()
		}
	}()
	for range attempts {
		ps, port, err := listenPort(lb.VIP, l.Port, l.Protocol == protoQUIC)
		if err != nil {
			return nil, err
		}
		if l.Port == 0 && taken[port] {
			// Keep it open until the end, so the next attempt gets another port.
			rejected = append(rejected, ps)
			continue
		}
		taken[port] = true
		l.Port = port
		ps.log = log.With("lb", lb.ID, "listener", l.ID, "protocol", l.Protocol, "addr", net.JoinHostPort(lb.VIP, strconv.Itoa(port)))
		ps.setHandler(c, dp, lb.ID, l)
		return ps, nil
	}
	return nil, fmt.Errorf("no free port unused by the other listeners after %d attempts", attempts)
}

func listenPort(vip string, port int, udp bool) (*portServer, int, error) {
	addr := net.JoinHostPort(vip, strconv.Itoa(port))
	if udp {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, 0, err
		}
		return &portServer{pc: pc, conns: map[net.Conn]struct{}{}, closing: make(chan struct{})}, pc.LocalAddr().(*net.UDPAddr).Port, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	return &portServer{ln: ln, conns: map[net.Conn]struct{}{}, closing: make(chan struct{})}, ln.Addr().(*net.TCPAddr).Port, nil
}

// setHandler makes ps serve listener l: what it does with one client connection.
func (ps *portServer) setHandler(c *cloud, dp *dataPlane, lbID string, l *listener) {
	listenerID := l.ID
	cfg := listenerTLS(c, lbID, listenerID, isLayer7(l.Protocol))
	switch l.Protocol {
	case protoHTTPS, protoHTTP:
		https, scheme := l.Protocol == protoHTTPS, "http"
		if https {
			scheme = "https"
		}
		ps.l7 = newLayer7(dp, lbID, listenerID, scheme, ps.ln.Addr(), ps.log)
		ps.handle = func(conn net.Conn) {
			nc := newNotifyConn(conn)
			served := net.Conn(nc)
			if https {
				tc := tls.Server(nc, cfg)
				if err := tc.Handshake(); err != nil {
					ps.log.Debug("tcsim listener: TLS handshake failed", "err", err)
					return
				}
				served = tc
			}
			ps.l7.handle(served, nc.done)
		}
	case protoTCPSSL:
		ps.handle = func(conn net.Conn) {
			tc := tls.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				ps.log.Debug("tcsim listener: TLS handshake failed", "err", err)
				return
			}
			dp.pipe(tc, lbID, listenerID, ps.closing, ps.log)
		}
	case protoTCP:
		ps.handle = func(conn net.Conn) { dp.pipe(conn, lbID, listenerID, ps.closing, ps.log) }
	default:
		ps.handle = func(net.Conn) {}
	}
}

// listenerTLS terminates TLS with the certificate bound at the moment of each handshake and
// the protocol versions allowed at that moment. HTTPS (layer 7) allows what the load
// balancer's customized configuration's ssl_protocols says, CLB's default TLS 1.0-1.2
// without one. TCP_SSL takes no customized configuration on CLB; tcsim allows it TLS 1.0
// to 1.3. MinVersion is always set explicitly: Go's server refuses TLS 1.0 and 1.1 by
// default, CLB does not.
func listenerTLS(c *cloud, lbID, listenerID string, layer7 bool) *tls.Config {
	return &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			minVersion, maxVersion := uint16(tls.VersionTLS10), uint16(tls.VersionTLS13)
			if layer7 {
				var err error
				if minVersion, maxVersion, err = c.handshakeVersions(lbID); err != nil {
					return nil, err
				}
			}
			cfg := &tls.Config{MinVersion: minVersion, MaxVersion: maxVersion}
			if err := c.handshakeBinding(lbID, listenerID, hello, cfg); err != nil {
				return nil, err
			}
			return cfg, nil
		},
	}
}

// handshakeVersions is the TLS version range lb's HTTPS listeners allow right now.
func (c *cloud) handshakeVersions(lbID string) (minVersion, maxVersion uint16, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	lb := c.lbByID[lbID]
	if lb == nil {
		return 0, 0, fmt.Errorf("load balancer %s is gone", lbID)
	}
	minVersion, maxVersion = tlsVersions(c.sslProtocolsLocked(lb))
	return minVersion, maxVersion, nil
}

func (ps *portServer) start() {
	if ps.ln == nil {
		return
	}
	if ps.l7 != nil {
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			ps.l7.serve()
		}()
	}
	ps.wg.Add(1)
	go ps.acceptLoop()
}

func (ps *portServer) acceptLoop() {
	defer ps.wg.Done()
	for {
		conn, err := ps.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// A transient failure such as running out of file descriptors: wait, go on.
			ps.log.Debug("tcsim listener: accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ps.mu.Lock()
		if ps.closed {
			ps.mu.Unlock()
			_ = conn.Close()
			return
		}
		ps.conns[conn] = struct{}{}
		ps.wg.Add(1)
		ps.mu.Unlock()
		go func() {
			defer ps.wg.Done()
			_ = conn.SetDeadline(time.Now().Add(connTimeout))
			ps.handle(conn)
			_ = conn.Close()
			ps.mu.Lock()
			delete(ps.conns, conn)
			ps.mu.Unlock()
		}()
	}
}

// close ends the port and every connection on it, idle or not, without waiting for them to
// finish.
func (ps *portServer) close() {
	ps.mu.Lock()
	if !ps.closed {
		close(ps.closing)
	}
	ps.closed = true
	for conn := range ps.conns {
		_ = conn.Close()
	}
	ps.mu.Unlock()
	if ps.ln != nil {
		_ = ps.ln.Close()
	}
	if ps.pc != nil {
		_ = ps.pc.Close()
	}
	if ps.l7 != nil {
		ps.l7.stop()
	}
	ps.wg.Wait()
}

func (n *lbNetwork) close() {
	if n.checker != nil {
		n.checker.stop()
	}
	n.mu.Lock()
	servers := n.servers
	n.servers, n.closed = nil, true
	n.mu.Unlock()
	for _, ps := range servers {
		ps.close()
	}
	n.dp.close()
}
