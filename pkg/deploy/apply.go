package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
)

// aliasPrefix names this tool's uploads of a lineage in the SSL service, so
// prune finds them even when the state dir is lost.
func aliasPrefix(lineageName string) string {
	return "clbcert/" + lineageName + "/"
}

// dryRun reports the plan, and fails as the deployment would: a load
// balancer or region that could not be read is a failure in both. Whether
// the certificate is already uploaded is answered from the state dir and by
// its alias, with read-only calls: asking the SSL service by content would
// mean an upload, which a dry run must not make.
// Tested by TestDryRunFailsLikeTheRun and TestDryRunSaysAlreadyUploaded.
func (d *Deployer) dryRun(ctx context.Context, plan *Plan) (*Report, error) {
	id, _, err := d.uploaded(ctx, plan)
	if err != nil {
		return nil, err
	}
	plan.CertID = id
	if id != "" {
		d.settle(plan, id)
	}
	rep := newReport(plan, true)
	for i := range rep.Targets {
		if t := &rep.Targets[i]; !t.settle() {
			t.Status = StatusPlanned
		}
	}
	for i := range rep.Resources {
		if r := &rep.Resources[i]; r.Status == "" {
			r.Status = StatusPlanned
		}
	}
	if len(rep.Failures) == 0 {
		return rep, rep.productsErr()
	}
	var parts []string
	for _, f := range rep.Failures {
		parts = append(parts, f.Where()+" could not be read: "+f.Error)
	}
	return rep, fmt.Errorf("the deployment would fail, as this dry run did: %s", strings.Join(parts, "; "))
}

// uploaded finds, without changing anything, the id of the lineage's leaf in
// the SSL service: recorded in the state dir and still there (recorded is
// then true), or under the alias this tool gives its uploads. "" if
// neither. It asks once per plan: the products' planning asks before the
// deployment or dry run does, and the lineage's lock keeps it true.
func (d *Deployer) uploaded(ctx context.Context, plan *Plan) (id string, recorded bool, err error) {
	if plan.upload == nil {
		id, recorded, err := d.findUpload(ctx, plan)
		if err != nil {
			return "", false, err
		}
		plan.upload = &foundUpload{id: id, recorded: recorded}
	}
	return plan.upload.id, plan.upload.recorded, nil
}

// foundUpload is what uploaded found.
type foundUpload struct {
	id       string
	recorded bool
}

func (d *Deployer) findUpload(ctx context.Context, plan *Plan) (id string, recorded bool, err error) {
	st, err := readState(d.store, plan.Lineage.Name)
	if err != nil {
		return "", false, err
	}
	if id := st.uploadOf(plan.Fingerprint); id != "" {
		if _, ok := plan.certs[id]; ok {
			// Discovery just described it, bound somewhere: a re-run.
			return id, true, nil
		}
		found, err := d.inv.Certificates(ctx, []string{id})
		if err != nil {
			return "", false, err
		}
		if _, ok := found[id]; ok {
			return id, true, nil
		}
		d.log.Warn("the recorded upload is gone from the SSL service", "cert", id)
	}
	alias := uploadAlias(plan)
	found, err := d.inv.CertificatesByAlias(ctx, alias)
	if err != nil {
		return "", false, err
	}
	for _, c := range found {
		if c.Alias == alias {
			return c.ID, false, nil
		}
	}
	return "", false, nil
}

func uploadAlias(plan *Plan) string {
	return aliasPrefix(plan.Lineage.Name) + plan.Fingerprint[:16]
}

