package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/status"
)

func statusCommand(ctx context.Context) *cli.Command {
	flags := append(config.CommonFlags(), config.CertbotDirFlag(), config.RegionFlag(), config.JSONFlag())
	flags = append(flags, config.ExpiryFlags()...)
	return &cli.Command{
		Name:  "status",
		Usage: "per certbot lineage: names, expiry, where it is served and where an older certificate still is (drift)",
		Description: `For each lineage in certbot's live/ directory: its names, expiry and days left,
   and — with --region, CLBCERT_REGIONS or regions in the config file — every
   listener and SNI domain whose certificate has this lineage's fingerprint
   (served), and every one that still serves an older certificate whose names
   the lineage covers (drift: a deployment missed it). Read-only.

      clbcert status --region ap-guangzhou
      clbcert status --json        # a stable document for scripts

   Exit status, as monitoring plugins (Nagios, Icinga, Zabbix) read it:
      0  OK        every lineage valid, more than --warn-days days left, no drift
      1  WARNING   a lineage has --warn-days days left or fewer (default 30)
      2  CRITICAL  a lineage has --critical-days days left or fewer (default 7),
                   fails validation, or has drift; also a usage or
                   configuration error (the message on stderr says which)
      3  UNKNOWN   a region, load balancer or certificate could not be read
                   (the output names it and why), and nothing is critical
   A known CRITICAL outranks UNKNOWN: part of the cloud being unreadable does
   not hide an expiring certificate.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return config.Usagef("clbcert status takes no arguments: give certbot's config dir with --certbot-dir DIR")
			}
			return runStatus(ctx, c)
		},
	}
}

func runStatus(ctx context.Context, c *cli.Context) error {
	s, err := config.Resolve(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	regions := s.RegionsOrDeployed()
	var inv *inventory.Client
	if len(regions) > 0 {
		cloud, err := s.Cloud(ctx)
		if err != nil {
			return err
		}
		cfg := cloud
		if inv, err = inventory.New(cfg, inventory.Options{Fingerprints: true}); err != nil {
			return config.UsageError{Err: err}
		}
	}
	checker, err := status.New(status.Options{CertbotDir: s.CertbotDir, Regions: regions, WarnDays: s.WarnDays, CriticalDays: s.CriticalDays}, inv)
	if err != nil {
		return config.UsageError{Err: err}
	}
	rep, err := checker.Check(ctx)
	if err != nil {
		return config.UsageError{Err: err}
	}
	if err := writeReport(c, rep); err != nil {
		return err
	}
	if rep.ExitCode != 0 {
		return config.ExitStatus(rep.ExitCode)
	}
	return nil
}
