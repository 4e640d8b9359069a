package deploy

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/plural"
)

// Target outcomes.
const (
	StatusPlanned   = "planned"   // dry run: would be bound
	StatusUnchanged = "unchanged" // already served the certificate
	StatusUpdated   = "updated"
	StatusFailed    = "failed"
	// StatusInterrupted: the run was stopped (SIGINT, SIGTERM) before the
	// target's change was done; TargetResult.Task names its CLB task if
	// one was submitted, which then finishes on its own.
	StatusInterrupted = "interrupted"
	StatusKept        = "kept" // serves a newer certificate; see Planned.Kept
)

// Report is what a deployment did, per target.
type Report struct {
	Lineage     string   `json:"lineage"`
	Names       []string `json:"names"`
	Fingerprint string   `json:"fingerprint"`
	CertID      string   `json:"certId,omitempty"`
	Uploaded    bool     `json:"uploaded"`
	DryRun      bool     `json:"dryRun"`
	// Interrupted: the run was stopped (SIGINT, SIGTERM) before it was done.
	Interrupted bool           `json:"interrupted,omitempty"`
	Targets     []TargetResult `json:"targets"`
	Failures    []Failure      `json:"failures,omitempty"`
	// Resources are the resources of the products other than CLB.
	Resources []ResourceResult `json:"resources,omitempty"`
	// ProductsError is why the products other than CLB were left alone.
	ProductsError string   `json:"productsError,omitempty"`
	Pruned        []string `json:"pruned,omitempty"`
	PruneNotes    []string `json:"pruneNotes,omitempty"`
}

// TargetResult is one target's outcome.
type TargetResult struct {
	Planned
	Status   string `json:"status"`
	Verified string `json:"verified,omitempty"` // "tls", or "describe" when only CLB's word was checked
	Error    string `json:"error,omitempty"`
	// Task is the CLB task an interrupted run submitted for the target and
	// did not see end.
	Task string `json:"task,omitempty"`
}

// settle gives the target the status the plan already decides, and says
// whether it did: failed where its binding cannot be worked out, kept,
// or unchanged. The others are to be bound (planned in a dry run).
func (t *TargetResult) settle() bool {
	switch {
	case t.refused != "":
		t.Status, t.Error = StatusFailed, t.refused
	case t.Kept != "":
		t.Status = StatusKept
	case t.Outcome == certbinding.Unchanged:
		t.Status = StatusUnchanged
	default:
		return false
	}
	return true
}

func newReport(plan *Plan, dryRun bool) *Report {
	r := &Report{Lineage: plan.Lineage.Name, Names: plan.Names, Fingerprint: plan.Fingerprint, CertID: plan.CertID, DryRun: dryRun, Failures: plan.Failures,
		Resources: slices.Clone(plan.Resources), ProductsError: plan.ProductsError}
	for _, t := range plan.Targets {
		r.Targets = append(r.Targets, TargetResult{Planned: t})
	}
	return r
}

// Failed lists the targets that failed.
func (r *Report) Failed() []TargetResult {
	var out []TargetResult
	for _, t := range r.Targets {
		if t.Status == StatusFailed {
			out = append(out, t)
		}
	}
	return out
}

// Err summarises the failures in one line, or is nil. It names the failed
// targets, not their errors, which the table lists (or the JSON holds):
// one error is told once.
func (r *Report) Err() error {
	if r.Interrupted {
		return r.interruptedErr()
	}
	failed := r.Failed()
	var failedResources []string
	for _, res := range r.Resources {
		if res.Status == StatusFailed {
			failedResources = append(failedResources, res.String())
		}
	}
	if len(failed) == 0 && len(r.Failures) == 0 && len(failedResources) == 0 && r.ProductsError == "" {
		return nil
	}
	var what []string
	if len(failed) > 0 {
		var names []string
		for _, t := range failed {
			names = append(names, t.Region+" "+t.String())
		}
		what = append(what, fmt.Sprintf("%d of %s failed (%s)", len(failed), plural.Of(len(r.Targets), "target"), strings.Join(names, ", ")))
	}
	if len(failedResources) > 0 {
		what = append(what, fmt.Sprintf("%d of %s of other products failed (%s)", len(failedResources), plural.Of(len(r.Resources), "resource"), strings.Join(failedResources, ", ")))
	}
	if len(r.Failures) > 0 {
		what = append(what, unreadableSummary(r.Failures))
	}
	if r.ProductsError != "" {
		what = append(what, r.ProductsError)
	}
	msg := strings.Join(what, " and ") + ": the report says why" + othersDone(r.done())
	return fmt.Errorf("%s: fix the cause and run clbcert-deploy again to finish", msg)
}

// othersDone tells, after a summary of failures, how many of the other
// targets are done: "" for none.
func othersDone(done int) string {
	switch {
	case done == 1:
		return "; the other target is done"
	case done > 1:
		return fmt.Sprintf("; the other %s are done", plural.Of(done, "target"))
	}
	return ""
}

// productsErr is the error of a dry run (or of a run with nothing to bind)
// whose other products could not be looked at, or nil.
func (r *Report) productsErr() error {
	if r.ProductsError == "" {
		return nil
	}
	return errors.New(r.ProductsError)
}