func (d *Deployer) apply(ctx context.Context, plan *Plan) (*Report, error) {
	lin := plan.Lineage
	if plan.toBind() == 0 && !d.opts.UploadAnyway {
		// Every target keeps a newer certificate, or none could be read:
		// an upload now would only be pruned later.
		rep := newReport(plan, false)
		for i := range rep.Targets {
			rep.Targets[i].Status = StatusKept
		}
		return rep, nil
	}
	id, uploaded, err := d.ensureUploaded(ctx, plan)
	if err != nil {
		return nil, err
	}
	plan.CertID = id
	d.settle(plan, id)
	rep := newReport(plan, false)
	rep.Uploaded = uploaded
	fps := d.newFingerprints(map[string]string{id: plan.Fingerprint})
	changes := make([]change, len(rep.Targets))
	for i := range rep.Targets {
		t := &rep.Targets[i]
		t.settle()
		changes[i] = change{t: t, want: t.After, fingerprints: fps}
	}
	if err := d.recordBindings(ctx, lin.Name, rep); err != nil {
		return nil, err
	}
	d.log.Info("binding", "lineage", lin.Name, "cert", id, "targets", len(rep.Targets))
	d.bindAll(ctx, changes)
	if ctx.Err() == nil {
		if err := d.moveResources(ctx, lin.Name, rep, id); err != nil {
			return rep, err
		}
	}
	rep.Interrupted = ctx.Err() != nil
	for i := range rep.Resources {
		if r := &rep.Resources[i]; r.Status == "" {
			r.Status = StatusInterrupted
		}
	}
	switch {
	case rep.Interrupted:
		rep.PruneNotes = []string{"prune skipped: the run was interrupted"}
	case len(plan.Failures) == 0:
		res := d.pruneLineage(ctx, lin.Name, id, false)
		rep.Pruned, rep.PruneNotes = res.deployNotes()
	default:
		rep.PruneNotes = []string{"prune skipped: not every load balancer could be read, so an old upload may still be in use"}
	}
	return rep, nil
}

// change is one target to give a binding.
type change struct {
	t    *TargetResult
	want certbinding.Binding
	// fingerprints are the members' leaf SHA-256s, which TLS handshakes
	// must then see; a member without one leaves the check to CLB's
	// description.
	fingerprints *fingerprints
}

// fingerprints are the leaf SHA-256 of certificates by id, learnt from the
// SSL service (DescribeCertificateDetail) once per run where not known;
// safe for concurrent use.
type fingerprints struct {
	d  *Deployer
	mu sync.Mutex
	m  map[string]string
}

func (d *Deployer) newFingerprints(known map[string]string) *fingerprints {
	return &fingerprints{d: d, m: known}
}

// of is id's fingerprint, "" if the SSL service cannot tell it.
func (f *fingerprints) of(ctx context.Context, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fp, ok := f.m[id]; ok {
		return fp
	}
	fp, _, err := f.d.inv.Fingerprint(ctx, id)
	if err != nil {
		f.d.log.Warn("no fingerprint to check the handshake against", "cert", id, "error", err)
	}
	f.m[id] = fp
	return fp
}

// bindAll binds each change's target whose Status is not yet
// StatusUnchanged to its certificate, then verifies it, setting Status,
// Verified and Error. Load balancers proceed in parallel, Concurrency at a
// time in each region — each region's calls spend the budget of its own
// access region, so one region's queue must not hold back another's; the
// changes of one load balancer run one after another. Once ctx ends, the
// targets not yet done are StatusInterrupted, with the Task submitted for
// one, and nothing is verified.
func (d *Deployer) bindAll(ctx context.Context, changes []change) {
	byLB := map[string][]change{}
	var lbs []string
	for _, c := range changes {
		key := c.t.LoadBalancer().Key()
		if _, ok := byLB[key]; !ok {
			lbs = append(lbs, key)
		}
		byLB[key] = append(byLB[key], c)
	}
	slices.Sort(lbs)
	sems := map[string]chan struct{}{}
	for _, c := range changes {
		if sems[c.t.Region] == nil {
			sems[c.t.Region] = make(chan struct{}, d.opts.Concurrency)
		}
	}
	var wg sync.WaitGroup
	for _, key := range lbs {
		sem := sems[byLB[key][0].t.Region]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// One task at a time per load balancer: CLB refuses a second
			// change while one runs, so waiting here is cheaper than
			// collecting ResourceInOperating errors.
			for _, c := range byLB[key] {
				if c.t.Status == StatusUnchanged || c.t.Status == StatusKept {
					continue
				}
				if ctx.Err() != nil {
					c.t.Status = StatusInterrupted
					continue
				}
				task, err := d.bindOne(ctx, c.t.Address, c.want)
				switch {
				case err == nil:
					c.t.Status = StatusUpdated
				case ctx.Err() != nil:
					c.t.Status, c.t.Task = StatusInterrupted, task
				default:
					c.t.Status, c.t.Error = StatusFailed, err.Error()
				}
			}
			if ctx.Err() != nil {
				// Interrupted: what was bound is checked by the re-run,
				// which finds it unchanged.
				return
			}
			// Its tasks are done, so the load balancer is checked now,
			// while others are still being changed: its describe then
			// spends DescribeListeners budget that binding leaves idle,
			// instead of adding a phase of its own at the end.
			d.verifyLB(ctx, byLB[key])
		})
	}
	wg.Wait()
}

