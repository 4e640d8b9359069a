package tune

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/clbcert/clbcert/pkg/plural"
)

// WriteDiff prints the plan for a person: per target the fields that
// change, "- name before" then "+ name after", how a TLS change is made,
// then what is skipped, refused or unreadable, and a summary line ("nothing
// to change" when there is nothing).
func (p *Plan) WriteDiff(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, c := range p.Changes {
		fmt.Fprintln(bw, c.Where())
		for _, f := range c.Fields {
			fmt.Fprintf(bw, "  - %s %s\n", f.Name, f.Before)
			fmt.Fprintf(bw, "  + %s %s\n", f.Name, f.After)
		}
		if c.Config != nil {
			fmt.Fprintf(bw, "    via: %s\n", describeConfigChange(c.LoadBalancerID, c.Config))
		}
	}
	p.writeNotes(bw)
	lbs := map[string]bool{}
	for _, c := range p.Changes {
		lbs[c.LoadBalancer().Key()] = true
	}
	switch {
	case len(p.Refused) > 0:
		fmt.Fprintf(bw, "refused: other settings are needed first on %s; nothing will be changed\n", plural.Of(len(p.Refused), "target"))
	case p.Empty():
		fmt.Fprintf(bw, "nothing to change (%d already as wanted)\n", p.Unchanged)
	default:
		fmt.Fprintf(bw, "%s on %s; %d already as wanted\n", plural.Of(len(p.Changes), "change"), plural.Of(len(lbs), "load balancer"), p.Unchanged)
	}
	return bw.Flush()
}

func (p *Plan) writeNotes(w io.Writer) {
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Target, s.Reason)
	}
	for _, r := range p.Refused {
		fmt.Fprintf(w, "refused %s: %s\n", r.Target, r.Reason)
	}
	for _, f := range p.Failures {
		fmt.Fprintf(w, "unreadable %s: %s\n", f.Where(), f.Error)
	}
}

// WriteText prints, per change, what changed or why it failed (the error
// says what to do), then a summary line.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	changed := 0
	for _, res := range r.Results {
		if res.Status == StatusChanged {
			changed++
			fields := make([]string, len(res.Fields))
			for i, f := range res.Fields {
				fields[i] = fmt.Sprintf("%s %s → %s", f.Name, f.Before, f.After)
			}
			fmt.Fprintf(bw, "changed %s: %s\n", res.Where(), strings.Join(fields, "; "))
			continue
		}
		fmt.Fprintf(bw, "FAILED  %s: %s\n", res.Where(), res.Error)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(bw, "unreadable %s: %s (left unchanged)\n", f.Where(), f.Error)
	}
	fmt.Fprintf(bw, "%d changed, %d failed\n", changed, len(r.Results)-changed)
	return bw.Flush()
}
