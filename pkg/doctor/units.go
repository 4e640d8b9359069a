package doctor

import (
	"github.com/clbcert/clbcert/pkg/clb"
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

func (u unit) health() *inventory.HealthCheck { return u.l.BalancingAt(u.rule).HealthCheck }

func (u unit) where() Where {
	w := Where{Address: u.address(), Protocol: u.l.Protocol, Port: u.l.Port}
	if u.rule != nil {
		w.URL = u.rule.URL
	}
	return w
}

// address is the rule, or the layer-4 listener; as text it is the unit as
// clbcert tune selects it, and its Key finds its backends in facts.targets.
func (u unit) address() clb.Address { return u.lb.At(u.l, u.rule) }

func listenerWhere(lb inventory.LoadBalancer, l inventory.Listener) Where {
	return Where{Address: lb.At(l, nil), Protocol: l.Protocol, Port: l.Port}
}
