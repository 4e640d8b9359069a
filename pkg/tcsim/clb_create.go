package tcsim

import (
	"context"
	"slices"
)

// CreateListener (docs/tencentcloud-api.md §3 "CreateListener (HTTPS)"): one listener per port
// of Ports, created by a task that keeps the load balancer busy; the new listeners appear in
// DescribeListeners and serve on the data plane when it completes. Each listens on its load
// balancer's VIP at the port it asks for, as in the API's answers: tcsim binds that port at
// the call, so a port the host cannot give is refused then, with nothing changed.
const (
	codePortCheckFailed = "InvalidParameter.PortCheckFailed"

	maxPort            = 65535
	maxListenerNameLen = 80
)

// createListenerParams: Ports, Protocol, ListenerNames, Certificate or MultiCertInfo,
// SniSwitch, and for layer-4 listeners Scheduler, SessionExpireTime and HealthCheck make the
// listeners tcsim simulates; what tcsim does not simulate (port ranges, target groups, TCP_SSL
// without SSL) is refused with the reason; the other fields are accepted.
type createListenerParams struct {
	listenerSettings
	LoadBalancerID *string  `json:"LoadBalancerId" tc:"required"`
	Ports          []*int64 `tc:"required"`
	Protocol       *string  `tc:"required"`
	ListenerNames  []*string
	EndPort        *uint64
	FullEndPorts   []*int64

	H2cSwitch, SslCloseSwitch *bool
}

type createListenerResponse struct {
	ListenerIDs []string `json:"ListenerIds"`
}

func (c *cloud) createListener(_ context.Context, r *request, p *createListenerParams) (any, error) {
	if err := c.checkLBID(p.LoadBalancerID); err != nil {
		return nil, err
	}
	ports, names, err := checkCreateListener(p)
	if err != nil {
		return nil, err
	}
	protocol, sni := *p.Protocol, p.SniSwitch != nil && *p.SniSwitch == 1

	c.mu.Lock()
	defer c.mu.Unlock()
	lb, err := c.settledLBLocked(r, *p.LoadBalancerID)
	if err != nil {
		return nil, err
	}
	if lb.task != nil {
		return nil, busy(lb)
	}
	cert, _, err := c.bindingLocked(p.Certificate, p.MultiCertInfo, r.Now)
	if err != nil {
		return nil, err
	}
	var bal balancingChange
	if !isLayer7(protocol) {
		def := balancingFromSpec(BalancingSpec{}, false, nil)
		if bal, err = checkBalancingChange(&def, protocol, p.Scheduler, p.SessionExpireTime, p.HealthCheck); err != nil {
			return nil, err
		}
	}
	for _, port := range ports {
		if i := slices.IndexFunc(lb.Listeners, func(l *listener) bool { return l.Port == port }); i >= 0 {
			return nil, errorf(codePortCheckFailed, "Port %d of load balancer %s is taken by listener %s; pick another port.", port, lb.ID, lb.Listeners[i].ID)
		}
	}

	created := make([]*listener, len(ports))
	ids := make([]string, len(ports))
	for i, port := range ports {
		l := &listener{ID: c.newListenerIDLocked(ids[:i]), Protocol: protocol, Port: port, SNI: sni, Created: r.Now}
		if names != nil {
			l.Name = names[i]
		}
		if !cert.empty() {
			l.Cert = cert
			l.Cert.CertIDs = slices.Clone(cert.CertIDs)
		}
		if !isLayer7(protocol) {
			l.balancing = balancingFromSpec(BalancingSpec{}, false, nil)
			bal.apply(&l.balancing)
		}
		created[i], ids[i] = l, l.ID
	}
	start, err := c.net.reserveLocked(c, lb, created)
	if err != nil {
		// UNCERTAIN: CLB knows only its own listeners' ports; a port another program holds on
		// this host is a simulator's limit, answered with the code of a port conflict.
		return nil, errorf(codePortCheckFailed, "tcsim cannot listen for load balancer %s: %s; pick another port.", lb.ID, err.Error())
	}
	c.startTaskLocked(r.RequestID, lb, r.Now, boundIDs(cert), func() {
		lb.Listeners = append(lb.Listeners, created...)
		start()
	})
	return createListenerResponse{ListenerIDs: ids}, nil
}

