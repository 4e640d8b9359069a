// Command clbcert-watch is the service that deploys certbot's renewals on
// hosts where certbot runs without a deploy hook: it watches certbot's
// live/ directory and deploys each lineage whose leaf changed, with the
// same engine as clbcert-deploy.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/internal/version"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
	"github.com/clbcert/clbcert/pkg/watch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first SIGTERM lets the deployment in flight finish; restoring the
	// default makes a second one end the process at once (a deployment cut
	// short is finished by the next one).
	go func() { <-ctx.Done(); stop() }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := clbcli.Run(app(ctx, hup, os.Stdout, os.Stderr), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

const (
	flagMetricsListen = "metrics-listen"
	flagQuietPeriod   = "quiet-period"
	flagRetryMin      = "retry-min"
	flagRetryMax      = "retry-max"
	flagLogLevel      = "log-level"
)

// app is the command; hup delivers SIGHUP, which reloads the configuration.
func app(ctx context.Context, hup <-chan os.Signal, stdout, stderr io.Writer) *cli.App {
	// Of DeployFlags only --region: --dry-run would record lineages as
	// deployed that were not, and the reports go to the journal as text.
	flags := append(clbcli.CommonFlags(),
		clbcli.RegionFlag(),
		clbcli.CertbotDirFlag(),
		clbcli.NotifyFlag(),
		clbcli.DeployGraceFlag(),
		&cli.StringFlag{Name: flagMetricsListen, EnvVars: []string{"CLBCERT_METRICS_LISTEN"}, Usage: "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9419) at /metrics"},
		&cli.DurationFlag{Name: flagQuietPeriod, EnvVars: []string{"CLBCERT_QUIET_PERIOD"}, Value: 2 * time.Second, Usage: "act on a lineage once it has not changed for `DURATION`"},
		&cli.DurationFlag{Name: flagRetryMin, Value: 10 * time.Second, Usage: "first wait before retrying a failed deployment; it doubles per failure"},
		&cli.DurationFlag{Name: flagRetryMax, Value: 10 * time.Minute, Usage: "longest wait between retries of a failed deployment"},
	)
	return &cli.App{
		Name:    "clbcert-watch",
		Version: version.Version,
		Usage:   "deploy certbot lineages to Tencent Cloud CLB as soon as certbot renews them",
		Description: `Runs as a service (scripts/systemd/clbcert-watch.service):

      clbcert-watch --region ap-guangzhou

   It watches certbot's live/ directory and each live/NAME/ with inotify, so
   it notices every renewal — by certbot's timer, by hand, by another tool —
   without a deploy hook. Once a lineage has been quiet for the quiet period
   with none of certbot's previous_*.pem backup links left and its key
   matches its leaf, it is deployed as clbcert-deploy would deploy it, if
   its leaf differs from the one last deployed (kept in the state dir). At
   start every lineage is checked, so renewals made while the service was
   down are deployed too. A failed deployment is retried with a growing
   wait, and reported in the log and the metrics, until it succeeds. Its
   first failure, and the success that ends it, are sent to the config
   file's [[notify]] webhooks and each --notify URL.

   The metrics (--metrics-listen) give per lineage its expiry, renewal due
   and level (as clbcert status judges it, a renewal waiting for its
   deployment included: WARNING within --deploy-grace, CRITICAL after) and
   per target whether it serves the current certificate;
   scripts/monitoring/alerts.yml has alert rules for them.

   SIGHUP reloads the config file, credentials and webhooks and checks every lineage
   again. SIGTERM lets the deployment in flight finish, then exits; a second
   SIGTERM exits at once.

   Exit status: 0 stopped by a signal, 1 watching became impossible (an
   inotify limit: the message names the sysctl to raise), 2 usage or
   configuration error.`,
		HideHelpCommand: true,
		Flags:           flags,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clbcli.Usagef("clbcert-watch takes no arguments: give certbot's config dir with --certbot-dir DIR")
			}
			return run(ctx, c, hup, stdout, stderr)
		},
	}
}

func run(ctx context.Context, c *cli.Context, hup <-chan os.Signal, stdout, stderr io.Writer) error {
	quiet, retryMin, retryMax := c.Duration(flagQuietPeriod), c.Duration(flagRetryMin), c.Duration(flagRetryMax)
	if quiet <= 0 || retryMin <= 0 || retryMax < retryMin {
		return clbcli.Usagef("--quiet-period %s, --retry-min %s, --retry-max %s: give positive durations, --retry-max at least --retry-min", quiet, retryMin, retryMax)
	}
	s, dep, err := load(ctx, c, stdout, stderr)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w, err := watch.New(watch.Options{
		CertbotDir: s.CertbotDir,
		Deployer:   dep,
		Store:      dep.store,
		Quiet:      quiet,
		RetryMin:   retryMin,
		RetryMax:   retryMax,
		Registerer: reg,
		Rule:       s.Rule,
		Notifier:   dep.notifier,
		Logger:     s.Logger,
	})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	if addr := c.String(flagMetricsListen); addr != "" {
		url, shutdown, err := serveMetrics(addr, reg)
		if err != nil {
			return err
		}
		defer shutdown()
		s.Logger.Info("serving metrics", "url", url)
	}

	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-loopCtx.Done():
				return
			case <-hup:
			}
			ns, nd, err := load(loopCtx, c, stdout, stderr)
			if err != nil {
				s.Logger.Error("SIGHUP: the new configuration is refused; keeping the previous one", "err", err)
				continue
			}
			ns.Logger.Info("SIGHUP: reloading the configuration", "config", ns.File.Path)
			if err := w.Reload(loopCtx, nd, nd.notifier); err != nil {
				return
			}
		}
	}()
	err = w.Run(ctx)
	cancel()
	wg.Wait()
	return err
}