// ensureUploaded returns the SSL certificate id of the lineage's leaf and
// whether this run uploaded it: only if neither the state dir nor the
// service has it. An upload the service already held under another id
// (Repeatable=false answers with that id) counts as found, not made.
// That is half of "running it again finishes the job" (README); the other
// half is recordBinding keeping the first previous certificate.
// Tested by TestKilledHalfwayFinishesOnRerun and
// TestDeployWithoutAStateDirDoesNotUploadTwice.
func (d *Deployer) ensureUploaded(ctx context.Context, plan *Plan) (string, bool, error) {
	name := plan.Lineage.Name
	id, recorded, err := d.uploaded(ctx, plan)
	if err != nil {
		return "", false, err
	}
	fresh := false
	if id == "" {
		if id, fresh, err = d.ssl.Upload(ctx, plan.Lineage.FullchainPEM, plan.Lineage.KeyPEM, uploadAlias(plan)); err != nil {
			return "", false, err
		}
		d.log.Info("uploaded", "lineage", name, "cert", id, "new", fresh)
	}
	if recorded {
		return id, false, nil
	}
	err = d.updateState(ctx, name, func(s *lineageState) {
		s.addUpload(upload{CertID: id, Fingerprint: plan.Fingerprint, NotAfter: plan.Lineage.Leaf.NotAfter, At: d.opts.Now()})
	})
	return id, fresh, err
}

// recordBindings notes, for rollback, the binding each target to change
// has now. It is one state write before the first change, not one per
// target: each rewrites the whole file, so per target they cost time
// quadratic in the targets, all of it serialised on the file's lock. A
// target recorded but then not changed (it failed, or the run was killed) is
// harmless: rolling it back sets the certificate it still has, and a re-run
// keeps the first record, whose previous certificate is the one to restore.
func (d *Deployer) recordBindings(ctx context.Context, lineageName string, rep *Report) error {
	var change []TargetResult
	for _, t := range rep.Targets {
		if t.Status != StatusUnchanged && t.Status != StatusKept {
			change = append(change, t)
		}
	}
	if len(change) == 0 {
		return nil
	}
	err := d.updateState(ctx, lineageName, func(s *lineageState) {
		now := d.opts.Now()
		for _, t := range change {
			s.recordBinding(t.Address, t.Before, t.After, now)
		}
	})
	if err != nil {
		return fmt.Errorf("record the targets' current certificates for rollback (nothing was changed): %w", err)
	}
	return nil
}

// bindOne writes the whole binding b (every member, with its mode, CA and
// client verification) to a target and waits for CLB's task to finish. It
// returns the task's id once CLB has accepted the change.
func (d *Deployer) bindOne(ctx context.Context, t clb.Address, b certbinding.Binding) (string, error) {
	task, err := d.clb.WhenIdle(ctx, t.LoadBalancerID, func(ctx context.Context) (string, error) {
		return d.clb.Bind(ctx, t, b)
	})
	if err != nil {
		return "", err
	}
	d.log.Info("task started", "target", t.String(), "task", task)
	return task, d.clb.Await(ctx, t.Region, task)
}

func interrupted(ctx context.Context) error {
	return fmt.Errorf("%w (%w)", clb.ErrInterrupted, context.Cause(ctx))
}
