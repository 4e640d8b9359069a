package deploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/ssl"
)

// productCLB is CLB as Options.Products names it: it keeps its own path
// (listeners, SNI domains, dual certificates, mutual TLS). Every other
// product's resources move through the SSL service.
const productCLB = "clb"

// Resource is a resource of a product other than CLB that serves a
// certificate of the SSL service: a CDN domain, an EdgeOne host, a WAF
// domain, a COS custom domain, ...
type Resource struct {
	// Type is the SSL service's name of the product: cdn, teo, waf, cos, ...
	Type string `json:"type"`
	// Region is "" for the products without regions.
	Region string `json:"region,omitempty"`
	// Instance is the EdgeOne zone, bucket, API gateway service, ...; ""
	// where the service names none.
	Instance string `json:"instance,omitempty"`
	Domain   string `json:"domain,omitempty"`
}

func (r Resource) String() string { return r.ssl("").String() }

// Where is the instance and domain, as the report's RESOURCE column shows it.
func (r Resource) Where() string {
	var parts []string
	for _, s := range []string{r.Instance, r.Domain} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

func (r Resource) ssl(certID string) ssl.Resource {
	return ssl.Resource{Type: r.Type, Region: r.Region, Instance: r.Instance, Domain: r.Domain, CertID: certID}
}

func resourceOf(r ssl.Resource) Resource {
	return Resource{Type: r.Type, Region: r.Region, Instance: r.Instance, Domain: r.Domain}
}

// ResourceResult is one resource's outcome: Status is StatusPlanned,
// StatusUpdated (moved to the new certificate), StatusUnchanged (it held it
// already: done), StatusFailed or StatusInterrupted.
type ResourceResult struct {
	Resource
	// Before is the certificate the resource held when the run found it.
	Before string `json:"before"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// otherProducts are the chosen products other than CLB.
func (d *Deployer) otherProducts() []string {
	return slices.DeleteFunc(slices.Clone(d.opts.Products), func(p string) bool { return p == productCLB })
}

func (d *Deployer) clbChosen() bool { return slices.Contains(d.opts.Products, productCLB) }

// planProducts finds the resources of the chosen products other than CLB
// that hold an older certificate of the lineage's names (or its upload
// already). What stops it is the plan's ProductsError: CLB is deployed
// all the same. Lists of the chosen products the SSL service could not
// read are the ProductsError too, while what it did read moves.
func (d *Deployer) planProducts(ctx context.Context, plan *Plan) {
	types := d.otherProducts()
	if len(types) == 0 {
		return
	}
	err := d.findResources(ctx, plan, types)
	var unread *ssl.UnreadError
	switch {
	case errors.As(err, &unread):
		// The resources found elsewhere move; these were not looked at.
		plan.ProductsError = err.Error()
	case err != nil:
		plan.ProductsError = fmt.Sprintf("the resources of %s were left alone: %v", strings.Join(types, ", "), err)
	}
}

func (d *Deployer) findResources(ctx context.Context, plan *Plan, types []string) error {
	newID, _, err := d.uploaded(ctx, plan)
	if err != nil {
		return err
	}
	ids, err := d.olderCertificates(ctx, plan, newID)
	if err != nil {
		return err
	}
	if newID != "" {
		ids = append(ids, newID)
	}
	// Lists of other types that could not be read are none of this deploy's business.
	found, err := d.ssl.Bindings(ctx, ids)
	err = ssl.UnreadOf(err, types)
	var unread *ssl.UnreadError
	if err != nil && !errors.As(err, &unread) {
		return err
	}
	for _, r := range found {
		if !slices.Contains(types, r.Type) {
			continue
		}
		rr := ResourceResult{Resource: resourceOf(r), Before: r.CertID}
		if r.CertID == newID {
			rr.Status = StatusUnchanged
		}
		plan.Resources = append(plan.Resources, rr)
	}
	sortResources(plan.Resources)
	return err
}

func sortResources(rs []ResourceResult) {
	slices.SortFunc(rs, func(a, b ResourceResult) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Instance, b.Instance), cmp.Compare(a.Domain, b.Domain))
	})
}

// olderCertificates are the certificates whose resources the lineage's new
// one replaces: its earlier uploads recorded in the state dir, and every
// certificate of the SSL service whose names it covers (one uploaded by
// hand included), as long as it ends before the new one. A certificate
// that ends later stays where it is, as on CLB (Plan.keepNewer). So do an
// SM2 certificate and one of the other key algorithm (RSA for an ECDSA
// lineage, say) that another lineage of that algorithm renews for its
// names: a resource holds one certificate, so rule 2b's pair cannot be made
// there, and moving it would take its clients' key algorithm away at every
// renewal of either lineage (TestDeployLeavesTheOtherAlgorithmToItsLineage).
func (d *Deployer) olderCertificates(ctx context.Context, plan *Plan, newID string) ([]string, error) {
	lin := plan.Lineage
	st, err := readState(d.store, lin.Name)
	if err != nil {
		return nil, err
	}
	// An empty prefix matches every alias: the whole store.
	all, err := d.inv.CertificatesByAlias(ctx, "")
	if err != nil {
		return nil, err
	}
	var ids []string
	add := func(id string) {
		if id != "" && id != newID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, u := range st.Uploads {
		if u.Fingerprint != lin.Fingerprint && u.NotAfter.Before(lin.Leaf.NotAfter) {
			add(u.CertID)
		}
	}
	slices.SortFunc(all, func(a, b inventory.Certificate) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range all {
		if plan.replacesOnProducts(c) {
			add(c.ID)
		}
	}
	d.warnPartners(plan)
	return ids, nil
}

// replacesOnProducts reports whether the lineage's certificate takes the place of c, a
// certificate of the SSL service, on other products' resources: the lineage covers c's names,
// c ends sooner, and it is not one the lineage leaves alone. Those are an SM2 certificate, as
// on CLB, where a deploy never replaces an SM2 member (its clients speak SM2 alone:
// TestReplacesOnProducts), and one of the other key algorithm that a partner lineage renews.
func (p *Plan) replacesOnProducts(c inventory.Certificate) bool {
	lin := p.Lineage
	if len(c.Names) == 0 || len(lineage.Uncovered(lin.Names(), c.Names)) > 0 || !c.NotAfter.Before(lin.Leaf.NotAfter) {
		return false
	}
	alg := certbinding.Algorithm(strings.ToUpper(c.Algorithm))
	if alg == certbinding.SM2 {
		return false
	}
	own := strings.HasPrefix(c.Alias, aliasPrefix(lin.Name))
	return own || alg == lin.Algorithm() || !p.partnerCovers(alg, c.Names)
}

// moveResources moves every planned resource to newID, one SSL update per
// old certificate, after recording what each held for rollback. It fails
// only if that record cannot be written; each resource's outcome is in the
// report.
func (d *Deployer) moveResources(ctx context.Context, lineageName string, rep *Report, newID string) error {
	var moves []resourceMove
	for i := range rep.Resources {
		r := &rep.Resources[i]
		if r.Status == "" || r.Status == StatusPlanned {
			moves = append(moves, resourceMove{r.Before, newID, r})
		}
	}
	if len(moves) == 0 {
		return nil
	}
	if err := d.recordResources(ctx, lineageName, rep.Resources, newID); err != nil {
		return fmt.Errorf("record the resources' current certificates for rollback (nothing was moved): %w", err)
	}
	extra := d.moveAll(ctx, moves)
	if len(extra) == 0 {
		return nil
	}
	rep.Resources = append(rep.Resources, extra...)
	sortResources(rep.Resources)
	return d.recordResources(ctx, lineageName, extra, newID)
}

// resourceMove is a resource to move from one certificate to another.
type resourceMove struct {
	from, to string
	r        *ResourceResult
}

// moveAll makes the moves, one SSL update per pair of certificates, the
// pairs in order; once ctx is done, the resources of the pairs not moved yet
// are interrupted. It returns the resources the SSL service moved besides
// them.
func (d *Deployer) moveAll(ctx context.Context, moves []resourceMove) []ResourceResult {
	type pair struct{ from, to string }
	groups := map[pair][]*ResourceResult{}
	for _, m := range moves {
		p := pair{m.from, m.to}
		groups[p] = append(groups[p], m.r)
	}
	pairs := slices.SortedFunc(maps.Keys(groups), func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
	})
	var extra []ResourceResult
	for _, p := range pairs {
		group := groups[p]
		if ctx.Err() != nil {
			for _, r := range group {
				r.Status = StatusInterrupted
			}
			continue
		}
		d.log.Info("moving resources", "from", p.from, "to", p.to, "resources", len(group))
		extra = append(extra, d.move(ctx, p.from, p.to, group)...)
	}
	return extra
}

// move moves the resources rs from oldID to newID and sets their outcomes.
// It returns the resources the SSL service moved besides them.
func (d *Deployer) move(ctx context.Context, oldID, newID string, rs []*ResourceResult) []ResourceResult {
	asked := make([]ssl.Resource, len(rs))
	for k, r := range rs {
		asked[k] = r.ssl(oldID)
	}
	outcomes, err := d.ssl.Move(ctx, oldID, newID, asked)
	var moveErr *ssl.MoveError
	if err != nil && !errors.As(err, &moveErr) {
		status := StatusFailed
		if ctx.Err() != nil {
			status = StatusInterrupted
		}
		for _, r := range rs {
			r.Status, r.Error = status, err.Error()
		}
		return nil
	}
	var extra []ResourceResult
	// Move lists the resources asked about first, in order.
	for k, o := range outcomes {
		if k < len(rs) {
			rs[k].Status, rs[k].Error = outcomeStatus(o.Status), o.Error
			continue
		}
		extra = append(extra, ResourceResult{Resource: resourceOf(o.Resource), Before: o.Before, Status: outcomeStatus(o.Status), Error: o.Error})
	}
	return extra
}

func outcomeStatus(s ssl.Status) string {
	switch s {
	case ssl.StatusMoved:
		return StatusUpdated
	case ssl.StatusAlready:
		return StatusUnchanged
	}
	return StatusFailed
}

// recordResources notes, for rollback, the certificate each resource to
// move holds now (see recordBinding).
func (d *Deployer) recordResources(ctx context.Context, lineageName string, rs []ResourceResult, current string) error {
	return d.updateState(ctx, lineageName, func(s *lineageState) {
		now := d.opts.Now()
		for _, r := range rs {
			if r.Before != current {
				s.recordResource(r.Resource, r.Before, current, now)
			}
		}
	})
}
