package doctor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report for scripts and monitoring. Every list is
// present (empty rather than null).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people: a summary line, as monitoring
// plugins start their output; what --fix did; then the findings grouped by
// severity, most severe first, each with its place, problem and fix; then
// what could not be read.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	// The fix comes first, so the summary and findings below it are the examination that
	// followed it.
	if r.Fix != nil {
		if err := r.Fix.write(bw); err != nil {
			return err
		}
		if r.Fix.Applied != nil {
			fmt.Fprint(bw, "\nafter the fixes, ")
		} else {
			fmt.Fprintln(bw)
		}
	}
	fmt.Fprintf(bw, "%s: %d critical, %d warning, %d info in %s", r.Status, counts[Critical], counts[Warning], counts[Info], strings.Join(r.Regions, ", "))
	if len(r.Failures) > 0 {
		fmt.Fprintf(bw, "; %d parts of the cloud unreadable", len(r.Failures))
	}
	c := r.Checked
	fmt.Fprintf(bw, " (checked %d load balancers, %d listeners, %d certificates, %d handshakes, %d local lineages)\n",
		c.LoadBalancers, c.Listeners, c.Certificates, c.Handshakes, c.Lineages)
	for _, sev := range []Severity{Critical, Warning, Info} {
		if counts[sev] == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s\n", strings.ToUpper(sev.String()))
		for _, f := range r.Findings {
			if f.Severity != sev {
				continue
			}
			fmt.Fprintf(bw, "  %s  [%s]\n", f.Where, f.Check)
			fmt.Fprintf(bw, "    problem  %s\n", f.Problem)
			fix := f.Fix
			if f.Safe {
				fix += "  (safe: --fix applies it)"
			}
			fmt.Fprintf(bw, "    fix      %s\n", fix)
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(bw, "\nUNREADABLE (the checks that needed these were skipped)\n")
		for _, f := range r.Failures {
			fmt.Fprintf(bw, "  %s: %s\n", f.Where(), f.Error)
		}
	}
	return bw.Flush()
}

func (fr *FixReport) write(w io.Writer) error {
	switch {
	case fr.Plan == nil:
		fmt.Fprintln(w, "FIX: no finding has a safe fix; the fixes below are advice")
		return nil
	case fr.DryRun:
		fmt.Fprintf(w, "FIX (dry run: nothing changed): %d findings have safe fixes; clbcert tune would change\n", len(fr.Planned))
	default:
		fmt.Fprintf(w, "FIX: %d findings have safe fixes; clbcert tune planned\n", len(fr.Planned))
	}
	if err := fr.Plan.WriteDiff(w); err != nil {
		return err
	}
	if fr.Applied != nil {
		fmt.Fprintln(w, "applied:")
		if err := fr.Applied.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}
