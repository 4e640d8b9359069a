// Package golden compares, in tests, the JSON a command prints or a state
// file holds with a copy kept in the package's testdata: the shape scripts
// read must not change by accident when the Go types behind it do.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// JSON marshals v and compares it with testdata/name. Keys are compared
// sorted: scripts read JSON by key, not by the order of the keys. With
// UPDATE_GOLDEN=1 in the environment it writes the file instead.
func JSON(t testing.TB, name string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	got := normal(t, raw)
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run with UPDATE_GOLDEN=1 to write it)", err)
	}
	if !bytes.Equal(got, normal(t, want)) {
		t.Errorf("%T as JSON differs from %s:\ngot:\n%s\nwant:\n%s", v, path, got, want)
	}
}

// normal is raw re-encoded with sorted keys and indented.
func normal(t testing.TB, raw []byte) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}
