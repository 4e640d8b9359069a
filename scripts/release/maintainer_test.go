package release

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/installtest"
)

// TestMaintainerScripts runs the package's maintainer scripts as dpkg does
// for a root of its own (DPKG_ROOT set), each step twice: they must give
// the same result again, never reach for systemd then, and refuse an
// argument they do not know.
func TestMaintainerScripts(t *testing.T) {
	root := installtest.Root(t)
	dpkgRoot := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	fakes := t.TempDir()
	for _, name := range []string{"systemctl", "deb-systemd-invoke"} {
		script := "#!/bin/sh\necho \"$0 $*\" >>" + calls + "\n"
		if err := os.WriteFile(filepath.Join(fakes, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(script string, args ...string) error {
		t.Helper()
		cmd := exec.Command("sh", append([]string{filepath.Join(root, "scripts/debian", script)}, args...)...)
		cmd.Env = append(os.Environ(), "DPKG_ROOT="+dpkgRoot, "PATH="+fakes+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(err.Error() + ": " + string(out)))
		}
		return nil
	}
	must := func(script string, args ...string) {
		t.Helper()
		for range 2 {
			if err := run(script, args...); err != nil {
				t.Fatalf("%s %s: %v", script, strings.Join(args, " "), err)
			}
		}
	}
	path := func(p string) string { return filepath.Join(dpkgRoot, p) }
	write := func(p string, mode fs.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path(p), []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	state := path("var/lib/clbcert")

	must("postinst", "configure")
	wantMode(t, state, fs.ModeDir|0o700)
	// An admin's mode and the state survive an upgrade's configure.
	if err := os.Chmod(state, 0o750); err != nil {
		t.Fatal(err)
	}
	write("var/lib/clbcert/record", 0o600)
	must("postinst", "configure", "0.0.1")
	wantMode(t, state, fs.ModeDir|0o750)
	wantMode(t, path("var/lib/clbcert/record"), 0o600)

	must("prerm", "upgrade", "0.0.2")
	must("prerm", "remove")
	must("postrm", "remove")
	wantMode(t, path("var/lib/clbcert/record"), 0o600)

	write("etc/clbcert/env", 0o600)
	write("etc/clbcert/notes", 0o600)
	if err := os.MkdirAll(path("etc/systemd/system/multi-user.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	enabled := path("etc/systemd/system/multi-user.target.wants/clbcert-watch.service")
	if err := os.Symlink("/lib/systemd/system/clbcert-watch.service", enabled); err != nil {
		t.Fatal(err)
	}
	must("postrm", "purge")
	for _, gone := range []string{"var/lib/clbcert", "etc/clbcert/env", "etc/systemd/system/multi-user.target.wants/clbcert-watch.service"} {
		if _, err := os.Lstat(path(gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after purge /%s: %v", gone, err)
		}
	}
	// An admin's own file in /etc/clbcert keeps the directory.
	wantMode(t, path("etc/clbcert/notes"), 0o600)
	if err := os.Remove(path("etc/clbcert/notes")); err != nil {
		t.Fatal(err)
	}
	must("postrm", "purge")
	if _, err := os.Lstat(path("etc/clbcert")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after purge /etc/clbcert: %v", err)
	}

	if b, err := os.ReadFile(calls); err == nil {
		t.Errorf("with DPKG_ROOT set the scripts called:\n%s", b)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		if err := run(script, "bogus"); err == nil || !strings.Contains(err.Error(), "unknown argument 'bogus'") {
			t.Errorf("%s bogus: %v, want a refusal", script, err)
		}
	}
}
