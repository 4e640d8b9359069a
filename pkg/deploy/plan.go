package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
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

// ParseTarget reads a pinned target of the config file: a listener or one
// SNI domain of it, "lb-id/lbl-id" or "lb-id/lbl-id/domain", as
// clb.ParseAddress reads addresses. Its region is found in the inventory.
func ParseTarget(s string) (clb.Address, error) {
	a, err := clb.ParseAddress("", s)
	if err != nil || a.ListenerID == "" || a.LocationID != "" {
		return clb.Address{}, fmt.Errorf("target %q: write it as lb-ID/lbl-ID, or lb-ID/lbl-ID/DOMAIN for an SNI domain", s)
	}
	return a, nil
}

// Planned is a target with what it serves now and what deploy will do.
type Planned struct {
	// Address is the target: a listener, or one SNI domain of it.
	clb.Address
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	Protocol         string `json:"protocol"`
	Addr             string `json:"addr,omitempty"` // VIP:port, for the TLS check
	ServerName       string `json:"serverName,omitempty"`
	// Current is the certificate CLB reports as the binding's CertId; of a
	// binding with several members Before has them all.
	Current string `json:"currentCertId,omitempty"`
	// CurrentNames are the names of the certificates the new one replaces
	// or joins.
	CurrentNames []string `json:"currentNames,omitempty"`
	UpToDate     bool     `json:"upToDate"`
	// Before is the binding now: every member with its key algorithm, the
	// SSL mode, client CA and client verification.
	Before certbinding.Binding `json:"before"`
	// After is what the binding becomes, and Outcome how (issue 12 rule 2):
	// the member of the lineage's key algorithm replaced, the new
	// certificate added beside a member another lineage renews, or the
	// binding migrated to the new certificate. Mode, CA and verification
	// are Before's.
	After   certbinding.Binding `json:"after"`
	Outcome certbinding.Outcome `json:"outcome,omitempty"`
	// Kept says why the target keeps its current certificate: it expires
	// later than the new one, with the same key algorithm. "" if it is to
	// be bound.
	Kept string `json:"kept,omitempty"`
	// refused says why the binding cannot be worked out (a member the SSL
	// service does not describe, say): the target fails without a change.
	refused string
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
	// partners caches, per key algorithm and names, whether another
	// lineage of the certbot config dir renews a certificate of that
	// algorithm for those names.
	partners map[string]bool
	warnings []error
	force    bool
	// upload is the lineage's leaf in the SSL service, once uploaded has
	// looked.
	upload *foundUpload
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
		out = append(out, planned(b, inv.Certificates))
	}
	return out, inv.Certificates, inv.Failures, nil
}

func planned(b inventory.Binding, certs map[string]inventory.Certificate) Planned {
	p := Planned{
		Address:          b.Address,
		LoadBalancerName: b.LoadBalancerName, Protocol: b.Protocol, Addr: b.Addr, ServerName: b.ServerName,
		Before: b.Certificate.Binding(algorithmIn(certs)),
	}
	if b.Certificate != nil {
		p.Current = b.Certificate.ID
	}
	return p
}

// algorithmIn reads a certificate's key algorithm from the SSL service's
// description (EncryptAlgorithm); "" for one it did not describe.
func algorithmIn(certs map[string]inventory.Certificate) func(string) certbinding.Algorithm {
	return func(id string) certbinding.Algorithm {
		return certbinding.Algorithm(strings.ToUpper(certs[id].Algorithm))
	}
}

// pendingID stands for the lineage's certificate until it has an id.
const pendingID = "(new)"

// Plan finds the targets of lin and what each serves now. Without pinned
// targets it takes every binding where lin's certificate would replace or
// join certificates whose names it all covers; pinned targets must exist
// and be covered, or the whole deployment is refused.
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
	plan := &Plan{Lineage: lin, Fingerprint: lin.Fingerprint, Names: lin.Names(), Failures: failures, certs: certs, partners: map[string]bool{}, force: d.opts.Force}
	if len(d.opts.Targets) > 0 {
		if err := d.pinned(plan, cands); err != nil {
			return plan, err
		}
	} else {
		for _, c := range cands {
			if plan.decide(&c, pendingID) {
				plan.Targets = append(plan.Targets, c)
			}
		}
	}
	d.warnPartners(plan)
	d.planProducts(ctx, plan)
	return plan, nil
}

// settle works out every target's binding with the lineage's certificate
// as certID, once it is known.
func (d *Deployer) settle(plan *Plan, certID string) {
	for i := range plan.Targets {
		plan.decide(&plan.Targets[i], certID)
	}
	d.warnPartners(plan)
}