// checkCreateListener applies the rules that need no state: it returns the ports and the
// names (nil when none are given), one per listener.
func checkCreateListener(p *createListenerParams) (ports []int, names []string, err error) {
	if len(p.Ports) == 0 {
		return nil, nil, errorf(codeMissingParameter, "The request is missing a required parameter `Ports`.")
	}
	for i, port := range p.Ports {
		switch {
		case port == nil:
			return nil, nil, errorf(codeInvalidParameter, "Ports.%d is null.", i)
		case *port < 1 || *port > maxPort:
			return nil, nil, errorf(codeValueRange, "Ports must be 1-%d; %d is not.", maxPort, *port)
		case slices.Contains(ports, int(*port)):
			// UNCERTAIN: the code for a port listed twice.
			return nil, nil, errorf(codePortCheckFailed, "Ports lists %d twice; each port makes one listener.", *port)
		}
		ports = append(ports, int(*port))
	}
	protocol := *p.Protocol
	switch protocol {
	case protoHTTPS, protoTCPSSL, protoQUIC, protoHTTP, protoTCP:
	case "UDP":
		return nil, nil, errorf(codeInvalidParameter, "tcsim does not simulate UDP listeners; use TCP, HTTP, HTTPS, TCP_SSL or QUIC.")
	default:
		return nil, nil, errorf(codeInvalidParameterValue, "Protocol must be TCP, UDP, HTTP, HTTPS, TCP_SSL or QUIC, not `%s`.", protocol)
	}
	if len(p.ListenerNames) > 0 {
		if len(p.ListenerNames) != len(ports) {
			return nil, nil, errorf(codeInvalidParameter, "ListenerNames has %d names for %d Ports; give one name per port, in order, or none.", len(p.ListenerNames), len(ports))
		}
		for _, n := range p.ListenerNames {
			if n == nil || *n == "" || len([]rune(*n)) > maxListenerNameLen {
				return nil, nil, errorf(codeValueLength, "A listener name must be 1-%d characters.", maxListenerNameLen)
			}
			names = append(names, *n)
		}
	}
	switch {
	case p.EndPort != nil || len(p.FullEndPorts) > 0:
		return nil, nil, errorf(codeInvalidParameter, "tcsim does not simulate port-range listeners (EndPort, FullEndPorts); give each port in Ports.")
	case p.SslCloseSwitch != nil && *p.SslCloseSwitch:
		return nil, nil, errorf(codeInvalidParameter, "tcsim does not simulate TCP_SSL listeners without SSL (SslCloseSwitch); create a TCP listener.")
	case p.TargetType != nil && *p.TargetType == "TARGETGROUP":
		return nil, nil, errorf(codeInvalidParameter, "tcsim does not simulate target groups; leave TargetType out or NODE.")
	case p.TargetType != nil && *p.TargetType != "NODE":
		return nil, nil, errorf(codeInvalidParameterValue, "TargetType must be NODE or TARGETGROUP.")
	case p.Scheduler != nil && *p.Scheduler == schedIPHash:
		// UNCERTAIN: CreateListener documents WRR and LEAST_CONN only; ModifyListener takes IP_HASH.
		return nil, nil, errorf(codeInvalidParameterValue, "CreateListener's Scheduler is WRR or LEAST_CONN; set IP_HASH afterwards with ModifyListener.")
	}
	if err := checkPerRuleBalancing(protocol, p.HealthCheck, p.Scheduler, p.SessionExpireTime); err != nil {
		return nil, nil, err
	}
	if err := checkSniSwitch(protocol, p.SniSwitch); err != nil {
		return nil, nil, err
	}
	sni := p.SniSwitch != nil && *p.SniSwitch == 1
	if err := checkListenerCertTarget(protocol, sni, p.Certificate, p.MultiCertInfo); err != nil {
		return nil, nil, err
	}
	// QUIC: UNCERTAIN. The SDK names TCP_SSL and HTTPS without SNI; tcsim's QUIC listeners
	// carry a certificate as CLB's do, so they need one too.
	needsCert := protocol == protoTCPSSL || protocol == protoQUIC || protocol == protoHTTPS && !sni
	if needsCert && p.Certificate == nil && p.MultiCertInfo == nil {
		return nil, nil, errorf(codeMissingParameter, "The request is missing a required parameter: a %s listener without SNI needs Certificate or MultiCertInfo.", protocol)
	}
	return ports, names, nil
}

// newListenerIDLocked is a listener id no load balancer uses, nor any of pending.
func (c *cloud) newListenerIDLocked(pending []string) string {
	for {
		id := "lbl-" + randomLowerAlnum(8)
		if slices.Contains(pending, id) {
			continue
		}
		if !slices.ContainsFunc(c.lbs, func(lb *loadBalancer) bool {
			return slices.ContainsFunc(lb.Listeners, func(l *listener) bool { return l.ID == id })
		}) {
			return id
		}
	}
}
