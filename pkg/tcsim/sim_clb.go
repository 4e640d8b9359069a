package tcsim

import "slices"

// TargetHealth is the health of the targets of a layer-4 listener (locationID "") or of a
// layer-7 rule, by "IP:PORT": Alive, Dead, Unknown (not checked enough yet) or Close (health
// check off), as DescribeTargetHealth reports it now. It is nil for an unknown listener or
// rule.
func (s *Sim) TargetHealth(lbID, listenerID, locationID string) map[string]string {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	b := c.balancingLocked(lbID, listenerID, locationID)
	if b == nil {
		return nil
	}
	out := map[string]string{}
	for _, t := range b.Targets {
		out[targetAddr(t)] = t.Health
	}
	return out
}

// SSLProtocols are the TLS versions ("TLSv1.2", ...) a load balancer's HTTPS listeners allow
// now: the ssl_protocols of its customized configuration, else CLB's default. It is nil for
// an unknown load balancer.
func (s *Sim) SSLProtocols(lbID string) []string {
	c := s.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	lb := c.lbByID[lbID]
	if lb == nil {
		return nil
	}
	return slices.Clone(c.sslProtocolsLocked(lb))
}
