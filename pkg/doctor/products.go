package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/ssl"
)

// CheckProducts: an older certificate of a lineage's names still bound on a
// product clbcert-deploy does not update for it, or the SSL service's role
// that finding (and moving) other products' resources needs is missing.
const CheckProducts = "products"

// stale is a resource that holds an older certificate of a lineage.
type stale struct {
	lineage  *lineage.Lineage
	res      ssl.Resource
	notAfter time.Time
}

// gatherProducts finds, for each valid local lineage, the resources of
// every product that still hold an older certificate of its names: one the
// SSL service holds whose names the lineage covers and that ends sooner.
// A missing role is kept for its finding; other errors are failures, and
// an unread list does not hide what the others hold.
func (d *Doctor) gatherProducts(ctx context.Context, f *facts) []inventory.Failure {
	if d.certs == nil || !slices.ContainsFunc(f.lineages, func(l localLineage) bool { return l.lin != nil }) {
		return nil
	}
	// An empty prefix matches every alias: the whole store.
	all, err := d.inv.CertificatesByAlias(ctx, "")
	if err != nil {
		return []inventory.Failure{{Error: err.Error()}}
	}
	slices.SortFunc(all, func(a, b inventory.Certificate) int { return cmp.Compare(a.ID, b.ID) })
	olderOf := map[string][]*lineage.Lineage{}
	notAfter := map[string]time.Time{}
	var ids []string
	for _, l := range f.lineages {
		if l.lin == nil {
			continue
		}
		for _, c := range all {
			if len(c.Names) == 0 || !c.NotAfter.Before(l.lin.Leaf.NotAfter) || len(lineage.Uncovered(l.lin.Names(), c.Names)) > 0 {
				continue
			}
			if _, ok := olderOf[c.ID]; !ok {
				ids = append(ids, c.ID)
			}
			olderOf[c.ID] = append(olderOf[c.ID], l.lin)
			notAfter[c.ID] = c.NotAfter
		}
	}
	found, err := d.certs.Bindings(ctx, ids)
	if errors.Is(err, ssl.ErrRoleMissing) {
		f.roleMissing = err
		return nil
	}
	var failures []inventory.Failure
	if err != nil {
		// Lists the SSL service could not read come with those it read (nothing else does).
		failures = append(failures, inventory.Failure{Error: err.Error()})
	}
	for _, r := range found {
		for _, lin := range olderOf[r.CertID] {
			f.stale = append(f.stale, stale{lineage: lin, res: r, notAfter: notAfter[r.CertID]})
		}
	}
	return failures
}

// checkProducts reports each resource that still holds an older
// certificate of a lineage on a product the lineage's deployment leaves
// alone, with the config line that takes the product in; and a missing
// SSL service role.
func (d *Doctor) checkProducts(f *facts) []Finding {
	var out []Finding
	if f.roleMissing != nil {
		out = append(out, Finding{Severity: Warning, Check: CheckProducts, Where: Where{Address: clb.Address{Domain: "SSL Certificates service"}},
			Problem: f.roleMissing.Error(),
			Fix:     fmt.Sprintf("authorise the role %s: %s", ssl.RoleName, ssl.GrantRole)})
	}
	missing := map[string][]string{}
	var mine []stale
	for _, s := range f.stale {
		chosen := d.products(s.lineage.Name)
		if slices.Contains(chosen, s.res.Type) {
			continue
		}
		mine = append(mine, s)
		if !slices.Contains(missing[s.lineage.Name], s.res.Type) {
			missing[s.lineage.Name] = append(missing[s.lineage.Name], s.res.Type)
		}
	}
	for _, s := range mine {
		name := s.lineage.Name
		chosen := d.products(name)
		want := slices.Concat(chosen, missing[name])
		slices.Sort(want)
		line := `products = ["` + strings.Join(want, `", "`) + `"]`
		out = append(out, Finding{Severity: Warning, Check: CheckProducts,
			Where: Where{Address: clb.Address{Region: s.res.Region, Domain: s.res.Domain}, CertificateID: s.res.CertID, Targets: []string{s.res.String()}},
			Problem: fmt.Sprintf("%s still serves %s, an older certificate of %s's names (ends %s): clbcert-deploy updates only %s for %s",
				s.res, s.res.CertID, name, s.notAfter.UTC().Format(time.DateOnly), strings.Join(chosen, ", "), name),
			Fix: fmt.Sprintf("add %s to the config file's [[deploy]] entry for lineage %q (or at its top, for every lineage), then run clbcert-deploy --lineage %s",
				line, name, filepath.Join(d.opts.CertbotDir, "live", name))})
	}
	return out
}

// products are the products clbcert-deploy updates for a lineage.
func (d *Doctor) products(name string) []string {
	if p := d.opts.Products[name]; len(p) > 0 {
		return p
	}
	return []string{"clb"}
}
