// Command clbcert-deploy puts a renewed certbot lineage onto every CLB
// listener and SNI domain that should serve it. certbot runs it as
// --deploy-hook (RENEWED_LINEAGE); a person runs it with --lineage DIR.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/internal/version"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/store"
)

// Flags of this command alone.
const (
	flagChainFromChainPEM = "chain-from-chain-pem"
	flagForce             = "force"
	flagUploadAnyway      = "upload-anyway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := clbcli.Run(app(ctx, os.Stdout, os.Stderr), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

func app(ctx context.Context, stdout, stderr io.Writer) *cli.App {
	flags := append(clbcli.CommonFlags(), clbcli.DeployFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "lineage", Usage: "certbot lineage `DIR` (live/NAME); default: $RENEWED_LINEAGE, which certbot sets for deploy hooks"},
		&cli.IntFlag{Name: "keep", DefaultText: "2, or keep in [[deploy]]", Usage: "superseded uploads of the lineage to keep: `N` (0 keeps none)"},
		&cli.BoolFlag{Name: flagChainFromChainPEM, Usage: "when fullchain.pem holds only the leaf, take its issuer from the lineage's chain.pem (otherwise such a lineage is refused)"},
		&cli.BoolFlag{Name: flagForce, Usage: "replace a target's certificate even if it expires later than this one (same key algorithm)"},
		&cli.BoolFlag{Name: flagUploadAnyway, Usage: "upload the certificate even if no target serves one it covers (otherwise refused)"},
		clbcli.NotifyFlag(),
		clbopts.ProductFlag(),
	)
	return &cli.App{
		Name:    "clbcert-deploy",
		Version: version.Version,
		Usage:   "deploy a certbot lineage to Tencent Cloud CLB listeners and SNI domains",
		Description: `Run by certbot after each renewal:

      certbot renew --deploy-hook 'clbcert-deploy --region ap-guangzhou'

   or by hand:

      clbcert-deploy --lineage /etc/letsencrypt/live/example.com --region ap-guangzhou --dry-run

   The lineage is checked first (key matches leaf, chain links and carries
   the leaf's issuer, dates, names); a bad one is refused before any call
   that changes something, as are an unknown region, an unwritable state
   dir and a certificate that no target serves. Then the
   certificate is uploaded to the SSL service once (deduplicated by
   fingerprint) and bound to every HTTPS, TCP_SSL and QUIC listener and SNI
   domain whose current certificate's names it covers — or to the targets
   pinned in the config file's [[deploy]] entry. A target whose certificate
   expires later than this one, with the same key algorithm, keeps it
   unless --force. Each CLB task is awaited,
   the result checked by describing it again and by a TLS handshake where
   the listener is reachable, and superseded uploads that nothing uses are
   pruned. Running it again after any failure finishes the job.

   A failure is sent to the config file's [[notify]] webhooks and to each
   --notify URL: which targets failed, why, and the command that finishes
   the job; the next successful run sends the recovery. Webhooks with
   on = "all" hear of every deployment. A notification that cannot be
   delivered within 5 s is logged and changes nothing else.

   With products (--product, or products = [...] in the config file; the
   default is clb alone), every resource of those other products — CDN
   domains, EdgeOne hosts, WAF domains, COS custom domains, ... — that holds
   an earlier upload of the lineage, or a certificate of the SSL service
   whose names the lineage covers and that ends sooner (unless another
   lineage of its key algorithm covers it: an RSA + ECDSA pair), is moved to this
   upload by the SSL service (by its id, never by the PEMs): --product all
   takes every product the SSL service can update. The report lists each
   resource; one that already holds the upload is done. Without the SSL
   service's role SSL_QCSLinkedRoleInReplaceLoadCertificate the other
   products are left alone, with the error saying how to grant it, and CLB
   is still deployed.

   Exit status: 0 done, 1 failed (the report names each failed target),
   2 usage or configuration error (nothing changed).`,
		HideHelpCommand: true,
		Flags:           flags,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clbcli.Usagef("clbcert-deploy takes no arguments: give the lineage with --lineage DIR")
			}
			return run(ctx, c, stdout, stderr)
		},
	}
}

