package doctor

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/clbcert/clbcert/pkg/plural"
)

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
		fmt.Fprintf(bw, "; %s of the cloud unreadable", plural.Of(len(r.Failures), "part"))
	}
	c := r.Checked
	fmt.Fprintf(bw, " (checked %s, %s, %s, %s, %s)\n", plural.Of(c.LoadBalancers, "load balancer"), plural.Of(c.Listeners, "listener"),
		plural.Of(c.Certificates, "certificate"), plural.Of(c.Handshakes, "handshake"), plural.Of(c.Lineages, "local lineage"))
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
		fmt.Fprintf(w, "FIX (dry run: nothing changed): %s with a safe fix; clbcert tune would change\n", plural.Of(len(fr.Planned), "finding"))
	default:
		fmt.Fprintf(w, "FIX: %s with a safe fix; clbcert tune planned\n", plural.Of(len(fr.Planned), "finding"))
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
