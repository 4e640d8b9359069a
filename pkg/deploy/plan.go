package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/clbcert/clbcert/pkg/lineage"
)

// ErrRefused marks a deployment refused before any change: the lineage or
// the pinned targets do not allow it.
var ErrRefused = errors.New("refused")

// Target is one place a certificate is served: a listener's certificate,
// or one SNI domain of a listener.
type Target struct {
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerID     string `json:"listenerId"`
	Domain         string `json:"domain,omitempty"`
}

func (t Target) String() string {
	s := t.LoadBalancerID + "/" + t.ListenerID
	if t.Domain != "" {
		s += "/" + t.Domain
	}
	return s
}

// ParseTarget reads "lb-id/listener-id" or "lb-id/listener-id/sni-domain".
func ParseTarget(s string) (Target, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[0], "lb-") || !strings.HasPrefix(parts[1], "lbl-") || (len(parts) == 3 && parts[2] == "") {
		return Target{}, fmt.Errorf("target %q: write it as lb-ID/lbl-ID, or lb-ID/lbl-ID/DOMAIN for an SNI domain", s)
	}
	t := Target{LoadBalancerID: parts[0], ListenerID: parts[1]}
	if len(parts) == 3 {
		t.Domain = strings.ToLower(parts[2])
	}
	return t, nil
}

// Planned is a target with what it serves now and what deploy will do.
type Planned struct {
	Target
	LoadBalancerName string   `json:"loadBalancerName,omitempty"`
	Protocol         string   `json:"protocol"`
	Addr             string   `json:"addr,omitempty"` // VIP:port, for the TLS check
	ServerName       string   `json:"serverName,omitempty"`
	Current          string   `json:"currentCertId,omitempty"`
	CurrentNames     []string `json:"currentNames,omitempty"`
	UpToDate         bool     `json:"upToDate"`

	prev certRef
}

// Plan is everything a deployment would change, computed with read-only calls.
type Plan struct {
	Lineage     *lineage.Lineage `json:"-"`
	Fingerprint string           `json:"fingerprint"`
	Names       []string         `json:"names"`
	CertID      string           `json:"certId,omitempty"` // "" until uploaded
	Targets     []Planned        `json:"targets"`
	// Failures are load balancers (or whole regions) that could not be
	// looked at: their targets are unknown, so the deployment cannot succeed,
	// but every other target is still deployed.
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is a load balancer or region discovery could not read.
type Failure struct {
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId,omitempty"`
	Error          string `json:"error"`
}

// tlsProtocols are the listener protocols that carry a certificate.
var tlsProtocols = []string{"HTTPS", "TCP_SSL", "QUIC"}

// candidates lists every certificate binding of TLS listeners in the
// regions, and the load balancers or regions it could not read.
func (d *Deployer) candidates(ctx context.Context, regions []string) ([]Planned, []Failure) {
	var (
		mu  sync.Mutex
		out []Planned
	)
	failures := d.forEachLB(ctx, regions, func(ctx context.Context, lb loadBalancer) error {
		ls, err := d.cloud.listeners(ctx, lb.Region, lb.ID)
		if err != nil {
			return err
		}
		var found []Planned
		for _, l := range ls {
			if !slices.Contains(tlsProtocols, l.Protocol) {
				continue
			}
			base := Planned{Target: Target{Region: lb.Region, LoadBalancerID: lb.ID, ListenerID: l.ID}, LoadBalancerName: lb.Name, Protocol: l.Protocol}
			if len(lb.VIPs) > 0 && l.Protocol != "QUIC" {
				base.Addr = net.JoinHostPort(lb.VIPs[0], strconv.FormatInt(l.Port, 10))
			}
			if !l.SNI {
				p := base
				p.Current, p.prev = l.Cert.ID, l.Cert
				if len(l.Domains) > 0 {
					p.ServerName = l.Domains[0].Name
				}
				found = append(found, p)
				continue
			}
			for _, dom := range l.Domains {
				p := base
				p.Domain, p.ServerName, p.Current, p.prev = dom.Name, dom.Name, dom.Cert.ID, dom.Cert
				found = append(found, p)
			}
		}
		mu.Lock()
		out = append(out, found...)
		mu.Unlock()
		return nil
	})
	slices.SortFunc(out, func(a, b Planned) int { return strings.Compare(a.Region+a.Target.String(), b.Region+b.Target.String()) })
	return out, failures
}

// forEachLB runs fn for every load balancer of the regions, several at once,
// and returns what failed: one load balancer that cannot be read must not
// keep the others from their certificate.
func (d *Deployer) forEachLB(ctx context.Context, regions []string, fn func(context.Context, loadBalancer) error) []Failure {
	var lbs []loadBalancer
	var failures []Failure
	for _, r := range regions {
		found, err := d.cloud.loadBalancers(ctx, r)
		if err != nil {
			failures = append(failures, Failure{Region: r, Error: err.Error()})
			continue
		}
		lbs = append(lbs, found...)
	}
	sem := make(chan struct{}, d.opts.Concurrency)
	var wg sync.WaitGroup
	errs := make([]error, len(lbs))
	for i, lb := range lbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(ctx, lb)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			failures = append(failures, Failure{Region: lbs[i].Region, LoadBalancerID: lbs[i].ID, Error: err.Error()})
		}
	}
	return failures
}

