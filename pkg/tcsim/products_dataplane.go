package tcsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// productNetwork is the data plane of the CDN domains and EdgeOne hosts: each serves HTTPS on
// an address of its own with the certificate it holds at the moment of the handshake, so a
// handshake shows what a visitor gets. Like an edge node, it picks the site by SNI and refuses
// a handshake for a name it does not serve.
type productNetwork struct {
	servers []*http.Server
}

func startProductNetwork(c *cloud, log *slog.Logger) (*productNetwork, error) {
	n := &productNetwork{}
	c.mu.Lock()
	var serve []*resource
	for _, r := range c.prod.resources {
		if r.servesData() {
			serve = append(serve, r)
		}
	}
	c.mu.Unlock()
	for _, r := range serve {
		ln, err := net.Listen("tcp", net.JoinHostPort(r.VIP, "0"))
		if err != nil {
			n.close()
			return nil, fmt.Errorf("%s %s on %s: %w", r.Type, r.name(), r.VIP, err)
		}
		c.mu.Lock()
		r.Port = ln.Addr().(*net.TCPAddr).Port
		c.mu.Unlock()
		res, what := r, r.Type+" "+r.name()
		srv := &http.Server{
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.With("resource", what).Handler(), slog.LevelDebug),
			TLSConfig: &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				return c.resourceHandshakeCert(res, hello.ServerName)
			}},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = fmt.Fprintf(w, "%s %s\n", what, hostOnly(req.Host))
			}),
		}
		n.servers = append(n.servers, srv)
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	}
	return n, nil
}

func (n *productNetwork) close() {
	for _, s := range n.servers {
		_ = s.Close()
	}
	n.servers = nil
}

// resourceHandshakeCert is the certificate r presents to a ClientHello for sni right now.
func (c *cloud) resourceHandshakeCert(r *resource, sni string) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	name := strings.ToLower(strings.TrimSuffix(sni, "."))
	if name == "" {
		return nil, errors.New("no SNI: an edge node picks the site by server name")
	}
	if !nameCovered(r.Domains, name) {
		return nil, fmt.Errorf("%s %s does not serve %q", r.Type, r.name(), name)
	}
	cert := c.certs[r.CertID]
	if cert == nil || cert.tlsCert == nil {
		return nil, fmt.Errorf("%s %s has no server certificate", r.Type, r.name())
	}
	return cert.tlsCert, nil
}
