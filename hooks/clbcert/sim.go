package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
)

// simBinary is the simulator's own program. clbcert does not link it: the
// simulator is for trying clbcert out and for tests, and has no business in
// the binary that runs against production.
const simBinary = "clbcert-sim"

func simCommand(ctx context.Context) *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run clbcert-sim, the local Tencent Cloud (DNSPod, SSL and CLB APIs, authoritative DNS, TLS listeners)",
		Description: `Runs clbcert-sim with the arguments given; "clbcert sim --help" lists them.
   clbcert-sim is looked for beside clbcert, then on PATH; the packages and
   install.sh install it there.`,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			bin, err := findSim()
			if err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, bin, c.Args().Slice()...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
			// The simulator gets the same signal we got and ends on its own.
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			err = cmd.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() > 0 {
				return clbcli.ExitStatus(ee.ExitCode())
			}
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("run %s: %w", bin, err)
			}
			return nil
		},
	}
}

func findSim() (string, error) {
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), simBinary)
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
			return beside, nil
		}
	}
	if path, err := exec.LookPath(simBinary); err == nil {
		return path, nil
	}
	return "", clbcli.Usagef("clbcert sim runs %s, which is neither beside clbcert nor on PATH: install it with the package or install.sh, or build it with go build ./hooks/%s", simBinary, simBinary)
}
