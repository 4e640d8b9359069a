package config

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/deploy"
)

// DeployOptions is how lineageName is deployed: the regions of --region /
// CLBCERT_REGIONS, or else its [[deploy]] entry's; the entry's pinned
// targets; and keep from --keep where the command has it and it is set
// (--keep 0 keeps none), else from the entry (where 0 means the default);
// and the products (Settings.Products). Both clbcert-deploy and clbcert-watch use it, so a lineage
// goes to the same targets however its renewal is noticed.
func (s *Settings) DeployOptions(c *cli.Context, lineageName string) (deploy.Options, error) {
	opts := deploy.Options{Regions: s.Regions, Logger: s.Logger}
	if hasFlag(c, "keep") && c.IsSet("keep") {
		if opts.Keep = c.Int("keep"); opts.Keep < 0 {
			return opts, Usagef("--keep %d: give 0 or more", opts.Keep)
		}
		if opts.Keep == 0 {
			// Zero in deploy.Options means the default.
			opts.Keep = deploy.KeepNone
		}
	}
	products, err := s.Products(c, lineageName)
	if err != nil {
		return opts, err
	}
	opts.Products = products
	entry, ok := s.File.DeployFor(lineageName)
	if ok {
		if len(entry.Regions) > 0 && !c.IsSet(flagRegion) {
			opts.Regions = entry.Regions
		}
		if opts.Keep == 0 {
			opts.Keep = entry.Keep
		}
		for _, raw := range entry.Targets {
			t, err := deploy.ParseTarget(raw)
			if err != nil {
				return opts, UsageError{fmt.Errorf("config file %s, [[deploy]] %s: %w", s.File.Path, entry.Lineage, err)}
			}
			opts.Targets = append(opts.Targets, t)
		}
	}
	return opts, nil
}

// RegionsOrDeployed is where the commands that only look (status, doctor)
// look: the regions of --region, CLBCERT_REGIONS or the file's regions, or
// else every region a [[deploy]] entry deploys to.
func (s *Settings) RegionsOrDeployed() []string {
	if len(s.Regions) > 0 {
		return s.Regions
	}
	var out []string
	for _, d := range s.File.Deploy {
		for _, r := range d.Regions {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}