// load resolves the settings and builds the deployer from them: at start
// and again on SIGHUP.
func load(ctx context.Context, c *cli.Context, stdout, stderr io.Writer) (*clbcli.Settings, *cloudDeployer, error) {
	s, err := clbcli.Resolve(c, stderr)
	if err != nil {
		return nil, nil, err
	}
	if !c.IsSet(flagLogLevel) && s.File.LogLevel == "" {
		// A service's journal is read after the fact: say what was deployed.
		if s.Logger, err = clbcli.NewLogger(stderr, "info"); err != nil {
			return nil, nil, clbcli.UsageError{Err: err}
		}
	}
	dep, err := newCloudDeployer(ctx, c, s, stdout)
	if err != nil {
		return nil, nil, err
	}
	return s, dep, nil
}

// cloudDeployer deploys a lineage as clbcert-deploy does, with the lineage's
// [[deploy]] entry where it has one.
type cloudDeployer struct {
	cfg     tencent.Config
	store   *store.Store
	base    deploy.Options
	pinned  map[string]deploy.Options
	reports io.Writer
	mu      sync.Mutex // one report at a time on reports
	// notifier tells of failures, with this configuration's webhooks and
	// keeping its API key out of every message.
	notifier *notify.Notifier
}

func newCloudDeployer(ctx context.Context, c *cli.Context, s *clbcli.Settings, reports io.Writer) (*cloudDeployer, error) {
	d := &cloudDeployer{
		base:    deploy.Options{Regions: s.Regions, Logger: s.Logger},
		pinned:  map[string]deploy.Options{},
		reports: reports,
	}
	anyRegions := len(s.Regions) > 0
	for _, entry := range s.File.Deploy {
		opts, err := clbopts.Deploy(c, s, entry.Lineage)
		if err != nil {
			return nil, err
		}
		anyRegions = anyRegions || len(opts.Regions) > 0
		d.pinned[entry.Lineage] = opts
	}
	if !anyRegions {
		return nil, clbcli.UsageError{Err: tencent.ErrNoRegion}
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	// One limiter for every deploy of the watcher: lineages deployed at once
	// share the account's per-action rate limits.
	d.cfg = cloud
	if d.notifier, err = s.Notifier(cloud.Credential.GetSecretKey(), cloud.Credential.GetToken()); err != nil {
		return nil, err
	}
	if d.store, err = store.Open(s.StateDir); err != nil {
		return nil, clbcli.UsageError{Err: err}
	}
	return d, nil
}

// Deploy deploys lin and writes the report, which the journal keeps.
func (d *cloudDeployer) Deploy(ctx context.Context, lin *lineage.Lineage) (watch.Served, error) {
	opts, ok := d.pinned[lin.Name]
	if !ok {
		opts = d.base
	}
	dep, err := deploy.New(d.cfg, d.store, opts)
	if err != nil {
		return nil, err
	}
	rep, err := dep.Deploy(ctx, lin)
	if errors.Is(err, deploy.ErrNoTarget) {
		// Nothing on CLB serves the lineage's names. The watcher goes over
		// every lineage at start, and certbot may keep some for other uses:
		// that is no failure to retry or alarm on, and nothing is uploaded;
		// the warning says how to pin targets. Tested by
		// TestLineageWithoutTargetIsNoFailure.
		d.base.Logger.Warn("nothing deployed", "lineage", lin.Name, "reason", err.Error())
		return nil, nil
	}
	if rep == nil {
		return nil, err
	}
	d.mu.Lock()
	werr := rep.WriteTable(d.reports)
	d.mu.Unlock()
	if err == nil {
		err = werr
	}
	served := watch.Served{}
	for _, t := range rep.Targets {
		served[t.String()] = t.Status == deploy.StatusUpdated || t.Status == deploy.StatusUnchanged
	}
	return served, err
}

// serveMetrics serves reg on addr until shutdown is called.
func serveMetrics(addr string, reg *prometheus.Registry) (url string, shutdown func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--metrics-listen %s: %w: pick a free address, e.g. 127.0.0.1:9419", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/metrics", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
