// Command clbcert-deploy puts a renewed certbot lineage onto every CLB
// listener and SNI domain that should serve it. certbot runs it as
// --deploy-hook (RENEWED_LINEAGE); a person runs it with --lineage DIR.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/internal/version"
	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := config.Run(app(ctx, os.Stdout, os.Stderr), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

func app(ctx context.Context, stdout, stderr io.Writer) *cli.App {
	flags := append(config.CommonFlags(), config.DeployFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "lineage", Usage: "certbot lineage `DIR` (live/NAME); default: $RENEWED_LINEAGE, which certbot sets for deploy hooks"},
		&cli.IntFlag{Name: "keep", DefaultText: "2, or keep in [[deploy]]", Usage: "superseded uploads of the lineage to keep: `N` (0 keeps none)"},
	)
	return &cli.App{
		Name:    "clbcert-deploy",
		Version: version.Version,
		Usage:   "deploy a certbot lineage to Tencent Cloud CLB listeners and SNI domains",
		Description: `Run by certbot after each renewal:

      certbot renew --deploy-hook 'clbcert-deploy --region ap-guangzhou'

   or by hand:

      clbcert-deploy --lineage /etc/letsencrypt/live/example.com --region ap-guangzhou --dry-run

   The lineage is checked first (key matches leaf, chain links, dates, names);
   a bad one is refused before any call that changes something. Then the
   certificate is uploaded to the SSL service once (deduplicated by
   fingerprint) and bound to every HTTPS, TCP_SSL and QUIC listener and SNI
   domain whose current certificate's names it covers — or to the targets
   pinned in the config file's [[deploy]] entry. Each CLB task is awaited,
   the result checked by describing it again and by a TLS handshake where
   the listener is reachable, and superseded uploads that nothing uses are
   pruned. Running it again after any failure finishes the job.

   Exit status: 0 done, 1 failed (the report names each failed target),
   2 usage or configuration error (nothing changed).`,
		HideHelpCommand: true,
		Flags:           flags,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return config.Usagef("clbcert-deploy takes no arguments: give the lineage with --lineage DIR")
			}
			return run(ctx, c, stdout, stderr)
		},
	}
}

func run(ctx context.Context, c *cli.Context, stdout, stderr io.Writer) error {
	s, err := config.Resolve(c, stderr)
	if err != nil {
		return err
	}
	dir := c.String("lineage")
	if dir == "" {
		dir = os.Getenv("RENEWED_LINEAGE")
	}
	if dir == "" {
		return config.Usagef("no lineage: pass --lineage /etc/letsencrypt/live/NAME, or run as certbot's --deploy-hook (it sets RENEWED_LINEAGE)")
	}
	lin, err := lineage.Load(dir, time.Now())
	if err != nil {
		if errors.Is(err, lineage.ErrInvalid) {
			return config.UsageError{Err: fmt.Errorf("refusing to deploy: %w", err)}
		}
		return err
	}
	if renewed := strings.Fields(os.Getenv("RENEWED_DOMAINS")); c.String("lineage") == "" && len(renewed) > 0 {
		if missing := lineage.Uncovered(lin.Names(), renewed); len(missing) > 0 {
			s.Logger.Warn("RENEWED_DOMAINS names what the lineage does not cover", "missing", missing)
		}
	}
	opts, err := s.DeployOptions(c, filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return err
	}
	opts.DryRun = c.Bool("dry-run")
	cred, err := s.Credential(ctx)
	if err != nil {
		return err
	}
	st, err := store.Open(s.StateDir)
	if err != nil {
		return config.UsageError{Err: err}
	}
	d, err := deploy.New(tencent.Config{Credential: cred, Endpoint: s.Endpoint, Logger: s.Logger}, st, opts)
	if err != nil {
		return config.UsageError{Err: err}
	}
	rep, err := d.Deploy(ctx, lin)
	if errors.Is(err, deploy.ErrRefused) {
		return config.UsageError{Err: err}
	}
	if rep != nil {
		if c.Bool("json") {
			if werr := rep.WriteJSON(stdout); werr != nil {
				return werr
			}
		} else if werr := rep.WriteTable(stdout); werr != nil {
			return werr
		}
	}
	return err
}
