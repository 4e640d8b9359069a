// Package clbopts turns the settings of package cli into the options of the
// CLB workflows, deploy and tune. It stands apart from package cli so that
// clbcert-dns, which uses cli, links no CLB code.
package clbopts

import (
	"fmt"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/deploy"
)

// Deploy is how lineageName is deployed: the regions of --region /
// CLBCERT_REGIONS, or else its [[deploy]] entry's; the entry's pinned
// targets; and keep from --keep where the command has it and it is set
// (--keep 0 keeps none), else from the entry (where 0 means the default).
// Both clbcert-deploy and clbcert-watch use it, so a lineage goes to the
// same targets however its renewal is noticed.
func Deploy(c *cli.Context, s *clbcli.Settings, lineageName string) (deploy.Options, error) {
	opts := deploy.Options{Regions: s.Regions, Logger: s.Logger}
	if clbcli.HasFlag(c, "keep") && c.IsSet("keep") {
		if opts.Keep = c.Int("keep"); opts.Keep < 0 {
			return opts, clbcli.Usagef("--keep %d: give 0 or more", opts.Keep)
		}
		if opts.Keep == 0 {
			// Zero in deploy.Options means the default.
			opts.Keep = deploy.KeepNone
		}
	}
	products, err := Products(c, s, lineageName)
	if err != nil {
		return opts, err
	}
	opts.Products = products
	entry, ok := s.File.DeployFor(lineageName)
	if ok {
		if len(entry.Regions) > 0 && !s.RegionsGiven {
			opts.Regions = entry.Regions
		}
		if opts.Keep == 0 {
			opts.Keep = entry.Keep
		}
		for _, raw := range entry.Targets {
			t, err := deploy.ParseTarget(raw)
			if err != nil {
				return opts, clbcli.UsageError{Err: fmt.Errorf("config file %s, [[deploy]] %s: %w", s.File.Path, entry.Lineage, err)}
			}
			opts.Targets = append(opts.Targets, t)
		}
	}
	return opts, nil
}
