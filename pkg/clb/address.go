package clb

import (
	"fmt"
	"strings"
)

// Address names one place on a load balancer: a listener, one SNI domain of
// it, or a forwarding rule. It is the one spelling of a target that deploy,
// tune, status, doctor, listeners, rollback, the state files and --json use.
// As text it is "lb-id/lbl-id[/domain]"; the region travels beside it.
type Address struct {
	Region         string `json:"region,omitempty"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerID     string `json:"listenerId,omitempty"`
	// Domain is the SNI domain (or a rule's domain); "" for the listener's
	// own certificate.
	Domain string `json:"domain,omitempty"`
	// LocationID names a forwarding rule.
	LocationID string `json:"locationId,omitempty"`
}

// String is "lb-id[/lbl-id[/domain[/location-id]]]", the form ParseAddress reads.
func (a Address) String() string {
	s := a.LoadBalancerID
	for _, part := range []string{a.ListenerID, a.Domain, a.LocationID} {
		if part == "" {
			break
		}
		s += "/" + part
	}
	return s
}

// ParseAddress reads "lb-id", "lb-id/lbl-id" or "lb-id/lbl-id/domain" in
// region. The domain is lowercased, as CLB compares it.
func ParseAddress(region, s string) (Address, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) > 3 || !strings.HasPrefix(parts[0], "lb-") || (len(parts) > 1 && !strings.HasPrefix(parts[1], "lbl-")) || (len(parts) > 2 && parts[2] == "") {
		return Address{}, fmt.Errorf("target %q: give it as lb-ID, lb-ID/lbl-ID or lb-ID/lbl-ID/DOMAIN", s)
	}
	a := Address{Region: region, LoadBalancerID: parts[0]}
	if len(parts) > 1 {
		a.ListenerID = parts[1]
	}
	if len(parts) > 2 {
		a.Domain = strings.ToLower(parts[2])
	}
	return a, nil
}
