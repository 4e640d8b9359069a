package cli

import (
	"encoding/json"
	"io"
)

// Report is what a command prints: a table for people, or with --json the
// report itself as JSON for scripts.
type Report interface {
	WriteTable(w io.Writer) error
}

// WriteReport writes r to w: as JSON when asJSON (--json), else as its
// table.
func WriteReport(w io.Writer, asJSON bool, r Report) error {
	if asJSON {
		return WriteJSON(w, r)
	}
	return r.WriteTable(w)
}

// WriteJSON writes v as the indented JSON document that --json prints.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
