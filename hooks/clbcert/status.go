package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/metrics"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/status"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func statusCommand(ctx context.Context) *cli.Command {
	flags := append(clbcli.CommonFlags(), clbcli.CertbotDirFlag(), clbcli.RegionFlag(), clbcli.JSONFlag())
	flags = append(flags, clbcli.ExpiryFlags()...)
	flags = append(flags, clbcli.DeployGraceFlag(), clbcli.NotifyLevelFlag(),
		&cli.StringFlag{Name: "prometheus", Usage: "also write the per-lineage metrics clbcert-watch serves to `FILE` (e.g. /var/lib/node_exporter/textfile/clbcert.prom), atomically, for node_exporter's textfile collector"})
	return &cli.Command{
		Name:  "status",
		Usage: "per certbot lineage: names, expiry, renewal due, level, where it is served and where an older certificate still is (drift)",
		Description: `For each lineage in certbot's live/ directory: its names, expiry, days left,
   lifetime, when certbot renews it and the level with the reason in words,
   and — with --region, CLBCERT_REGIONS or regions in the config file — every
   listener and SNI domain whose certificate has this lineage's fingerprint
   (served), and every one that still serves an older certificate whose names
   the lineage covers (drift: a deployment missed it). A lineage whose
   products (config file: products) go beyond CLB is also looked for on
   those: every CDN domain, EdgeOne host, WAF domain, ... that holds its
   certificate is listed as served. Read-only.

      clbcert status --region ap-guangzhou
      clbcert status --json        # a stable document for scripts

   Levels follow each lineage's lifetime L, as certbot renews: the renewal is
   due at R = notAfter - renew_before_expiry (renewal/NAME.conf), else at 2/3
   of L (1/2 under 10 days). A 6-day, 45-day or 90-day certificate is OK all
   its life while renewals work.

   Exit status, as monitoring plugins (Nagios, Icinga, Zabbix) read it:
      0  OK        every lineage valid, renewed in time, no drift
      1  WARNING   a renewal is overdue: R + min(L/10, 3 days) has passed (with
                   --warn-days: that many days left or fewer); or drift younger
                   than --deploy-grace (default 1h) after the renewal
      2  CRITICAL  half of the renewal window notAfter - R is gone (with
                   --critical-days: that many days left or fewer); the lineage
                   fails validation; drift older than --deploy-grace; also a
                   usage or configuration error (the message on stderr says
                   which)
      3  UNKNOWN   a region, load balancer or certificate could not be read
                   (the output names it and why), and nothing is critical
   A known CRITICAL outranks UNKNOWN: part of the cloud being unreadable does
   not hide an expiring certificate.

   From cron, on hosts that run certbot's timer and no clbcert-watch:

      clbcert status --notify --prometheus /var/lib/node_exporter/textfile/clbcert.prom

   --notify tells the config file's [[notify]] webhooks about each lineage
   whose level got worse than at its last notification (kept in the state
   dir, so an hourly job does not repeat itself); --prometheus writes the
   metrics of scripts/monitoring/alerts.yml. Neither changes the exit status.`,
		Flags: flags,
		Action: noArgs("status", "give certbot's config dir with --certbot-dir DIR", func(c *cli.Context, s *clbcli.Settings) error {
			return runStatus(ctx, c, s)
		}),
	}
}

