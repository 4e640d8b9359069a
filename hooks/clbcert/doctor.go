package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tencent"
	"github.com/clbcert/clbcert/pkg/tune"
)

func doctorCommand(ctx context.Context) *cli.Command {
	flags := append(clbcli.CommonFlags(), clbcli.CertbotDirFlag())
	flags = append(flags, clbcli.DeployFlags()...)
	flags = append(flags, clbcli.ExpiryFlags()...)
	flags = append(flags,
		&cli.BoolFlag{Name: "fix", Usage: "apply the safe fixes through clbcert tune (with --dry-run: show them only), then check again"},
		&cli.DurationFlag{Name: "probe-timeout", Value: 5 * time.Second, Usage: "give each TLS handshake with a listener `DURATION`"},
	)
	return &cli.Command{
		Name:  "doctor",
		Usage: "audit load balancers and lineages: certificates, chains, keys, SNI, what clients get, TLS versions, health checks, backends",
		Description: fmt.Sprintf(`Reads the load balancers of the regions, validates certbot's lineages, shakes
   hands with every listener it can reach, and reports each problem with its
   severity, its place and the fix:

   - served certificates expired, not yet valid, or expiring: renewal overdue
     for their lifetime, as clbcert status judges (or --warn-days,
     --critical-days); local lineages whose chain does not link or whose key
     does not match (--certbot-dir; skipped if the default dir is absent)
   - an HTTPS listener without SNI whose certificate does not cover all its
     domains; an SNI domain whose certificate does not cover it
   - a TLS handshake with each listener (VIP:port, with the domain as SNI)
     that does not return the bound certificate, or a chain that does not
     link or lacks the leaf's issuer; a listener this host cannot reach is
     info only
   - HTTPS listeners that accept TLS below 1.2 (ssl_protocols of the load
     balancer's customized configuration, and a handshake offering TLS 1.1)
   - health checks off, on "/", counting 4xx/5xx as healthy, every more than
     %d s, waiting more than %d s, or with thresholds other than unhealthy %d /
     healthy %d
   - backends that fail their health check, rules and listeners without any
   - an older certificate of a lineage's names still bound on a product
     (CDN, EdgeOne, WAF, COS, ...) that clbcert-deploy does not update for
     it, with the products = [...] line that takes it in; and a missing SSL
     service role (SSL_QCSLinkedRoleInReplaceLoadCertificate), which finding
     and moving other products' resources needs, with how to grant it

      clbcert doctor --region ap-guangzhou
      clbcert doctor --region ap-guangzhou --fix --dry-run   # the safe fixes, as a diff
      clbcert doctor --region ap-guangzhou --fix             # apply them, check again

   --fix applies only what cannot break a working site: health check on,
   interval, timeout, thresholds, and ssl_protocols %s. A health check
   path or status codes the backends may not serve, SNI, certificates and
   backends are advised, never changed.

   Exit status, as monitoring plugins read it:
      0  OK        nothing above info
      1  WARNING   warnings, nothing critical
      2  CRITICAL  something critical; also a usage or configuration error
                   (the message on stderr says which)
      3  UNKNOWN   part of the cloud could not be read (the output lists
                   what and why), and nothing is critical
   With --fix the status is that of the check after the fixes.`,
			doctor.MaxInterval, doctor.MaxTimeout, doctor.UnhealthyThreshold, doctor.HealthyThreshold, strings.Join(doctor.SafeTLSProtocols(), " ")),
		Flags: flags,
		Action: noArgs("doctor", "give the regions with --region", func(c *cli.Context, s *clbcli.Settings) error {
			return runDoctor(ctx, c, s)
		}),
	}
}

func runDoctor(ctx context.Context, c *cli.Context, s *clbcli.Settings) error {
	fix, dryRun := c.Bool("fix"), c.Bool("dry-run")
	if dryRun && !fix {
		return clbcli.Usagef("--dry-run goes with --fix: doctor changes nothing without --fix")
	}
	if c.Duration("probe-timeout") <= 0 {
		return clbcli.Usagef("--probe-timeout %s: give a positive duration such as 5s", c.Duration("probe-timeout"))
	}
	regions := s.RegionsOrDeployed()
	if len(regions) == 0 {
		return clbcli.UsageError{Err: fmt.Errorf("nothing to audit: %w", tencent.ErrNoRegion)}
	}
	certbotDir := s.CertbotDir
	if !c.IsSet("certbot-dir") && s.File.CertbotDir == "" {
		// Doctor audits the cloud from any host; only a certbot dir asked
		// for must be there.
		if _, err := os.Stat(filepath.Join(certbotDir, "live")); err != nil {
			certbotDir = ""
		}
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	// Reading and tuning spend the same per-action budgets.
	cfg := cloud
	inv, err := inventory.New(cfg, inventory.Options{Fingerprints: true})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	products, err := lineageProducts(c, s, certbotDir)
	if err != nil {
		return err
	}
	certs, err := ssl.New(cfg, ssl.Options{Logger: s.Logger})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	d, err := doctor.New(doctor.Options{Regions: regions, CertbotDir: certbotDir, Rule: s.Rule, ProbeTimeout: c.Duration("probe-timeout"), Products: products}, inv, certs)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	rep, err := d.Examine(ctx)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	var fixErr error
	if fix {
		tn, err := tune.New(cfg, tune.Options{Logger: s.Logger})
		if err != nil {
			return clbcli.UsageError{Err: err}
		}
		fixed, err := d.Fix(ctx, rep, tn, dryRun)
		if fixed != nil {
			rep = fixed
		}
		fixErr = err
	}
	if err := writeReport(c, rep); err != nil {
		return err
	}
	if fixErr != nil {
		return fmt.Errorf("--fix: %w", fixErr)
	}
	if rep.ExitCode != 0 {
		return clbcli.ExitStatus(rep.ExitCode)
	}
	return nil
}
