package deploy

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// prune deletes this lineage's superseded uploads beyond the newest Keep,
// each only if no load balancer in the deploy's regions still uses it. It
// never fails the deployment: what it could not do, it says.
func (d *Deployer) prune(ctx context.Context, plan *Plan) (deleted, notes []string) {
	name := plan.Lineage.Name
	uploads, err := d.cloud.certificatesByAlias(ctx, aliasPrefix(name))
	if err != nil {
		return nil, []string{fmt.Sprintf("prune skipped: %v", err)}
	}
	uploads = slices.DeleteFunc(uploads, func(c storedCert) bool { return c.ID == plan.CertID })
	// Newest first by the certificate's own start, which orders renewals.
	slices.SortFunc(uploads, func(a, b storedCert) int { return b.Begin.Compare(a.Begin) })
	if len(uploads) <= d.opts.Keep {
		return nil, nil
	}
	old := uploads[d.opts.Keep:]
	ids := make([]string, len(old))
	for i, c := range old {
		ids[i] = c.ID
	}
	inUse := map[string]bool{}
	for _, r := range d.opts.Regions {
		bound, err := d.cloud.boundLBs(ctx, r, ids)
		if err != nil {
			return nil, []string{fmt.Sprintf("prune skipped: %v", err)}
		}
		for id, lbs := range bound {
			if len(lbs) > 0 {
				inUse[id] = true
			}
		}
	}
	for _, id := range ids {
		if inUse[id] {
			notes = append(notes, fmt.Sprintf("kept %s: still bound to a load balancer", id))
			continue
		}
		if err := d.cloud.deleteCert(ctx, id); err != nil {
			notes = append(notes, fmt.Sprintf("could not delete %s: %v", id, err))
			continue
		}
		deleted = append(deleted, id)
	}
	if len(deleted) > 0 {
		err := d.updateState(ctx, name, func(s *lineageState) {
			s.Uploads = slices.DeleteFunc(s.Uploads, func(u upload) bool { return slices.Contains(deleted, u.CertID) })
		})
		if err != nil {
			notes = append(notes, err.Error())
		}
		d.log.Info("pruned superseded uploads", "lineage", name, "deleted", deleted, "at", time.Now().Format(time.RFC3339))
	}
	return deleted, notes
}
