package dns01

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// maxCNAMEHops bounds a CNAME chain; resolvers give up around the same depth.
const maxCNAMEHops = 8

// accountZone returns the account's zone with the longest name that is name
// or a parent of name, or false if none holds it.
func (p *Provider) accountZone(ctx context.Context, name string) (zone, bool, error) {
	if p.zoneList == nil {
		zones, err := p.api.zones(ctx)
		if err != nil {
			return zone{}, false, fmt.Errorf("list the account's DNSPod zones: %w", err)
		}
		p.zoneList = zones
	}
	var best zone
	for _, z := range p.zoneList {
		for _, n := range []string{z.Name, z.Punycode} {
			if n != "" && (name == n || strings.HasSuffix(name, "."+n)) && len(n) > len(best.Name) {
				best = zone{Name: n, Punycode: z.Punycode, Status: z.Status}
			}
		}
	}
	return best, best.Name != "", nil
}

// locate follows fqdn's CNAME chain through authoritative nameservers and
// returns the name that must hold the TXT record and its DNSPod zone.
//
// The CNAME is looked up at the nameservers of the zone that holds the name:
// the account's zone if it has one, otherwise the zone found by asking a
// resolver for the SOA of the name's parent — which exists before the
// challenge does, so no resolver caches a negative answer for the challenge.
func (p *Provider) locate(ctx context.Context, fqdn string) (string, zone, error) {
	name := fqdn
	seen := map[string]bool{}
	for hop := 0; hop <= maxCNAMEHops; hop++ {
		if seen[name] {
			return "", zone{}, fmt.Errorf("CNAME loop at %s (starting from %s): fix the _acme-challenge CNAME", name, fqdn)
		}
		seen[name] = true
		z, held, err := p.accountZone(ctx, name)
		if err != nil {
			return "", zone{}, err
		}
		zoneName := z.Name
		if !held {
			parent := name
			if i := strings.IndexByte(name, '.'); i >= 0 {
				parent = name[i+1:]
			}
			if zoneName, err = p.dns.zoneOf(ctx, parent); err != nil {
				return "", zone{}, p.notHeld(fqdn, name, err)
			}
		}
		servers, err := p.dns.zoneServers(ctx, zoneName)
		if err != nil {
			return "", zone{}, err
		}
		target, err := p.dns.cname(ctx, servers, name)
		if err != nil {
			return "", zone{}, err
		}
		if target == "" {
			if !held {
				return "", zone{}, p.notHeld(fqdn, name, nil)
			}
			if z.Status != "" && z.Status != "ENABLE" {
				return "", zone{}, fmt.Errorf("DNSPod zone %s is %s, so its records are not served: enable it in the DNSPod console", z.Name, z.Status)
			}
			return name, z, nil
		}
		p.log.Info("following CNAME", "from", name, "to", target)
		name = target
	}
	return "", zone{}, fmt.Errorf("CNAME chain from %s is longer than %d hops: point _acme-challenge straight at a name in a DNSPod zone", fqdn, maxCNAMEHops)
}

func (p *Provider) notHeld(fqdn, name string, cause error) error {
	names := make([]string, 0, len(p.zoneList))
	for _, z := range p.zoneList {
		names = append(names, z.Name)
	}
	sort.Strings(names)
	list := strings.Join(names, ", ")
	if len(names) == 0 {
		list = "none"
	}
	msg := fmt.Sprintf("%s is in no DNSPod zone of this account (zones: %s): add its zone to DNSPod, or CNAME %s to a name in one of these zones", name, list, fqdn)
	if cause != nil {
		msg += fmt.Sprintf(" (%v)", cause)
	}
	return fmt.Errorf("%s", msg)
}
