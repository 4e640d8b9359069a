package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/plural"
	"github.com/clbcert/clbcert/pkg/ssl"
)

// StatusSkipped is a rollback target left alone: it is gone, or serves a
// certificate that clbcert did not put there.
const StatusSkipped = "skipped"

// RollbackReport is what a rollback did, per target.
type RollbackReport struct {
	Lineage string           `json:"lineage"`
	DryRun  bool             `json:"dryRun"`
	Targets []RollbackTarget `json:"targets"`
	// Resources are the resources of other products moved back.
	Resources []RollbackResource `json:"resources,omitempty"`
	// Failures are load balancers or regions that could not be read: their
	// targets were not rolled back.
	Failures []Failure `json:"failures,omitempty"`
	// Note says why there was nothing to do.
	Note string `json:"note,omitempty"`
}

// RollbackTarget is one target's outcome. Before is what it served before
// the rollback, ToBinding what it serves after: the whole binding the last
// deploy replaced, every member with the SSL mode, client CA and
// verification it had. To is its certificates joined by "+" (the one
// certificate of a plain binding), ToNotAfter when the first of them
// expires.
type RollbackTarget struct {
	TargetResult
	To         string              `json:"to"`
	ToBinding  certbinding.Binding `json:"toBinding"`
	ToNotAfter time.Time           `json:"toNotAfter"`
}

// RollbackResource is one resource's outcome: Before is what it held
// before the rollback, To what it holds after.
type RollbackResource struct {
	ResourceResult
	To string `json:"to"`
	// from is what deploy moved it to, which rollback moves it from.
	from string
}

// NothingToRollBack is the report of a rollback with nothing to do: no
// target of the lineage has a certificate recorded from before clbcert
// changed it. A command that finds no record of the lineage at all answers
// with it without building a Deployer.
func NothingToRollBack(lineageName string) *RollbackReport {
	return &RollbackReport{Lineage: lineageName, Targets: []RollbackTarget{},
		Note: "nothing to roll back: no target of " + lineageName + " has a certificate recorded from before clbcert changed it (already rolled back, or never deployed)"}
}

// Err summarises the failed targets, or is nil. Like Report.Err it names
// them; the table says why.
func (r *RollbackReport) Err() error {
	var names []string
	done, interrupted := 0, false
	count := func(status, name string) {
		switch status {
		case StatusFailed:
			names = append(names, name)
		case StatusInterrupted:
			interrupted = true
		case StatusUpdated, StatusUnchanged:
			done++
		}
	}
	for _, t := range r.Targets {
		count(t.Status, t.Region+" "+t.String())
	}
	for _, res := range r.Resources {
		count(res.Status, res.Resource.String())
	}
	all := len(r.Targets) + len(r.Resources)
	if interrupted {
		return fmt.Errorf("rollback of %s interrupted: %d of %s done; running again finishes the job: run clbcert rollback %s again", r.Lineage, done, plural.Of(all, "target"), r.Lineage)
	}
	var what []string
	if len(names) > 0 {
		what = append(what, fmt.Sprintf("%d of %s failed (%s)", len(names), plural.Of(all, "target"), strings.Join(names, ", ")))
	}
	if len(r.Failures) > 0 {
		what = append(what, unreadableSummary(r.Failures))
	}
	if len(what) == 0 {
		return nil
	}
	msg := fmt.Sprintf("rollback of %s: %s: the report says why", r.Lineage, strings.Join(what, " and ")) + othersDone(done)
	return fmt.Errorf("%s: fix the cause and run clbcert rollback %s again to finish", msg, r.Lineage)
}

