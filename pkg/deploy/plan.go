package deploy

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// ErrRefused marks a deployment refused before any change: the lineage,
// the regions, the pinned targets or the state dir do not allow it.
var ErrRefused = errors.New("refused")

// ErrNoTarget marks a deployment refused because no target serves a
// certificate the new one covers; Options.UploadAnyway lets it upload.
var ErrNoTarget = fmt.Errorf("%w: no target", ErrRefused)

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
	// Kept says why the target keeps its current certificate: it expires
	// later than the new one, with the same key algorithm. "" if it is to
	// be bound.
	Kept string `json:"kept,omitempty"`

	prev inventory.CertRef
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
	// Resources are the resources of the chosen products other than CLB
	// that hold an older certificate of the lineage's names, or its upload
	// already (StatusUnchanged).
	Resources []ResourceResult `json:"resources,omitempty"`
	// ProductsError is why the products other than CLB were left alone.
	ProductsError string `json:"productsError,omitempty"`

	// certs are the certificates discovery found bound in the regions, as
	// the SSL service described them.
	certs map[string]inventory.Certificate
}

// Failure is a load balancer or region discovery could not read.
type Failure = inventory.Failure

// candidates lists every certificate binding of TLS listeners in the
// regions, the certificates they serve, and the load balancers or regions
// that could not be read.
func (d *Deployer) candidates(ctx context.Context, regions []string) ([]Planned, map[string]inventory.Certificate, []Failure, error) {
	inv, err := d.inv.Collect(ctx, regions)
	if err != nil {
		return nil, nil, nil, err
	}
	var out []Planned
	for _, b := range inv.Bindings() {
		out = append(out, planned(b))
	}
	return out, inv.Certificates, inv.Failures, nil
}

func planned(b inventory.Binding) Planned {
	p := Planned{
		Target:           Target{Region: b.Region, LoadBalancerID: b.LoadBalancerID, ListenerID: b.ListenerID, Domain: b.Domain},
		LoadBalancerName: b.LoadBalancerName, Protocol: b.Protocol, Addr: b.Addr, ServerName: b.ServerName,
	}
	if b.Certificate != nil {
		p.Current, p.prev = b.Certificate.ID, *b.Certificate
	}
	return p
}

// Plan finds the targets of lin and what each serves now. Without pinned
// targets it takes every binding whose current certificate's names are all
// covered by lin; pinned targets must exist and be covered, or the whole
// deployment is refused.
func (d *Deployer) Plan(ctx context.Context, lin *lineage.Lineage) (*Plan, error) {
	var cands []Planned
	var certs map[string]inventory.Certificate
	var failures []Failure
	if d.clbChosen() {
		var err error
		if cands, certs, failures, err = d.candidates(ctx, d.opts.Regions); err != nil {
			return nil, err
		}
	}
	plan := &Plan{Lineage: lin, Fingerprint: lin.Fingerprint, Names: lin.Names(), Failures: failures, certs: certs}
	if len(d.opts.Targets) > 0 {
		if err := d.pinned(plan, cands, certs); err != nil {
			return plan, err
		}
	} else {
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
	}
	if !d.opts.Force {
		plan.keepNewer()
	}
	d.planProducts(ctx, plan)
	return plan, nil
}

// keepNewer marks the targets whose certificate expires later than the
// lineage's leaf and has the same key algorithm: replacing it would shorten
// what clients are served. A certificate of another algorithm is replaced
// whatever its dates, since the operator chose the lineage's key type.
// Tested by TestDeployKeepsANewerCertificate.
func (p *Plan) keepNewer() {
	leaf := p.Lineage.Leaf
	algo := keyAlgorithm(leaf.PublicKey)
	for i := range p.Targets {
		t := &p.Targets[i]
		sc, ok := p.certs[t.Current]
		if !ok || !sc.NotAfter.After(leaf.NotAfter) || (sc.Algorithm != "" && !strings.EqualFold(sc.Algorithm, algo)) {
			continue
		}
		t.Kept = fmt.Sprintf("its certificate %s expires %s, later than this one (%s), with the same key algorithm %s: deploy with force to replace it",
			sc.ID, sc.NotAfter.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly), algo)
	}
}

// keyAlgorithm names a public key's algorithm as the SSL service does.
func keyAlgorithm(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECC"
	}
	return fmt.Sprintf("%T", pub)
}

// toBind counts the targets and resources that are to serve the new
// certificate.
func (p *Plan) toBind() int {
	n := len(p.Resources)
	for _, t := range p.Targets {
		if t.Kept == "" {
			n++
		}
	}
	return n
}

// refuse checks, before any change, what would make the deployment
// pointless or harmful: a region CLB does not have (its targets would be
// silently missing), or no target at all.
func (d *Deployer) refuse(plan *Plan) error {
	var unknown []string
	for _, f := range plan.Failures {
		if f.LoadBalancerID != "" || f.CertificateID != "" || f.Region == "" {
			continue
		}
		// CLB's answer decides; a region not on the list that CLB could not
		// be asked about is taken for a typo rather than a new region.
		if f.Code == tencent.CodeRegionNotFound || !tencent.KnownRegion(f.Region) {
			unknown = append(unknown, f.Region)
		}
	}
	if len(unknown) > 0 {
		// Tested by TestDeployUnknownRegion.
		return fmt.Errorf("%w: unknown CLB region %s: use one of %s",
			ErrRefused, strings.Join(unknown, ", "), strings.Join(tencent.KnownRegions(), " "))
	}
	if len(plan.Targets) > 0 || len(plan.Failures) > 0 || len(plan.Resources) > 0 || plan.ProductsError != "" || d.opts.UploadAnyway {
		return nil
	}
	// Tested by TestDeployWithoutTargetUploadsNothing.
	return fmt.Errorf("%w: nothing matched: no HTTPS, TCP_SSL or QUIC listener and no SNI domain in %s serves a certificate whose names %s (%s) all cover, so nothing was uploaded; pin the targets in the config file ([[deploy]] lineage = %q, targets = [\"lb-ID/lbl-ID\"]), or upload it anyway to bind it yourself",
		ErrNoTarget, strings.Join(d.opts.Regions, ", "), plan.Lineage.Name, strings.Join(plan.Names, ", "), plan.Lineage.Name)
}

// unreadable reports whether discovery failed for lb (or for its region).
func (p *Plan) unreadable(lb string) bool {
	return unreadable(p.Failures, lb)
}

func unreadable(failures []Failure, lb string) bool {
	for _, f := range failures {
		if f.LoadBalancerID == lb || (f.LoadBalancerID == "" && f.CertificateID == "") {
			return true
		}
	}
	return false
}

func (d *Deployer) pinned(plan *Plan, cands []Planned, certs map[string]inventory.Certificate) error {
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
