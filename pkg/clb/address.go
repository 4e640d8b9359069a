package clb

import (
	"cmp"
	"fmt"
	"strings"
)

// Address names one place on a load balancer: the load balancer itself, a
// listener, one SNI domain of it, or a forwarding rule. It is the one
// spelling of a target that deploy, tune, status, doctor, listeners,
// rollback, the state files and --json use; types that carry more embed it,
// so that its fields are theirs in JSON too. As text it is
// "lb-id[/lbl-id[/domain|/loc-id]]"; the region travels beside it.
//
// Every field is omitempty: a place a field does not apply to (a finding
// about a whole load balancer, a change to its TLS configuration) leaves it
// out, as the reports did before this type; where a field always applies
// (deploy's targets, bindings) it is never empty.
type Address struct {
	Region         string `json:"region,omitempty"`
	LoadBalancerID string `json:"loadBalancerId,omitempty"`
	ListenerID     string `json:"listenerId,omitempty"`
	// Domain is the SNI domain (or a rule's domain); "" for the listener's
	// own certificate.
	Domain string `json:"domain,omitempty"`
	// LocationID names a forwarding rule.
	LocationID string `json:"locationId,omitempty"`
}

// String is the form ParseAddress reads: "lb-id", "lb-id/lbl-id",
// "lb-id/lbl-id/domain", or "lb-id/lbl-id/loc-id" for a rule (whose domain
// the location id implies).
func (a Address) String() string {
	s := a.LoadBalancerID
	if a.ListenerID == "" {
		return s
	}
	s += "/" + a.ListenerID
	switch {
	case a.LocationID != "":
		s += "/" + a.LocationID
	case a.Domain != "":
		s += "/" + a.Domain
	}
	return s
}

// Key is String with the region in front, "region/lb-id/...": it tells
// apart the places of every region, as state files and lookups key them.
func (a Address) Key() string { return a.Region + "/" + a.String() }

// Listener is the address of a's listener (its load balancer's, if a has
// no listener).
func (a Address) Listener() Address {
	return Address{Region: a.Region, LoadBalancerID: a.LoadBalancerID, ListenerID: a.ListenerID}
}

// LoadBalancer is the address of a's load balancer.
func (a Address) LoadBalancer() Address {
	return Address{Region: a.Region, LoadBalancerID: a.LoadBalancerID}
}

// Compare orders addresses by region, load balancer, listener, domain and
// location: the order reports list places in.
func (a Address) Compare(b Address) int {
	return cmp.Or(
		cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.LoadBalancerID, b.LoadBalancerID),
		cmp.Compare(a.ListenerID, b.ListenerID),
		cmp.Compare(a.Domain, b.Domain),
		cmp.Compare(a.LocationID, b.LocationID),
	)
}

// ParseAddress reads an address in region: "lb-id", "lb-id/lbl-id",
// "lb-id/lbl-id/domain" or "lb-id/lbl-id/loc-id". A third part that starts
// with "loc-" and has no dot is a rule's location id; any other is a
// domain, lowercased, as CLB compares it.
func ParseAddress(region, s string) (Address, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("target %q %s: write lb-id, lb-id/lbl-id, lb-id/lbl-id/domain or lb-id/lbl-id/loc-id", s, why)
	}
	if len(parts) > 3 {
		return bad("has too many parts")
	}
	for _, p := range parts {
		if p == "" {
			return bad("has an empty part")
		}
	}
	a := Address{Region: region, LoadBalancerID: parts[0]}
	if !strings.HasPrefix(a.LoadBalancerID, "lb-") {
		return bad("does not start with a load balancer id (lb-…)")
	}
	if len(parts) > 1 {
		a.ListenerID = parts[1]
		if !strings.HasPrefix(a.ListenerID, "lbl-") {
			return bad("has no listener id (lbl-…) after the load balancer")
		}
	}
	if len(parts) > 2 {
		if strings.HasPrefix(parts[2], "loc-") && !strings.Contains(parts[2], ".") {
			a.LocationID = parts[2]
		} else {
			a.Domain = strings.ToLower(parts[2])
		}
	}
	return a, nil
}

// Address is the load balancer's address.
func (lb LoadBalancer) Address() Address { return Address{Region: lb.Region, LoadBalancerID: lb.ID} }

// At is the address of listener l of lb, or of its rule r when r is not
// nil (with the rule's domain).
func (lb LoadBalancer) At(l Listener, r *Rule) Address {
	a := Address{Region: lb.Region, LoadBalancerID: lb.ID, ListenerID: l.ID}
	if r != nil {
		a.Domain, a.LocationID = r.Domain, r.LocationID
	}
	return a
}