// Rollback puts back, on every target that deploy changed for the lineage,
// the binding the target had before (every member, the SSL mode, client CA
// and verification), awaited and verified as a
// deployment is. It then records the restored certificates as the
// targets' current ones with nothing before them, so a second rollback has
// nothing to do (rather than flip back to the newer certificate: the way
// forward again is clbcert-deploy).
//
// Before any change it refuses (ErrRefused) if a certificate to put back is
// gone from the SSL service or has expired. A target that no longer exists,
// or that serves neither certificate clbcert recorded for it (someone
// changed it since), is skipped and forgotten. With DryRun it reports the
// plan only.
func (d *Deployer) Rollback(ctx context.Context, lineageName string) (*RollbackReport, error) {
	unlock, err := d.store.Lock(ctx, stateName(lineageName))
	if err != nil {
		return nil, fmt.Errorf("another clbcert run holds %s: %w", lineageName, err)
	}
	defer unlock()
	st, err := readState(d.store, lineageName)
	if err != nil {
		return nil, err
	}
	var todo []binding
	for _, key := range slices.Sorted(maps.Keys(st.Bindings)) {
		if b := st.Bindings[key]; b.pending() {
			todo = append(todo, b)
		}
	}
	var todoRes []resourceBinding
	for _, key := range slices.Sorted(maps.Keys(st.Resources)) {
		if b := st.Resources[key]; b.Previous != "" && b.Previous != b.Current {
			todoRes = append(todoRes, b)
		}
	}
	if len(todo) == 0 && len(todoRes) == 0 {
		rep := NothingToRollBack(lineageName)
		rep.DryRun = d.opts.DryRun
		return rep, nil
	}
	prev, err := d.rollbackCerts(ctx, todo, todoRes)
	if err != nil {
		return nil, err
	}
	rep := &RollbackReport{Lineage: lineageName, DryRun: d.opts.DryRun, Targets: []RollbackTarget{}}
	if len(todo) > 0 {
		var regions []string
		for _, b := range todo {
			if !slices.Contains(regions, b.Target.Region) {
				regions = append(regions, b.Target.Region)
			}
		}
		inv, err := d.inv.Collect(ctx, regions)
		if err != nil {
			return nil, err
		}
		rep.Failures = inv.Failures
		where := map[string]inventory.Binding{}
		for _, b := range inv.Bindings() {
			where[b.Key()] = b
		}
		for _, b := range todo {
			rep.Targets = append(rep.Targets, rollbackTarget(b, where, inv, prev))
		}
	}
	if err := d.planResourceRollback(ctx, rep, todoRes); err != nil {
		return nil, err
	}
	if d.opts.DryRun {
		return rep, nil
	}

	var changes []change
	// Without a fingerprint the TLS check cannot tell the leaves apart:
	// CLB's description is then the only check.
	fps := d.newFingerprints(map[string]string{})
	for i := range rep.Targets {
		t := &rep.Targets[i]
		if t.Status != StatusPlanned && t.Status != StatusUnchanged {
			continue
		}
		if t.Status == StatusPlanned {
			t.Status = ""
		}
		changes = append(changes, change{t: &t.TargetResult, want: t.ToBinding, fingerprints: fps})
	}
	d.log.Info("rolling back", "lineage", lineageName, "targets", len(changes), "resources", len(rep.Resources))
	d.bindAll(ctx, changes)
	d.moveBack(ctx, rep.Resources)
	// Even when interrupted: what was put back is recorded.
	if err := d.recordRollback(context.WithoutCancel(ctx), lineageName, rep); err != nil {
		return rep, err
	}
	return rep, rep.Err()
}

