package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func pruneCommand(ctx context.Context) *cli.Command {
	flags := append(clbcli.CommonFlags(), clbcli.DeployFlags()...)
	flags = append(flags, &cli.IntFlag{Name: "keep", DefaultText: "2, or keep in [[deploy]]", Usage: "superseded uploads to keep per lineage besides the newest: `N` (0 keeps none)"})
	return &cli.Command{
		Name:      "prune",
		Usage:     "delete this tool's uploads that nothing uses any more, keeping the newest per lineage",
		ArgsUsage: "[LINEAGE...]",
		Description: `Deletes from the SSL service the uploads clbcert-deploy made of each lineage
   (alias clbcert/LINEAGE/…) that are not needed: the newest upload and the
   --keep newest superseded ones stay, and so does every upload that a load
   balancer in the regions uses or that a recorded rollback would put back.
   clbcert-deploy prunes the same way after each deployment.

      clbcert prune --dry-run                 # every lineage in the state dir
      clbcert prune --keep 0 example.com

   LINEAGE is the directory name under certbot's live/ (options go before
   it); without one, every lineage recorded in the state dir. The regions
   looked at are those of --region (or CLBCERT_REGIONS, or the config file)
   and every region deploy recorded a target in.

   Exit status: 0 done (or nothing to prune), 1 a lineage could not be
   pruned (the message says why), 2 usage or configuration error.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if err := flagsFirst(c, "prune", "the lineage", "LINEAGE"); err != nil {
				return err
			}
			return runPrune(ctx, c)
		},
	}
}

func runPrune(ctx context.Context, c *cli.Context) error {
	s, st, recorded, err := openRecorded(c)
	if err != nil {
		return err
	}
	var names []string
	for _, a := range c.Args().Slice() {
		names = append(names, filepath.Base(filepath.Clean(a)))
	}
	if len(names) == 0 {
		names = recorded
	}
	rep := &deploy.PruneReport{DryRun: c.Bool("dry-run"), Lineages: []deploy.PruneResult{}}
	if len(names) == 0 {
		return writeReport(c, rep)
	}
	inState, err := deploy.RecordedRegions(st, recorded...)
	if err != nil {
		return err
	}
	rep.Regions = slices.Clone(s.Regions)
	for _, r := range inState {
		if !slices.Contains(rep.Regions, r) {
			rep.Regions = append(rep.Regions, r)
		}
	}
	if len(rep.Regions) == 0 {
		return clbcli.UsageError{Err: fmt.Errorf("cannot check that nothing uses the uploads of %s: %w", strings.Join(names, ", "), tencent.ErrNoRegion)}
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	// One limiter for all lineages: they share the account's limits.
	cfg := cloud
	prune := func(name string, dryRun bool) (deploy.PruneResult, error) {
		// Each lineage keeps what its [[deploy]] entry says unless --keep is given.
		opts, err := clbopts.Deploy(c, s, name)
		if err != nil {
			return deploy.PruneResult{}, err
		}
		opts.Regions, opts.Targets, opts.DryRun = rep.Regions, nil, dryRun
		d, err := deploy.New(cfg, st, opts)
		if err != nil {
			return deploy.PruneResult{}, clbcli.UsageError{Err: err}
		}
		// The lineage's error is in its result, which rep.Err reports.
		one, _ := d.Prune(ctx, []string{name})
		return one.Lineages[0], nil
	}
	// A lineage neither recorded nor uploaded is a typo: refused, as by
	// rollback, before anything is deleted.
	for _, name := range names {
		if slices.Contains(recorded, name) {
			continue
		}
		l, err := prune(name, true)
		if err != nil {
			return err
		}
		if l.Error == "" && len(l.Kept)+len(l.Deleted) == 0 {
			known := "none"
			if len(recorded) > 0 {
				known = strings.Join(recorded, ", ")
			}
			return clbcli.Usagef("no upload of %s is recorded in %s or found in the SSL service (recorded: %s): name the lineage as under live/, or give the --state-dir clbcert-deploy used", name, st.Dir(), known)
		}
	}
	for _, name := range names {
		l, err := prune(name, c.Bool("dry-run"))
		if err != nil {
			return err
		}
		rep.Lineages = append(rep.Lineages, l)
	}
	if err := writeReport(c, rep); err != nil {
		return err
	}
	return rep.Err()
}
