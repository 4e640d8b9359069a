package doctor

import (
	"github.com/clbcert/clbcert/pkg/inventory"
)

// unit is where CLB keeps a scheduler, a health check and targets: a
// forwarding rule of an HTTP or HTTPS listener, or a layer-4 listener
// (TCP_SSL, QUIC, TCP, UDP).
type unit struct {
	lb   inventory.LoadBalancer
	l    inventory.Listener
	rule *inventory.Rule // nil for a layer-4 listener
}

// units lists every rule and layer-4 listener of the inventory, in its
// order.
func (f *facts) units() []unit {
	var out []unit
	for _, lb := range f.inv.LoadBalancers {
		for _, l := range lb.Listeners {
			if !inventory.IsLayer7(l.Protocol) {
				out = append(out, unit{lb: lb, l: l})
				continue
			}
			for i := range l.Rules {
				out = append(out, unit{lb: lb, l: l, rule: &l.Rules[i]})
			}
		}
	}
	return out
}

func (u unit) health() *inventory.HealthCheck {
	if u.rule != nil {
		return u.rule.HealthCheck
	}
	return u.l.HealthCheck
}

func (u unit) where() Where {
	w := listenerWhere(u.lb, u.l)
	if u.rule != nil {
		w.LocationID, w.Domain, w.URL = u.rule.LocationID, u.rule.Domain, u.rule.URL
	}
	return w
}

// target is the unit as clbcert tune selects it: "lb-id/lbl-id" for a
// listener, "lb-id/lbl-id/loc-id" for a rule.
func (u unit) target() string {
	t := u.lb.ID + "/" + u.l.ID
	if u.rule != nil {
		t += "/" + u.rule.LocationID
	}
	return t
}

// key identifies the unit among DescribeTargetHealth's answers.
func (u unit) key() string {
	loc := ""
	if u.rule != nil {
		loc = u.rule.LocationID
	}
	return u.lb.ID + "/" + u.l.ID + "/" + loc
}

func listenerWhere(lb inventory.LoadBalancer, l inventory.Listener) Where {
	return Where{Region: lb.Region, LoadBalancerID: lb.ID, ListenerID: l.ID, Protocol: l.Protocol, Port: l.Port}
}
