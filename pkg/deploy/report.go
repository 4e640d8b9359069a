package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Target outcomes.
const (
	StatusPlanned   = "planned"   // dry run: would be bound
	StatusUnchanged = "unchanged" // already served the certificate
	StatusUpdated   = "updated"
	StatusFailed    = "failed"
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
		head += ": uploaded as " + r.CertID + " (dry run)"
	case r.Uploaded:
		head += ": uploaded as " + r.CertID
	default:
		head += ": already uploaded as " + r.CertID
	}
	fmt.Fprintln(w, head)
	if len(r.Targets) == 0 {
		fmt.Fprintln(w, "no target serves a certificate that this one covers")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tTARGET\tPROTOCOL\tBEFORE\tSTATUS\tVERIFIED")
	for _, t := range r.Targets {
		status := t.Status
		if t.Error != "" {
			status += ": " + t.Error
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
