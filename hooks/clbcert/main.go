// Command clbcert is the operator's tool: status, listeners and doctor show
// and audit what is served where; tune, prune and rollback change it; sim is
// a local Tencent Cloud to try everything against.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := clbcli.Run(&cli.App{
		Name:    "clbcert",
		Version: version.Version,
		Usage:   "see, audit and try clbcert's work on Tencent Cloud",
		Description: `Shows and audits what clbcert-deploy and clbcert-watch keep up to date on
   Tencent Cloud CLB, changes what good practice asks for, and simulates it all:

      clbcert status --region ap-guangzhou       # what expires when, where served, drift
      clbcert listeners --region ap-guangzhou    # every listener: certificate, SNI, health
      clbcert doctor --region ap-guangzhou       # findings with severity and the fix
      clbcert doctor --region ap-guangzhou --fix # apply the safe fixes through tune
      clbcert tune --dry-run --health-check-path /healthz lb-abc12345
      clbcert rollback --dry-run example.com     # the previous certificate, back
      clbcert prune --dry-run                    # superseded uploads nothing uses
      clbcert sim                                # a local Tencent Cloud to try it on

   status, listeners and doctor exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (part
   of the cloud unreadable), for monitoring; the others 0 done, 1 failed, 2 usage
   or configuration error. "clbcert COMMAND --help" explains each command.`,
		HideHelpCommand: true,
		// --placeholder-cert ID=a,b lists names with commas.
		DisableSliceFlagSeparator: true,
		Commands:                  commands(ctx),
	}, os.Args, os.Stderr, clbopts.Hint)
	stop()
	os.Exit(code)
}

func commands(ctx context.Context) []*cli.Command {
	return []*cli.Command{simCommand(ctx), statusCommand(ctx), rollbackCommand(ctx), pruneCommand(ctx), doctorCommand(ctx), listenersCommand(ctx), tuneCommand(ctx)}
}