// Plan finds the targets of lin and what each serves now. Without pinned
// targets it takes every binding whose current certificate's names are all
// covered by lin; pinned targets must exist and be covered, or the whole
// deployment is refused.
func (d *Deployer) Plan(ctx context.Context, lin *lineage.Lineage) (*Plan, error) {
	cands, failures := d.candidates(ctx, d.opts.Regions)
	ids := map[string]bool{}
	for _, c := range cands {
		if c.Current != "" {
			ids[c.Current] = true
		}
	}
	certs, err := d.cloud.certificates(ctx, slices.Sorted(maps.Keys(ids)))
	if err != nil {
		return nil, err
	}
	plan := &Plan{Lineage: lin, Fingerprint: lin.Fingerprint, Names: lin.Names(), Failures: failures}
	if len(d.opts.Targets) > 0 {
		return plan, d.pinned(plan, cands, certs)
	}
	for _, c := range cands {
		sc, ok := certs[c.Current]
		if !ok {
			continue
		}
		c.CurrentNames = sc.Names
		if len(lineage.Uncovered(plan.Names, sc.Names)) == 0 {
			plan.Targets = append(plan.Targets, c)
		}
	}
	return plan, nil
}

// unreadable reports whether discovery failed for lb (or for every region).
func (p *Plan) unreadable(lb string) bool {
	for _, f := range p.Failures {
		if f.LoadBalancerID == lb || f.LoadBalancerID == "" {
			return true
		}
	}
	return false
}

func (d *Deployer) pinned(plan *Plan, cands []Planned, certs map[string]storedCert) error {
	var problems []string
	for _, want := range d.opts.Targets {
		i := slices.IndexFunc(cands, func(c Planned) bool {
			return c.LoadBalancerID == want.LoadBalancerID && c.ListenerID == want.ListenerID && c.Domain == want.Domain
		})
		if i < 0 && plan.unreadable(want.LoadBalancerID) {
			continue
		}
		if i < 0 {
			problems = append(problems, fmt.Sprintf("%s is not a TLS listener or SNI domain in regions %s", want, strings.Join(d.opts.Regions, ", ")))
			continue
		}
		c := cands[i]
		c.CurrentNames = certs[c.Current].Names
		need := c.CurrentNames
		if c.Domain != "" {
			need = []string{c.Domain}
		}
		if missing := lineage.Uncovered(plan.Names, need); len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s serves %s, which %s does not cover", want, strings.Join(missing, ", "), plan.Lineage.Name))
			continue
		}
		plan.Targets = append(plan.Targets, c)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: pinned targets: %s: fix the [[deploy]] targets or the certificate's names", ErrRefused, strings.Join(problems, "; "))
	}
	return nil
}