// rollbackCerts describes the certificates the bindings would put back and
// refuses if one is gone or expired.
func (d *Deployer) rollbackCerts(ctx context.Context, todo []binding, todoRes []resourceBinding) (map[string]inventory.Certificate, error) {
	var ids []string
	usersOf := map[string][]string{}
	add := func(id, user string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		usersOf[id] = append(usersOf[id], user)
	}
	for _, b := range todo {
		for _, id := range b.previousIDs() {
			add(id, b.Target.String())
		}
	}
	for _, b := range todoRes {
		add(b.Previous, b.Resource.String())
	}
	certs, err := d.inv.Certificates(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := d.opts.Now()
	var problems []string
	for _, id := range ids {
		users := usersOf[id]
		c, ok := certs[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("certificate %s, which %s served before, is no longer in the SSL service (deleted or pruned)", id, strings.Join(users, ", ")))
		case !c.NotAfter.IsZero() && !now.Before(c.NotAfter):
			problems = append(problems, fmt.Sprintf("certificate %s, which %s served before, expired on %s", id, strings.Join(users, ", "), c.NotAfter.UTC().Format(time.DateOnly)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: cannot roll back: %s; nothing was changed: deploy a valid certificate with clbcert-deploy instead", ErrRefused, strings.Join(problems, "; "))
	}
	return certs, nil
}

// rollbackTarget is what rollback will do with b, given where things are
// now and the certificates to put back (prev, as the SSL service describes
// them).
func rollbackTarget(b binding, where map[string]inventory.Binding, inv *inventory.Inventory, prev map[string]inventory.Certificate) RollbackTarget {
	t := RollbackTarget{TargetResult: TargetResult{Planned: Planned{Address: b.Target}}}
	now, ok := where[b.Target.Key()]
	served := certbinding.Binding{}
	if ok {
		t.Planned = planned(now, inv.Certificates)
		served = t.Before
	}
	to, _ := b.previous(served)
	for i, m := range to.Members {
		if m.Algorithm == "" {
			to.Members[i].Algorithm = algorithmIn(prev)(m.CertID)
		}
	}
	switch cur := b.current(served); {
	case !ok && unreadable(inv.Failures, b.Target.LoadBalancerID):
		t.Status, t.Error = StatusFailed, "its load balancer could not be read"
	case !ok:
		t.Status, t.Error = StatusSkipped, "no longer a TLS listener or SNI domain"
	case certbinding.Equal(served, to):
		t.Status = StatusUnchanged
	case certbinding.Equal(served, cur):
		t.Status = StatusPlanned
	default:
		if undone, ok := undo(served, to, cur); ok {
			to, t.Status = undone, StatusPlanned
			break
		}
		t.Status, t.Error = StatusSkipped, fmt.Sprintf("serves %s now, not %s that clbcert-deploy put there: left as it is", describe(served), describe(cur))
	}
	for _, m := range to.Members {
		if na := prev[m.CertID].NotAfter; t.ToNotAfter.IsZero() || (!na.IsZero() && na.Before(t.ToNotAfter)) {
			t.ToNotAfter = na
		}
	}
	t.ToBinding, t.To, t.After = to, strings.Join(to.CertIDs(), "+"), to
	if len(to.Members) == 1 {
		t.To = to.Members[0].CertID
	}
	return t
}

// undo takes one deploy's change (before to after) back from served, a
// binding whose other members changed since: the other lineage of an RSA +
// ECDSA pair renewed its member. The members the deploy bound leave, the
// ones it replaced come back, and the members it did not touch stay as they
// are served now, so rolling back one lineage of a pair never reverts the
// other's renewal. ok is false when served is not after with only those
// other members changed: the deploy's members are gone from it, a member
// it replaced is back, or its mode, CA or verification changed since.
// Tested by TestRollbackOneLineageOfARenewedPair.
func undo(served, before, after certbinding.Binding) (certbinding.Binding, bool) {
	bound := func(b certbinding.Binding, id string) bool {
		return slices.ContainsFunc(b.Members, func(m certbinding.Member) bool { return m.CertID == id })
	}
	settingsOf := func(b certbinding.Binding) certbinding.Binding {
		b.Members = nil
		return b
	}
	if !certbinding.Equal(settingsOf(served), settingsOf(after)) {
		return certbinding.Binding{}, false
	}
	next := settingsOf(before)
	for _, m := range after.Members {
		if !bound(before, m.CertID) && !bound(served, m.CertID) {
			return certbinding.Binding{}, false
		}
	}
	for _, m := range served.Members {
		if !bound(after, m.CertID) || bound(before, m.CertID) {
			next.Members = append(next.Members, m)
		}
	}
	for _, m := range before.Members {
		if bound(after, m.CertID) {
			continue
		}
		if bound(served, m.CertID) {
			return certbinding.Binding{}, false
		}
		next.Members = append(next.Members, m)
	}
	if len(next.Members) == 0 || next.Check() != nil {
		return certbinding.Binding{}, false
	}
	return next, true
}

// recordRollback notes each target put back (or found so) as serving the
// restored certificate with nothing to roll back to, and forgets skipped
// ones; failed targets keep their record, so running again finishes.
func (d *Deployer) recordRollback(ctx context.Context, lineageName string, rep *RollbackReport) error {
	now := d.opts.Now()
	err := d.updateState(ctx, lineageName, func(s *lineageState) {
		for _, t := range rep.Targets {
			key := t.Key()
			switch t.Status {
			case StatusUpdated, StatusUnchanged:
				after := t.ToBinding
				s.Bindings[key] = binding{Target: t.Address, Current: firstID(after), After: &after, At: now, RolledBackFrom: s.Bindings[key].Current}
			case StatusSkipped:
				delete(s.Bindings, key)
			}
		}
		for _, r := range rep.Resources {
			key := r.Resource.String()
			switch r.Status {
			case StatusUpdated, StatusUnchanged:
				s.Resources[key] = resourceBinding{Resource: r.Resource, Current: r.To, At: now, RolledBackFrom: r.from}
			case StatusSkipped:
				delete(s.Resources, key)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("the rollback is done but could not be recorded: %w: fix the state dir and run clbcert rollback %s again, which finds the targets rolled back and records them", err, lineageName)
	}
	return nil
}

// planResourceRollback adds to rep what rollback will do with each
// resource of another product: move it back (StatusPlanned) if it holds
// what deploy moved it to, nothing if it holds what it had before
// (StatusUnchanged), and leave it alone if it holds anything else or is
// gone (StatusSkipped).
func (d *Deployer) planResourceRollback(ctx context.Context, rep *RollbackReport, todo []resourceBinding) error {
	if len(todo) == 0 {
		return nil
	}
	var ids []string
	for _, b := range todo {
		for _, id := range []string{b.Current, b.Previous} {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	var types []string
	for _, b := range todo {
		types = append(types, b.Resource.Type)
	}
	// A list of another type that could not be read does not stop the rollback; one of
	// these types does, as the resources there would look gone.
	found, err := d.ssl.Bindings(ctx, ids)
	if err := ssl.UnreadOf(err, types); err != nil {
		return fmt.Errorf("find where the resources of other products are now (nothing was changed): %w", err)
	}
	for _, b := range todo {
		r := RollbackResource{ResourceResult: ResourceResult{Resource: b.Resource}, To: b.Previous, from: b.Current}
		i := slices.IndexFunc(found, func(f ssl.Resource) bool { return resourceOf(f) == b.Resource })
		switch {
		case i < 0:
			r.Status, r.Error = StatusSkipped, fmt.Sprintf("holds neither %s nor %s any more (gone, or changed by hand): left as it is", b.Current, b.Previous)
		case found[i].CertID == b.Previous:
			r.Before, r.Status = b.Previous, StatusUnchanged
		default:
			r.Before, r.Status = b.Current, StatusPlanned
		}
		rep.Resources = append(rep.Resources, r)
	}
	return nil
}

// moveBack moves each planned resource back to its previous certificate,
// one SSL update per pair of certificates.
func (d *Deployer) moveBack(ctx context.Context, rs []RollbackResource) {
	var moves []resourceMove
	for i := range rs {
		if r := &rs[i]; r.Status == StatusPlanned {
			moves = append(moves, resourceMove{r.from, r.To, &r.ResourceResult})
		}
	}
	// What an update moves besides (another resource that held the newer
	// certificate) is not this rollback's: it is logged only.
	for _, e := range d.moveAll(ctx, moves) {
		d.log.Warn("the SSL service moved a resource back that rollback did not ask for", "resource", e.String(), "from", e.Before, "status", e.Status)
	}
}
