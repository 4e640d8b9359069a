// Package configtest writes config files for tests.
package configtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Write puts body in a config.toml of its own temporary directory with
// exactly mode (whatever the umask) and returns its path.
func Write(t testing.TB, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}
