package tcsim

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const (
	// connTimeout bounds one client connection to a listener, so Close never waits long.
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
		cert, err := parseCert(cs.CertPEM, cs.KeyPEM, certTypeServer, start, false)
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
				SNI: ls.SNI, CertID: ls.CertID, Created: lb.Created,
			}
			if !isLayer7(l.Protocol) {
				l.balancing = balancingFromSpec(ls.BalancingSpec, false, backends)
			}
			domainCert := map[string]string{}
			for _, rs := range ls.Rules {
				r := &rule{
					LocationID: newID(rs.LocationID, "loc-"), Domain: rs.Domain, URL: rs.URL, CertID: rs.CertID, Created: lb.Created,
					balancing: balancingFromSpec(rs.BalancingSpec, true, backends),
				}
				if r.URL == "" {
					r.URL = "/"
				}
				// The rules of one domain share its certificate, as on CLB.
				if ls.SNI {
					if r.CertID == "" {
						r.CertID = domainCert[r.Domain]
					}
					domainCert[r.Domain] = r.CertID
				}
				l.Rules = append(l.Rules, r)
			}
			for _, id := range append([]string{l.CertID}, ruleCertIDs(l)...) {
				if id != "" && c.certs[id] == nil {
					return fmt.Errorf("load balancer %s listener %s: certificate %q is not in Options.Certificates", lb.ID, l.ID, id)
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

func ruleCertIDs(l *listener) []string {
	var out []string
	for _, r := range l.Rules {
		out = append(out, r.CertID)
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

// lbNetwork is the sockets of every listener: HTTPS and TCP_SSL terminate TLS with the
// certificate bound at the moment of the handshake, HTTP answers 200, TCP closes at once, and
// a QUIC listener holds its UDP port without answering (tcsim does not speak QUIC).
type lbNetwork struct {
	servers []*portServer
}

// portServer serves one listener's port.
type portServer struct {
	ln     net.Listener   // TCP-based listeners
	pc     net.PacketConn // QUIC
	handle func(net.Conn)
	log    *slog.Logger

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// startNetwork binds every listener's port on its VIP, records ports picked for Port 0, and
// starts serving.
func startNetwork(c *cloud, log *slog.Logger) (*lbNetwork, error) {
	n := &lbNetwork{}
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
	return n, nil
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
		ps, err := bindListener(c, lb, l, taken, log)
		if err != nil {
			return fmt.Errorf("load balancer %s listener %s (%s) on %s: %w", lb.ID, l.ID, l.Protocol, lb.VIP, err)
		}
		n.servers = append(n.servers, ps)
	}
	return nil
}

func bindListener(c *cloud, lb *loadBalancer, l *listener, taken map[int]bool, log *slog.Logger) (*portServer, error) {
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
		ps.handle = listenerHandler(c, lb.ID, l, ps.log)
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
		return &portServer{pc: pc, conns: map[net.Conn]struct{}{}}, pc.LocalAddr().(*net.UDPAddr).Port, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	return &portServer{ln: ln, conns: map[net.Conn]struct{}{}}, ln.Addr().(*net.TCPAddr).Port, nil
}

// listenerHandler is what a listener does with one client connection.
func listenerHandler(c *cloud, lbID string, l *listener, log *slog.Logger) func(net.Conn) {
	listenerID := l.ID
	cfg := &tls.Config{
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.handshakeCert(lbID, listenerID, hello.ServerName)
		},
	}
	body := "tcsim " + lbID + "/" + listenerID + "\n"
	switch l.Protocol {
	case protoHTTPS:
		return func(conn net.Conn) {
			tc := tls.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				log.Debug("tcsim listener: TLS handshake failed", "err", err)
				return
			}
			answerHTTP(tc, body)
			_ = tc.Close()
		}
	case protoTCPSSL:
		return func(conn net.Conn) {
			tc := tls.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				log.Debug("tcsim listener: TLS handshake failed", "err", err)
				return
			}
			_ = tc.Close()
		}
	case protoHTTP:
		return func(conn net.Conn) { answerHTTP(conn, body) }
	}
	return func(net.Conn) {}
}

// answerHTTP reads one HTTP/1.1 request and answers 200 with body, then the connection ends.
func answerHTTP(conn net.Conn, body string) {
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	_ = req.Body.Close()
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

func (ps *portServer) start() {
	if ps.ln == nil {
		return
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

func (ps *portServer) close() {
	ps.mu.Lock()
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
	ps.wg.Wait()
}

func (n *lbNetwork) close() {
	for _, ps := range n.servers {
		ps.close()
	}
	n.servers = nil
}
