package doctor

import (
	"time"

	"github.com/clbcert/clbcert/pkg/lineage"
)

// localLineage is a certbot lineage of the certbot dir and why it failed
// validation (nil if it passed).
type localLineage struct {
	dir string
	lin *lineage.Lineage
	err error
}

// loadLineages validates every lineage in certbotDir/live with
// lineage.Load, which checks that the chain links, the key matches the
// leaf, and the dates.
func loadLineages(certbotDir string, now time.Time) ([]localLineage, error) {
	dirs, err := lineage.LiveDirs(certbotDir)
	if err != nil {
		return nil, err
	}
	var out []localLineage
	for _, dir := range dirs {
		lin, err := lineage.Load(dir, now)
		out = append(out, localLineage{dir: dir, lin: lin, err: err})
	}
	return out, nil
}

// checkLineages reports each local lineage that fails validation: it would
// be refused at its next deployment.
func checkLineages(f *facts) []Finding {
	var out []Finding
	for _, l := range f.lineages {
		if l.err == nil {
			continue
		}
		out = append(out, Finding{Severity: Critical, Check: CheckLineage, Where: Where{Lineage: l.dir},
			Problem: l.err.Error() + " (clbcert-deploy refuses the lineage until then)",
			Fix:     "mend the lineage as the problem says, then deploy it: clbcert-deploy --lineage " + l.dir})
	}
	return out
}
