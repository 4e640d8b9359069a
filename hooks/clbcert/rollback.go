package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/deploy"
)

func rollbackCommand(ctx context.Context) *cli.Command {
	// No --region: rollback works where deploy did, in the regions the
	// state dir records.
	flags := append(clbcli.CommonFlags(), clbcli.DryRunFlag(), clbcli.JSONFlag())
	return &cli.Command{
		Name:      "rollback",
		Usage:     "put back, on every target of a lineage's last deploy (and every resource of other products it moved), the certificate it had before",
		ArgsUsage: "LINEAGE",
		Description: `clbcert-deploy records, in the state dir (deploy-LINEAGE.json), the
   certificate each target served before it changed it. Rollback binds that
   certificate again on every such target, one CLB task at a time per load
   balancer, awaits each task and verifies the result as a deploy does
   (CLB's description, and a TLS handshake where the listener is reachable).

      clbcert rollback --dry-run example.com     # the plan; nothing changes
      clbcert rollback example.com

   LINEAGE is the directory name under certbot's live/; options go before
   it. A second rollback has nothing to do: to go forward again, run
   clbcert-deploy. Nothing changes if a certificate to put back is gone from
   the SSL service or has expired. A target someone has changed since the
   deploy is left as it is. Resources of other products (CDN domains,
   EdgeOne hosts, WAF domains, ...) that the deploy moved (products) are
   moved back through the SSL service.

   Exit status: 0 done (or nothing to roll back), 1 failed (the report names
   each failed target; running again finishes the job), 2 usage or
   configuration error, or refused (nothing changed).`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if err := flagsFirst(c, "rollback", "the lineage", "LINEAGE"); err != nil {
				return err
			}
			if c.NArg() != 1 {
				return clbcli.Usagef("clbcert rollback takes one lineage: the directory name under live/, e.g. clbcert rollback example.com")
			}
			return runRollback(ctx, c, filepath.Base(filepath.Clean(c.Args().First())))
		},
	}
}

func runRollback(ctx context.Context, c *cli.Context, name string) error {
	s, st, recorded, err := openRecorded(c)
	if err != nil {
		return err
	}
	if !slices.Contains(recorded, name) {
		known := "none"
		if len(recorded) > 0 {
			known = strings.Join(recorded, ", ")
		}
		return clbcli.Usagef("no deployment of %s is recorded in %s (recorded: %s): name the lineage as under live/, or give the --state-dir clbcert-deploy used", name, st.Dir(), known)
	}
	regions, err := deploy.RecordedRegions(st, name)
	if err != nil {
		return err
	}
	products, err := deploy.RecordedProducts(st, name)
	if err != nil {
		return err
	}
	if len(regions) > 0 {
		products = append(products, "clb")
	}
	if len(products) == 0 {
		rep := deploy.NothingToRollBack(name)
		rep.DryRun = c.Bool("dry-run")
		return writeReport(c, rep)
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	d, err := deploy.New(cloud, st, deploy.Options{Regions: regions, Products: products, DryRun: c.Bool("dry-run"), Logger: s.Logger})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	rep, err := d.Rollback(ctx, name)
	if errors.Is(err, deploy.ErrRefused) {
		return clbcli.UsageError{Err: err}
	}
	if rep == nil {
		return err
	}
	if werr := writeReport(c, rep); werr != nil {
		return werr
	}
	return err
}
