package status

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/plural"
)

// width is what the table is laid out for.
const width = 80

// WriteTable writes the report for people: a summary line, as monitoring
// plugins start their output; then a line per lineage with indented lines
// for its names, where it is served and where it drifted; then what could
// not be read.
func (r *Report) WriteTable(w io.Writer) error {
	counts := map[Level]int{}
	for _, l := range r.Lineages {
		counts[l.Status]++
	}
	summary := fmt.Sprintf("%s: %s: %d critical, %d warning, %d ok", r.Status, plural.Of(len(r.Lineages), "lineage"), counts[Critical], counts[Warning], counts[OK])
	if len(r.Failures) > 0 {
		summary += fmt.Sprintf("; %s of the cloud unreadable", plural.Of(len(r.Failures), "part"))
	}
	fmt.Fprintln(w, summary)
	if len(r.Lineages) == 0 {
		fmt.Fprintf(w, "no lineages in %s\n", strings.TrimSuffix(r.CertbotDir, "/")+"/live")
	}
	for _, l := range r.Lineages {
		if l.Error != "" {
			fmt.Fprintf(w, "%-8s  %s: fails validation\n", l.Status, l.Name)
			fmt.Fprintf(w, "  error   %s\n", l.Error)
			continue
		}
		fmt.Fprintf(w, "%-8s  %s: %s left, expires %s\n", l.Status, l.Name, plural.Of(l.DaysLeft, "day"), l.NotAfter.Format(time.DateOnly))
		for _, line := range wrap(l.Names, width-10) {
			fmt.Fprintf(w, "  names   %s\n", line)
		}
		fmt.Fprintf(w, "  renew   due %s, lifetime %s\n", l.RenewalDue.Format("2006-01-02 15:04 UTC"), l.Lifetime)
		for _, why := range l.Reasons {
			for _, line := range wrapWords(strings.Fields(why), width-10) {
				fmt.Fprintf(w, "  why     %s\n", line)
			}
		}
		if len(r.Regions) > 0 && len(l.Served) == 0 {
			fmt.Fprintf(w, "  served  nowhere in %s\n", strings.Join(r.Regions, ", "))
		}
		for _, p := range l.Served {
			if p.Product != "" {
				fmt.Fprintf(w, "  served  %s\n", p.Target)
				continue
			}
			fmt.Fprintf(w, "  served  %s %s %s%s\n", p.Region, p.Target, p.Protocol, asMember(p))
		}
		for _, p := range l.Drift {
			fmt.Fprintf(w, "  drift   %s %s %s: %s until %s%s\n", p.Region, p.Target, p.Protocol, p.CertID, p.CertNotAfter.UTC().Format(time.DateOnly), asMember(p))
		}
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "%-8s  %s: could not be read: %s\n", Unknown, f.Where(), f.Error)
	}
	return nil
}

// wrap joins names with ", " into lines of at most max characters (a
// single longer name gets a line of its own).
func wrap(names []string, max int) []string {
	commas := make([]string, len(names))
	for i, n := range names {
		if i < len(names)-1 {
			n += ","
		}
		commas[i] = n
	}
	return wrapWords(commas, max)
}

// wrapWords joins words with spaces into lines of at most max characters.
func wrapWords(words []string, max int) []string {
	var lines []string
	line := ""
	for _, n := range words {
		switch {
		case line == "":
			line = n
		case len(line)+1+len(n) <= max:
			line += " " + n
		default:
			lines = append(lines, line)
			line = n
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// asMember says which member of a binding of several certificates a place
// is: " as the ECC member of CertA+CertB"; "" for a binding of one.
func asMember(p Place) string {
	if len(p.Members) < 2 {
		return ""
	}
	return fmt.Sprintf(" as the %s member of %s", cmp.Or(p.Algorithm, "unknown"), strings.Join(p.Members, "+"))
}
