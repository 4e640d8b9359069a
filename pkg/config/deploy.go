package config

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/deploy"
)

// DeployOptions is how lineageName is deployed: the regions of --region /
// CLBCERT_REGIONS, or else its [[deploy]] entry's; the entry's pinned
// targets; and keep from --keep where the command has it and it is set, else
// from the entry. Both clbcert-deploy and clbcert-watch use it, so a lineage
// goes to the same targets however its renewal is noticed.
func (s *Settings) DeployOptions(c *cli.Context, lineageName string) (deploy.Options, error) {
	opts := deploy.Options{Regions: s.Regions, Logger: s.Logger}
	if hasFlag(c, "keep") {
		opts.Keep = c.Int("keep")
	}
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
	if opts.Keep < 0 {
		return opts, Usagef("--keep %d: give 0 or more", opts.Keep)
	}
	return opts, nil
}