// interruptedErr says what an interrupted run leaves behind: the CLB tasks
// it submitted, which finish on their own, and what a re-run does. The
// README's "running it again finishes the job" after a kill rests on
// TestInterruptedDeployNamesItsRunningTasks and
// TestSIGTERMReportsInterruptedAndRerunFinishes.
func (r *Report) interruptedErr() error {
	var tasks []string
	for _, t := range r.Targets {
		if t.Task != "" {
			tasks = append(tasks, t.LoadBalancerID+" task "+t.Task)
		}
	}
	msg := fmt.Sprintf("interrupted before the deployment was done (%d of %s done)", r.done(), plural.Of(len(r.Targets)+len(r.Resources), "target"))
	switch len(tasks) {
	case 0:
	case 1:
		msg += fmt.Sprintf(": 1 CLB task it submitted is still running and finishes on its own (%s)", tasks[0])
	default:
		msg += fmt.Sprintf(": %d CLB tasks it submitted are still running and finish on their own (%s)", len(tasks), strings.Join(tasks, ", "))
	}
	return errors.New(msg + "; running again finishes the job: run clbcert-deploy again")
}

// done counts the targets and resources that serve the certificate now.
func (r *Report) done() int {
	n := 0
	for _, t := range r.Targets {
		if t.Status == StatusUpdated || t.Status == StatusUnchanged {
			n++
		}
	}
	for _, res := range r.Resources {
		if res.Status == StatusUpdated || res.Status == StatusUnchanged {
			n++
		}
	}
	return n
}

// unreadableSummary says which parts of the cloud could not be read, counting
// regions, load balancers and certificates each by its name.
func unreadableSummary(failures []Failure) string {
	var regions, lbs, certs, services, where []string
	for _, f := range failures {
		switch {
		case f.CertificateID != "":
			certs = append(certs, f.Where())
		case f.LoadBalancerID != "":
			lbs = append(lbs, f.Where())
		case f.Region != "":
			regions = append(regions, f.Where())
		default:
			services = append(services, f.Where())
		}
		where = append(where, f.Where())
	}
	var counts []string
	for _, c := range []struct {
		n    int
		noun string
	}{{len(regions), "region"}, {len(lbs), "load balancer"}, {len(certs), "certificate"}, {len(services), "service"}} {
		if c.n > 0 {
			counts = append(counts, plural.Of(c.n, c.noun))
		}
	}
	return strings.Join(counts, ", ") + " could not be read (" + strings.Join(where, "; ") + ")"
}

// WriteTable writes the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	head := fmt.Sprintf("%s (%s), sha256 %s…", r.Lineage, strings.Join(r.Names, ", "), r.Fingerprint[:16])
	switch {
	case r.DryRun && r.CertID == "":
		head += ": not uploaded yet (dry run)"
	case r.DryRun:
		head += ": already uploaded as " + r.CertID + " (dry run)"
	case r.CertID == "":
		head += ": not uploaded: no target to bind it to"
	case r.Uploaded:
		head += ": uploaded as " + r.CertID
	default:
		head += ": already uploaded as " + r.CertID
	}
	fmt.Fprintln(w, head)
	clbRows := len(r.Targets) > 0 || len(r.Failures) > 0
	if !clbRows && len(r.Resources) == 0 {
		fmt.Fprintln(w, "no target serves a certificate that this one covers")
	}
	tw := newTable(w)
	if clbRows || len(r.Resources) == 0 {
		fmt.Fprintln(tw, "REGION\tTARGET\tPROTOCOL\tBEFORE\tSTATUS\tVERIFIED")
	}
	var why []string
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Address, t.Protocol, members(t.Before), t.Status, dash(t.Verified))
		if t.Outcome == certbinding.Added || t.Outcome == certbinding.Migrated || (len(t.After.Members) > 1 && t.Status != StatusKept) {
			why = append(why, fmt.Sprintf("%s %s: %s: %s", t.Region, t.Address, t.Outcome, describeMembers(t.After)))
		}
		why = append(why, t.problems()...)
		if t.Status == StatusKept {
			why = append(why, fmt.Sprintf("%s %s: kept: %s", t.Region, t.Address, t.Kept))
		}
	}
	why = append(why, unreadableRows(tw, r.Failures)...)
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeResources(w, r.Resources, &why); err != nil {
		return err
	}
	if r.ProductsError != "" {
		why = append(why, "other products: "+r.ProductsError)
	}
	writeWhy(w, why)
	for _, id := range r.Pruned {
		fmt.Fprintf(w, "deleted superseded upload %s\n", id)
	}
	for _, n := range r.PruneNotes {
		fmt.Fprintln(w, n)
	}
	return nil
}

// writeResources writes a table of the resources of other products, and
// adds their errors to why.
func writeResources(w io.Writer, rs []ResourceResult, why *[]string) error {
	if len(rs) == 0 {
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "PRODUCT\tREGION\tRESOURCE\tBEFORE\tSTATUS")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Type, dash(r.Region), r.Where(), dash(r.Before), r.Status)
		*why = append(*why, r.problems()...)
	}
	return tw.Flush()
}