// warnPartners logs, once, the lineages that could not be read while
// deciding the targets.
func (d *Deployer) warnPartners(plan *Plan) {
	for _, w := range plan.warnings {
		d.log.Warn("a lineage of the certbot config dir could not be read to tell whether it renews the other certificate of a pair", "error", w)
	}
	plan.warnings = nil
}

// decide sets t's After, Outcome, CurrentNames and Kept for the lineage's
// certificate certID, and reports whether the lineage covers what it
// would replace or join: the names of the member of its key algorithm
// (rule 2a), of the members it would take the place of (2b, migration), or
// of the member it would pair with (2b, added). A binding a deploy cannot
// reason about (a member the SSL service does not describe) is refused
// rather than guessed at; it counts as covered when one of its members is.
func (p *Plan) decide(t *Planned, certID string) bool {
	alg := p.Lineage.Algorithm()
	dep := certbinding.Deploy{CertID: certID, Algorithm: alg}
	var others []string
	var otherAlg certbinding.Algorithm
	if _, ok := t.Before.Member(alg); !ok {
		for _, m := range t.Before.Members {
			if m.Algorithm != certbinding.SM2 {
				others, otherAlg = append(others, p.certs[m.CertID].Names...), m.Algorithm
			}
		}
		if len(others) > 0 {
			dep.PartnerCovers = p.partnerCovers(otherAlg, others)
		}
	}
	next, outcome, err := certbinding.Next(t.Before, dep)
	t.Kept, t.refused = "", ""
	if err != nil {
		t.After, t.Outcome, t.refused = t.Before, "", fmt.Sprintf("%v: nothing was changed", err)
		return slices.ContainsFunc(t.Before.Members, func(m certbinding.Member) bool { return p.covers(m.CertID) })
	}
	t.After, t.Outcome = next, outcome
	var touched []string // the members the lineage must cover
	switch outcome {
	case certbinding.Replaced:
		m, _ := t.Before.Member(alg)
		touched = []string{m.CertID}
		p.keepNewer(t, m.CertID)
	case certbinding.Added, certbinding.Migrated:
		for _, m := range t.Before.Members {
			if m.Algorithm != certbinding.SM2 {
				touched = append(touched, m.CertID)
			}
		}
	case certbinding.Unchanged:
		touched = []string{certID}
	}
	t.CurrentNames = nil
	covered := true
	for _, id := range touched {
		sc, ok := p.certs[id]
		covered = covered && (ok || id == certID)
		for _, n := range sc.Names {
			if !slices.Contains(t.CurrentNames, n) {
				t.CurrentNames = append(t.CurrentNames, n)
			}
		}
	}
	return covered && len(t.CurrentNames) > 0 && len(lineage.Uncovered(p.Names, t.CurrentNames)) == 0
}

// covers reports whether the lineage covers every name of certificate id.
func (p *Plan) covers(id string) bool {
	sc, ok := p.certs[id]
	return ok && len(sc.Names) > 0 && len(lineage.Uncovered(p.Names, sc.Names)) == 0
}

// partnerCovers is rule 2b's question: does another lineage of the same
// certbot config dir (the parent of live/) have key algorithm alg and cover
// names? Then the operator keeps a pair, and the new certificate joins the
// binding instead of replacing its member.
func (p *Plan) partnerCovers(alg certbinding.Algorithm, names []string) bool {
	key := string(alg) + " " + strings.Join(slices.Sorted(slices.Values(names)), " ")
	if found, ok := p.partners[key]; ok {
		return found
	}
	found, skipped, err := lineage.Covering(lineage.ConfigDir(p.Lineage.Dir), p.Lineage.Name, alg, names)
	p.warnings = append(p.warnings, skipped...)
	if err != nil {
		p.warnings = append(p.warnings, err)
	}
	p.partners[key] = len(found) > 0
	return len(found) > 0
}

// keepNewer marks t kept when its member replaced expires later than the
// lineage's leaf, with the same key algorithm (that is what rule 2a
// replaces): replacing it would shorten what clients are served. A
// certificate of another algorithm is replaced whatever its dates (a
// migration), since the operator chose the lineage's key type.
// Tested by TestDeployKeepsANewerCertificate.
func (p *Plan) keepNewer(t *Planned, replaced string) {
	leaf := p.Lineage.Leaf
	sc, ok := p.certs[replaced]
	if p.force || !ok || !sc.NotAfter.After(leaf.NotAfter) {
		return
	}
	t.Kept = fmt.Sprintf("its certificate %s expires %s, later than this one (%s), with the same key algorithm %s: deploy with force to replace it",
		sc.ID, sc.NotAfter.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly), p.Lineage.Algorithm())
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

func (d *Deployer) pinned(plan *Plan, cands []Planned) error {
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
		plan.decide(&c, pendingID)
		var need []string
		for _, id := range c.Before.CertIDs() {
			need = append(need, plan.certs[id].Names...)
		}
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
