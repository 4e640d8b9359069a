// Command clbcert is the operator's tool. For now it runs `clbcert sim`, a
// local Tencent Cloud to try the hooks against.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := config.Run(&cli.App{
		Name:            "clbcert",
		Usage:           "see, audit and try clbcert's work on Tencent Cloud",
		HideHelpCommand: true,
		// --placeholder-cert ID=a,b lists names with commas.
		DisableSliceFlagSeparator: true,
		Commands:                  []*cli.Command{simCommand(ctx), statusCommand(ctx), rollbackCommand(ctx), pruneCommand(ctx), doctorCommand(ctx), listenersCommand(ctx), tuneCommand(ctx)},
	}, os.Args, os.Stderr)
	stop()
	os.Exit(code)
}