// problems are the target's lines below a table: its error and the CLB
// task it left running.
func (t *TargetResult) problems() []string {
	var out []string
	if t.Error != "" {
		out = append(out, fmt.Sprintf("%s %s: %s", t.Region, t.Address, t.Error))
	}
	if t.Task != "" {
		out = append(out, fmt.Sprintf("%s %s: CLB task %s was submitted and finishes on its own", t.Region, t.Address, t.Task))
	}
	return out
}

// problems are the resource's lines below a table: its error.
func (r *ResourceResult) problems() []string {
	if r.Error == "" {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s", r.Resource, r.Error)}
}

// newTable is the tabwriter of the reports' tables.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// describeMembers is a binding for people: each member with its key
// algorithm, and the mutual-TLS settings.
func describeMembers(b certbinding.Binding) string {
	var parts []string
	for _, m := range b.Members {
		parts = append(parts, fmt.Sprintf("%s %s", m.Algorithm, m.CertID))
	}
	s := strings.Join(parts, " + ")
	if b.Mutual() {
		s += fmt.Sprintf(", MUTUAL with CA %s, client certificate %s", b.CertCaID, cmp.Or(b.SSLVerifyClient, certbinding.VerifyOn))
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteTable writes the rollback report for people.
func (r *RollbackReport) WriteTable(w io.Writer) error {
	if r.Note != "" {
		_, err := fmt.Fprintln(w, r.Note)
		return err
	}
	head := fmt.Sprintf("rollback of %s: %s", r.Lineage, plural.Of(len(r.Targets)+len(r.Resources), "target"))
	if r.DryRun {
		head += " (dry run: nothing changed)"
	}
	fmt.Fprintln(w, head)
	tw := newTable(w)
	if len(r.Targets) > 0 || len(r.Failures) > 0 || len(r.Resources) == 0 {
		fmt.Fprintln(tw, "REGION\tTARGET\tFROM\tTO\tSTATUS\tVERIFIED")
	}
	var why []string
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Address, members(t.Before), t.To, t.Status, dash(t.Verified))
		why = append(why, t.problems()...)
	}
	why = append(why, unreadableRows(tw, r.Failures)...)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Resources) > 0 {
		rt := newTable(w)
		fmt.Fprintln(rt, "PRODUCT\tREGION\tRESOURCE\tFROM\tTO\tSTATUS")
		for _, res := range r.Resources {
			fmt.Fprintf(rt, "%s\t%s\t%s\t%s\t%s\t%s\n", res.Type, dash(res.Region), res.Where(), dash(res.Before), res.To, res.Status)
			why = append(why, res.problems()...)
		}
		if err := rt.Flush(); err != nil {
			return err
		}
	}
	writeWhy(w, why)
	return nil
}

// unreadableRows writes a row per part of the cloud that could not be read
// and returns why, for below the table.
func unreadableRows(tw io.Writer, failures []Failure) []string {
	var why []string
	for _, f := range failures {
		fmt.Fprintf(tw, "%s\t%s\t-\t-\tunreadable\t-\n", f.Region, dash(f.LoadBalancerID))
		why = append(why, fmt.Sprintf("%s: could not be read: %s", f.Where(), f.Error))
	}
	return why
}

// writeWhy lists the errors of a table's rows below it, so that the rows
// stay short.
func writeWhy(w io.Writer, why []string) {
	for _, s := range why {
		fmt.Fprintln(w, "  "+s)
	}
}

// WriteTable writes the prune report for people: one line per upload.
func (r *PruneReport) WriteTable(w io.Writer) error {
	deleted := "deleted"
	if r.DryRun {
		deleted = "would delete"
		fmt.Fprintln(w, "dry run: nothing deleted")
	}
	if len(r.Lineages) == 0 {
		_, err := fmt.Fprintln(w, "nothing to prune: no lineage given, and none recorded in the state dir")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "LINEAGE\tCERT\tNOT AFTER\tACTION")
	for _, l := range r.Lineages {
		if l.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\tfailed: %s\n", l.Lineage, l.Error)
		}
		if l.Error == "" && len(l.Kept)+len(l.Deleted) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\tno uploads\n", l.Lineage)
		}
		for _, c := range l.Deleted {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Lineage, c.ID, c.NotAfter.UTC().Format(time.DateOnly), deleted)
		}
		for _, c := range l.Kept {
			fmt.Fprintf(tw, "%s\t%s\t%s\tkept: %s\n", l.Lineage, c.ID, c.NotAfter.UTC().Format(time.DateOnly), keptWhy(c))
		}
	}
	return tw.Flush()
}

func keptWhy(c PrunedCert) string {
	switch c.Reason {
	case KeptCurrent:
		return "newest"
	case KeptKeep:
		return "among the newest superseded kept"
	case KeptBound:
		return "bound to " + c.Detail
	case KeptRollback:
		return "rollback needs it on " + c.Detail
	case KeptError:
		return "delete failed: " + c.Detail
	}
	return c.Reason
}