func runStatus(ctx context.Context, c *cli.Context, s *clbcli.Settings) error {
	regions := s.RegionsOrDeployed()
	// The state dir is optional here (nil st): without it, nothing recorded is looked at
	// and --notify cannot remember what it told.
	st, stErr := store.Open(s.StateDir)
	products, err := otherProducts(c, s, st)
	if err != nil {
		return err
	}
	var inv *inventory.Client
	var certs *ssl.Client
	var secrets []string
	if len(regions) > 0 || len(products) > 0 {
		cloud, err := s.Cloud(ctx)
		if err != nil {
			return err
		}
		secrets = []string{cloud.Credential.GetSecretKey(), cloud.Credential.GetToken()}
		if inv, err = inventory.New(cloud, inventory.Options{Fingerprints: true}); err != nil {
			return clbcli.UsageError{Err: err}
		}
		if certs, err = ssl.New(cloud, ssl.Options{Logger: s.Logger}); err != nil {
			return clbcli.UsageError{Err: err}
		}
	}
	opts := status.Options{CertbotDir: s.CertbotDir, Regions: regions, Rule: s.Rule, Products: products}
	if len(products) > 0 && st != nil {
		// Without a state dir, the certificates CLB serves are all there is
		// to look for.
		opts.Uploads = func(name, fingerprint string) ([]string, error) { return deploy.RecordedUploads(st, name, fingerprint) }
	}
	checker, err := status.New(opts, inv, certs)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	rep, err := checker.Check(ctx)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	if err := writeReport(c, rep); err != nil {
		return err
	}
	if len(rep.Regions) == 0 && !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "served and drift not checked: %s\n", clbcli.Hint(tencent.ErrNoRegion))
	}
	if path := c.String("prometheus"); path != "" {
		certs := metrics.New(s.Rule, func() time.Time { return rep.CheckedAt })
		for _, l := range rep.Metrics() {
			certs.Set(l)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(certs)
		if err := metrics.WriteTextfile(path, reg); err != nil {
			s.Logger.Error("--prometheus: the metrics were not written", "err", err)
		}
	}
	if c.Bool("notify") {
		if stErr != nil {
			s.Logger.Error("--notify: the state dir cannot be opened: nothing notified", "err", stErr)
		} else {
			notifyWorse(ctx, s, st, rep, secrets)
		}
	}
	if rep.ExitCode != 0 {
		return clbcli.ExitStatus(rep.ExitCode)
	}
	return nil
}

// lineageProducts maps each lineage in certbotDir's live/ to its products
// (config file: products).
func lineageProducts(c *cli.Context, s *clbcli.Settings, certbotDir string) (map[string][]string, error) {
	out := map[string][]string{}
	dirs, err := lineage.LiveDirs(certbotDir)
	if certbotDir == "" || err != nil {
		// The commands report an unreadable live/ themselves.
		return out, nil
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if out[name], err = clbopts.Products(c, s, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// otherProducts maps each lineage in certbot's live/ whose products go
// beyond CLB to those other products: the configured ones, and those its
// deployments recorded in the state dir (a hook run with --product leaves
// no trace in the config file).
func otherProducts(c *cli.Context, s *clbcli.Settings, st *store.Store) (map[string][]string, error) {
	all, err := lineageProducts(c, s, s.CertbotDir)
	if err != nil {
		return nil, err
	}
	if st != nil {
		for name, products := range all {
			recorded, err := deploy.RecordedProducts(st, name)
			if err != nil {
				return nil, clbcli.UsageError{Err: err}
			}
			for _, p := range recorded {
				if !slices.Contains(products, p) {
					all[name] = append(all[name], p)
				}
			}
		}
	}
	out := map[string][]string{}
	for name, products := range all {
		if others := slices.DeleteFunc(products, func(p string) bool { return p == "clb" }); len(others) > 0 {
			out[name] = others
		}
	}
	return out, nil
}

// notifyWorse tells the [[notify]] webhooks of the lineages whose level got
// worse since their last notification, and remembers the levels. What
// fails here is logged: the exit status is the report's. secrets (the API key, when the
// cloud was asked) never reach a message.
func notifyWorse(ctx context.Context, s *clbcli.Settings, st *store.Store, rep *status.Report, secrets []string) {
	n, err := s.Notifier(secrets...)
	if err != nil {
		s.Logger.Error("--notify: nothing notified", "err", err)
		return
	}
	ledger := notify.NewLedger(st)
	subject := func(name string) string { return "status " + name }
	var subjects []string
	for _, l := range rep.Lineages {
		subjects = append(subjects, subject(l.Name))
	}
	recorded, err := ledger.LastOf(subjects...)
	if err != nil {
		s.Logger.Error("--notify: what was notified before cannot be read: nothing notified", "err", err)
		return
	}
	last := map[string]level.Level{}
	for _, l := range rep.Lineages {
		last[l.Name] = recorded[subject(l.Name)]
	}
	msgs, next := rep.Worse(last)
	for _, m := range msgs {
		if err := n.Notify(ctx, m); err != nil {
			// Not told (the notifier logged why): the next run tells it again,
			// rather than the alarm being lost until the level gets worse still.
			next[m.Lineage] = last[m.Lineage]
		}
	}
	levels := map[string]level.Level{}
	for name, lv := range next {
		levels[subject(name)] = lv
	}
	if err := ledger.RecordAll(ctx, levels); err != nil {
		s.Logger.Error("--notify: the levels notified were not recorded: the next run may repeat them", "err", err)
	}
}