func run(ctx context.Context, c *cli.Context, stdout, stderr io.Writer) error {
	s, err := clbcli.Resolve(c, stderr)
	if err != nil {
		return err
	}
	dir := c.String("lineage")
	if dir == "" {
		dir = os.Getenv("RENEWED_LINEAGE")
	}
	if dir == "" {
		return clbcli.Usagef("no lineage: pass --lineage /etc/letsencrypt/live/NAME, or run as certbot's --deploy-hook (it sets RENEWED_LINEAGE)")
	}
	lin, err := lineage.LoadWith(dir, time.Now(), lineage.Options{ChainFromChainPEM: c.Bool(flagChainFromChainPEM)})
	if err != nil {
		if errors.Is(err, lineage.ErrMissingIssuer) && !c.Bool(flagChainFromChainPEM) {
			// Tested by TestDeployRefusesMissingIssuer.
			return clbcli.UsageError{Err: fmt.Errorf("refusing to deploy: %w; or pass --%s to take the issuer from chain.pem", err, flagChainFromChainPEM)}
		}
		if errors.Is(err, lineage.ErrInvalid) {
			return clbcli.UsageError{Err: fmt.Errorf("refusing to deploy: %w", err)}
		}
		// A directory that is not there is a wrong --lineage (exit 2); a
		// file missing in it may be certbot's link swap (exit 1, retry).
		var le *lineage.Error
		if errors.As(err, &le) && le.Path == dir {
			return clbcli.UsageError{Err: err}
		}
		return err
	}
	if renewed := strings.Fields(os.Getenv("RENEWED_DOMAINS")); c.String("lineage") == "" && len(renewed) > 0 {
		if missing := lineage.Uncovered(lin.Names(), renewed); len(missing) > 0 {
			s.Logger.Warn("RENEWED_DOMAINS names what the lineage does not cover", "missing", missing)
		}
	}
	opts, err := clbopts.Deploy(c, s, filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return err
	}
	opts.DryRun = c.Bool("dry-run")
	opts.Force = c.Bool(flagForce)
	opts.UploadAnyway = c.Bool(flagUploadAnyway)
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	st, err := store.Open(s.StateDir)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	d, err := deploy.New(cloud, st, opts)
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	notifier, err := s.Notifier(cloud.Credential.GetSecretKey(), cloud.Credential.GetToken())
	if err != nil {
		return err
	}
	rep, err := d.Deploy(ctx, lin)
	if !opts.DryRun {
		tell(ctx, notifier, notify.NewLedger(st), s.Logger, lin.Name, dir, rep, err)
	}
	// Exit 2 for whatever is refused before a change (README, exit codes).
	// Tested by TestDeployRefusalsExitTwo and TestDeployRefusesMissingIssuer.
	if errors.Is(err, deploy.ErrNoTarget) {
		return clbcli.UsageError{Err: fmt.Errorf("%w (--%s)", err, flagUploadAnyway)}
	}
	if errors.Is(err, deploy.ErrRefused) {
		return clbcli.UsageError{Err: err}
	}
	if rep != nil {
		if werr := clbcli.WriteReport(stdout, c.Bool("json"), rep); werr != nil {
			return werr
		}
	}
	return err
}

// tell notifies a failure, or a success (a recovery when a failure was
// told before). Nothing here changes the exit status: what cannot be
// delivered or recorded is logged.
func tell(ctx context.Context, n *notify.Notifier, ledger *notify.Ledger, log *slog.Logger, name, dir string, rep *deploy.Report, err error) {
	// A deployment cut short by a signal is still worth telling, within
	// the notifier's own time bound.
	ctx = context.WithoutCancel(ctx)
	subject := "deploy " + name
	if err != nil {
		n.Notify(ctx, deployFailed(name, dir, rep, err))
		if rerr := ledger.Record(ctx, subject, level.Critical); rerr != nil {
			log.Warn("the failure was notified but not recorded: its recovery will not be", "err", rerr)
		}
		return
	}
	last, lerr := ledger.Last(subject)
	if lerr != nil {
		log.Warn("cannot tell whether a failure was notified before", "err", lerr)
	}
	recovered := last != level.OK
	if m := deployDone(name, rep, recovered); n.Enabled(m) {
		n.Notify(ctx, m)
	}
	if recovered {
		if rerr := ledger.Record(ctx, subject, level.OK); rerr != nil {
			log.Warn("the recovery was notified but not recorded", "err", rerr)
		}
	}
}
