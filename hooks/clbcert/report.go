package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
)

// report is what rollback and prune print: a table, or JSON with --json.
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
func flagsFirst(c *cli.Context, command string) error {
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return config.Usagef("%s after the lineage: put options first, e.g. clbcert %s %s LINEAGE", a, command, a)
		}
	}
	return nil
}
