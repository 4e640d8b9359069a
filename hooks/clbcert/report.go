package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
)

// report is what the commands print: a table, or JSON with --json.
type report interface {
	WriteJSON(w io.Writer) error
	WriteTable(w io.Writer) error
}

func writeReport(c *cli.Context, r report) error {
	if c.Bool("json") {
		return r.WriteJSON(c.App.Writer)
	}
	return r.WriteTable(c.App.Writer)
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
