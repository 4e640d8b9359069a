package inventory

import (
	"net"
	"slices"
	"strconv"

	"github.com/clbcert/clbcert/pkg/clb"
)

// IsTLS reports whether a listener of protocol carries a certificate.
func IsTLS(protocol string) bool {
	switch protocol {
	case "HTTPS", "TCP_SSL", "QUIC":
		return true
	}
	return false
}

// IsLayer7 reports whether a listener of protocol balances per forwarding
// rule (HTTP, HTTPS): its scheduler, session persistence, health check and
// backends are its rules', not its own.
func IsLayer7(protocol string) bool { return protocol == "HTTP" || protocol == "HTTPS" }

// Binding is one place a certificate is served: the certificate of a TLS
// listener whose SNI is off, or that of one domain of an SNI listener.
type Binding struct {
	// Address is the listener, with the SNI domain for one domain of an
	// SNI listener; as text "lb-id/lbl-id[/domain]", the way targets are
	// written in the config file.
	clb.Address
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ListenerName     string `json:"listenerName,omitempty"`
	Protocol         string `json:"protocol"`
	Port             int64  `json:"port"`
	// ServerName is the name a TLS client would ask for here: the SNI
	// domain, or the listener's first rule domain.
	ServerName string `json:"serverName,omitempty"`
	// Addr is VIP:port, where a TLS handshake can see what is served; ""
	// for QUIC (UDP) and load balancers without a VIP.
	Addr string `json:"addr,omitempty"`
	// Certificate is nil where nothing is bound.
	Certificate *CertRef `json:"certificate,omitempty"`
}

// CertID is the bound certificate's id, or "".
func (b Binding) CertID() string {
	if b.Certificate == nil {
		return ""
	}
	return b.Certificate.ID
}

// Bindings lists every place a certificate is served in the inventory,
// sorted by region, then load balancer, listener and domain.
func (inv *Inventory) Bindings() []Binding {
	var out []Binding
	for _, lb := range inv.LoadBalancers {
		out = append(out, bindings(lb)...)
	}
	slices.SortFunc(out, func(a, b Binding) int { return a.Compare(b.Address) })
	return out
}

// bindings lists the places lb serves a certificate, in listener order.
func bindings(lb LoadBalancer) []Binding {
	var out []Binding
	for _, l := range lb.Listeners {
		if !IsTLS(l.Protocol) {
			continue
		}
		base := Binding{Address: lb.At(l, nil), LoadBalancerName: lb.Name, ListenerName: l.Name, Protocol: l.Protocol, Port: l.Port}
		if len(lb.VIPs) > 0 && l.Protocol != "QUIC" {
			base.Addr = net.JoinHostPort(lb.VIPs[0], strconv.FormatInt(l.Port, 10))
		}
		domains := l.Domains()
		if !l.SNI {
			b := base
			b.Certificate = l.Certificate
			if len(domains) > 0 {
				b.ServerName = domains[0].Domain
			}
			out = append(out, b)
			continue
		}
		for _, r := range domains {
			b := base
			b.Domain, b.ServerName, b.Certificate = r.Domain, r.Domain, r.Certificate
			out = append(out, b)
		}
	}
	return out
}
