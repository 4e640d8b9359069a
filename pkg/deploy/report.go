package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Target outcomes.
const (
	StatusPlanned   = "planned"   // dry run: would be bound
	StatusUnchanged = "unchanged" // already served the certificate
	StatusUpdated   = "updated"
	StatusFailed    = "failed"
	StatusKept      = "kept" // serves a newer certificate; see Planned.Kept
)

// Report is what a deployment did, per target.
type Report struct {
	Lineage     string         `json:"lineage"`
	Names       []string       `json:"names"`
	Fingerprint string         `json:"fingerprint"`
	CertID      string         `json:"certId,omitempty"`
	Uploaded    bool           `json:"uploaded"`
	DryRun      bool           `json:"dryRun"`
	Targets     []TargetResult `json:"targets"`
	Failures    []Failure      `json:"failures,omitempty"`
	Pruned      []string       `json:"pruned,omitempty"`
	PruneNotes  []string       `json:"pruneNotes,omitempty"`
}

// TargetResult is one target's outcome.
type TargetResult struct {
	Planned
	Status   string `json:"status"`
	Verified string `json:"verified,omitempty"` // "tls", or "describe" when only CLB's word was checked
	Error    string `json:"error,omitempty"`
}

func newReport(plan *Plan, dryRun bool) *Report {
	r := &Report{Lineage: plan.Lineage.Name, Names: plan.Names, Fingerprint: plan.Fingerprint, CertID: plan.CertID, DryRun: dryRun, Failures: plan.Failures}
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

// Err summarises the failures in one line, or is nil.
func (r *Report) Err() error {
	failed := r.Failed()
	if len(failed) == 0 && len(r.Failures) == 0 {
		return nil
	}
	var parts []string
	for _, f := range r.Failures {
		parts = append(parts, fmt.Sprintf("%s %s: could not be read: %s", f.Region, dash(f.LoadBalancerID), f.Error))
	}
	for _, t := range failed {
		parts = append(parts, fmt.Sprintf("%s %s: %s", t.Region, t.Target, t.Error))
	}
	return fmt.Errorf("%d of %d targets failed and %d load balancers could not be read (%s); the others are done: fix the cause and run clbcert-deploy again to finish",
		len(failed), len(r.Targets), len(r.Failures), strings.Join(parts, "; "))
}

// WriteJSON writes the report for scripts.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
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
	if len(r.Targets) == 0 && len(r.Failures) == 0 {
		fmt.Fprintln(w, "no target serves a certificate that this one covers")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tTARGET\tPROTOCOL\tBEFORE\tSTATUS\tVERIFIED")
	for _, t := range r.Targets {
		status := t.Status
		if t.Error != "" {
			status += ": " + t.Error
		}
		if t.Status == StatusKept {
			status += ": " + t.Kept
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Target, t.Protocol, dash(t.Current), status, dash(t.Verified))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(tw, "%s\t%s\t-\t-\tfailed: could not be read: %s\t-\n", f.Region, dash(f.LoadBalancerID), f.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, id := range r.Pruned {
		fmt.Fprintf(w, "deleted superseded upload %s\n", id)
	}
	for _, n := range r.PruneNotes {
		fmt.Fprintln(w, n)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the rollback report for scripts.
func (r *RollbackReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the rollback report for people.
func (r *RollbackReport) WriteTable(w io.Writer) error {
	if r.Note != "" {
		_, err := fmt.Fprintln(w, r.Note)
		return err
	}
	head := fmt.Sprintf("rollback of %s: %d targets", r.Lineage, len(r.Targets))
	if r.DryRun {
		head += " (dry run: nothing changed)"
	}
	fmt.Fprintln(w, head)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tTARGET\tFROM\tTO\tSTATUS\tVERIFIED")
	for _, t := range r.Targets {
		status := t.Status
		if t.Error != "" {
			status += ": " + t.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Target, dash(t.Current), t.To, status, dash(t.Verified))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(tw, "%s\t%s\t-\t-\tfailed: could not be read: %s\t-\n", f.Region, dash(f.LoadBalancerID), f.Error)
	}
	return tw.Flush()
}

// WriteJSON writes the prune report for scripts.
func (r *PruneReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
