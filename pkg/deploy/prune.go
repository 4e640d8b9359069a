package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/inventory"
)

// Why prune kept an upload.
const (
	KeptCurrent  = "current"  // the certificate just deployed, or the lineage's newest upload
	KeptKeep     = "keep"     // one of the newest Keep superseded uploads
	KeptRollback = "rollback" // a recorded rollback would put it back
	KeptBound    = "bound"    // a load balancer, or a resource of another product, uses it
	KeptError    = "error"    // deleting it failed
)

// PrunedCert is one upload prune looked at.
type PrunedCert struct {
	ID        string    `json:"certId"`
	Alias     string    `json:"alias"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// Reason is why it was kept (Kept*); empty for a deleted one.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PruneResult is what prune did with one lineage's uploads.
type PruneResult struct {
	Lineage string `json:"lineage"`
	// Keep is how many superseded uploads were to be kept.
	Keep int          `json:"keep"`
	Kept []PrunedCert `json:"kept"`
	// Deleted are the uploads deleted; in a dry run, those that would be.
	Deleted []PrunedCert `json:"deleted"`
	// Error is why the lineage was not pruned (then nothing was deleted).
	Error string `json:"error,omitempty"`
}

// PruneReport is what Prune did, lineage by lineage.
type PruneReport struct {
	DryRun bool `json:"dryRun"`
	// Regions are where load balancers were asked whether they use an upload.
	Regions  []string      `json:"regions"`
	Lineages []PruneResult `json:"lineages"`
}

// Prune deletes the uploads of each lineage that nothing needs, as a
// deployment does after binding: all but the newest and the Keep newest
// superseded ones, and of those only the ones no load balancer in the
// regions uses and no recorded rollback would put back. With DryRun it
// lists them instead. The error is non-nil if a lineage could not be
// pruned; the others are.
func (d *Deployer) Prune(ctx context.Context, lineages []string) (*PruneReport, error) {
	rep := &PruneReport{DryRun: d.opts.DryRun, Regions: d.opts.Regions, Lineages: []PruneResult{}}
	for _, name := range lineages {
		unlock, err := d.store.Lock(ctx, stateName(name))
		if err != nil {
			rep.Lineages = append(rep.Lineages, PruneResult{Lineage: name, Keep: d.keep, Kept: []PrunedCert{}, Deleted: []PrunedCert{},
				Error: fmt.Sprintf("another clbcert run holds %s: %v", name, err)})
			continue
		}
		res := d.pruneLineage(ctx, name, "", d.opts.DryRun)
		unlock()
		rep.Lineages = append(rep.Lineages, res)
	}
	return rep, rep.Err()
}

// Err summarises the lineages that could not be pruned, or is nil.
func (r *PruneReport) Err() error {
	var parts []string
	for _, l := range r.Lineages {
		if l.Error != "" {
			parts = append(parts, l.Lineage+": "+l.Error)
		}
		for _, k := range l.Kept {
			if k.Reason == KeptError {
				parts = append(parts, fmt.Sprintf("%s: could not delete %s: %s", l.Lineage, k.ID, k.Detail))
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("prune incomplete (%s): fix the cause and run clbcert prune again", strings.Join(parts, "; "))
}

// pruneLineage prunes one lineage's uploads (see Prune). current is the
// certificate just deployed, never deleted; "" means the newest upload. A
// failure is the result's Error: a deployment does not fail for it.
func (d *Deployer) pruneLineage(ctx context.Context, name, current string, dryRun bool) PruneResult {
	res := PruneResult{Lineage: name, Keep: d.keep, Kept: []PrunedCert{}, Deleted: []PrunedCert{}}
	uploads, err := d.inv.CertificatesByAlias(ctx, aliasPrefix(name))
	if err != nil {
		res.Error = fmt.Sprintf("prune skipped: %v", err)
		return res
	}
	// Newest first by the certificate's own start, which orders renewals.
	slices.SortFunc(uploads, func(a, b inventory.Certificate) int {
		if c := b.NotBefore.Compare(a.NotBefore); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if current == "" && len(uploads) > 0 {
		current = uploads[0].ID
	}
	var old []inventory.Certificate
	superseded := 0
	for _, u := range uploads {
		switch {
		case u.ID == current:
			res.Kept = append(res.Kept, pruned(u, KeptCurrent, ""))
		case superseded < d.keep:
			superseded++
			res.Kept = append(res.Kept, pruned(u, KeptKeep, ""))
		default:
			old = append(old, u)
		}
	}
	if len(old) == 0 {
		return res
	}
	needs, err := d.rollbackNeeds()
	if err != nil {
		res.Error = fmt.Sprintf("prune skipped: what rollbacks need is unknown: %v", err)
		return res
	}
	var rest []inventory.Certificate
	var ask []string
	for _, u := range old {
		if need, ok := needs[u.ID]; ok {
			res.Kept = append(res.Kept, pruned(u, KeptRollback, need))
			continue
		}
		rest = append(rest, u)
		ask = append(ask, u.ID)
	}
	bound := map[string][]string{}
	for _, r := range d.opts.Regions {
		if len(ask) == 0 {
			break
		}
		found, err := d.inv.BoundLoadBalancers(ctx, r, ask)
		if err != nil {
			res.Error = fmt.Sprintf("prune skipped: %v", err)
			return res
		}
		for id, lbs := range found {
			for _, lb := range lbs {
				bound[id] = append(bound[id], r+" "+lb)
			}
		}
	}
	if err := d.boundElsewhere(ctx, rest, bound); err != nil {
		res.Error = fmt.Sprintf("prune skipped: whether other products still hold the superseded uploads is unknown: %v", err)
		return res
	}
	var deleted []string
	for _, u := range rest {
		if lbs := bound[u.ID]; len(lbs) > 0 {
			res.Kept = append(res.Kept, pruned(u, KeptBound, strings.Join(lbs, ", ")))
			continue
		}
		if !dryRun {
			if err := d.ssl.Delete(ctx, u.ID); err != nil {
				res.Kept = append(res.Kept, pruned(u, KeptError, err.Error()))
				continue
			}
			deleted = append(deleted, u.ID)
		}
		res.Deleted = append(res.Deleted, pruned(u, "", ""))
	}
	if len(deleted) > 0 {
		err := d.updateState(ctx, name, func(s *lineageState) {
			s.Uploads = slices.DeleteFunc(s.Uploads, func(u upload) bool { return slices.Contains(deleted, u.CertID) })
		})
		if err != nil {
			res.Error = fmt.Sprintf("deleted %s but could not record it: %v", strings.Join(deleted, ", "), err)
		}
		d.log.Info("pruned superseded uploads", "lineage", name, "deleted", deleted)
	}
	return res
}

// boundElsewhere adds to bound, for each of certs that nothing in the
// regions uses, the resources of any product and region that still hold
// it, as the SSL service finds them: a certificate a CDN domain serves is
// never deleted, whatever products clbcert deploys to.
func (d *Deployer) boundElsewhere(ctx context.Context, certs []inventory.Certificate, bound map[string][]string) error {
	var ask []string
	for _, c := range certs {
		if len(bound[c.ID]) == 0 {
			ask = append(ask, c.ID)
		}
	}
	found, err := d.ssl.Bindings(ctx, ask)
	if err != nil {
		return err
	}
	for _, r := range found {
		bound[r.CertID] = append(bound[r.CertID], r.String())
	}
	return nil
}

func pruned(c inventory.Certificate, reason, detail string) PrunedCert {
	return PrunedCert{ID: c.ID, Alias: c.Alias, NotBefore: c.NotBefore, NotAfter: c.NotAfter, Reason: reason, Detail: detail}
}

// deployNotes is the result as a deploy report shows it: what was deleted,
// and a line for each superseded upload kept for a reason other than Keep.
func (r PruneResult) deployNotes() (deleted, notes []string) {
	for _, c := range r.Deleted {
		deleted = append(deleted, c.ID)
	}
	for _, c := range r.Kept {
		switch c.Reason {
		case KeptBound:
			notes = append(notes, fmt.Sprintf("kept %s: still bound (%s)", c.ID, c.Detail))
		case KeptRollback:
			notes = append(notes, fmt.Sprintf("kept %s: a rollback would put it back on %s", c.ID, c.Detail))
		case KeptError:
			notes = append(notes, fmt.Sprintf("could not delete %s: %s", c.ID, c.Detail))
		}
	}
	if r.Error != "" {
		notes = append(notes, r.Error)
	}
	return deleted, notes
}
