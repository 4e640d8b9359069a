package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/store"
)

// writeReport prints what a command found: a table, or JSON with --json.
func writeReport(c *cli.Context, r clbcli.Report) error {
	return clbcli.WriteReport(c.App.Writer, c.Bool("json"), r)
}

// flagsFirst refuses an option after the arguments: urfave/cli stops
// parsing options at the first argument, so "rollback example.com
// --dry-run" would otherwise take --dry-run for a lineage, or ignore it.
// what names the arguments ("the lineage"), arg their placeholder
// ("LINEAGE").
func flagsFirst(c *cli.Context, command, what, arg string) error {
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return clbcli.Usagef("%s after %s: put options first, e.g. clbcert %s %s %s", a, what, command, a, arg)
		}
	}
	return nil
}

// noArgs is the action of a command that takes no arguments: it refuses
// any, saying what to give instead, then runs run with the settings.
func noArgs(command, instead string, run func(c *cli.Context, s *clbcli.Settings) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			return clbcli.Usagef("clbcert %s takes no arguments: %s", command, instead)
		}
		s, err := clbcli.Resolve(c, c.App.ErrWriter)
		if err != nil {
			return err
		}
		return run(c, s)
	}
}

// openRecorded resolves the settings and opens their state dir with the
// lineages it records deployments of, as the commands that work on past
// deployments (prune, rollback) start.
func openRecorded(c *cli.Context) (*clbcli.Settings, *store.Store, []string, error) {
	s, err := clbcli.Resolve(c, c.App.ErrWriter)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(s.StateDir)
	if err != nil {
		return nil, nil, nil, clbcli.UsageError{Err: err}
	}
	recorded, err := deploy.RecordedLineages(st)
	if err != nil {
		return nil, nil, nil, clbcli.UsageError{Err: err}
	}
	return s, st, recorded, nil
}
