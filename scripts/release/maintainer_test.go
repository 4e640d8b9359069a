package release

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/installtest"
)

// TestMaintainerScripts runs the package's maintainer scripts as dpkg does
// for a root of its own (DPKG_ROOT set), each step twice: they must give
// the same result again, never reach for systemd then, and refuse an
// argument they do not know. The config is theirs, not dpkg's: a first
// install writes it from the skeleton, nothing else touches it but purge.
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
	state, config := path("var/lib/clbcert"), path("etc/clbcert/config.toml")
	skeleton := readFile(t, filepath.Join(root, "scripts/install/config.toml"))
	if err := os.MkdirAll(path("usr/share/clbcert"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("usr/share/clbcert/config.toml"), skeleton, 0o644); err != nil {
		t.Fatal(err)
	}
	wantConfig := func(want []byte, what string) {
		t.Helper()
		wantMode(t, config, 0o600)
		if got, err := os.ReadFile(config); err != nil || !bytes.Equal(got, want) {
			t.Errorf("/etc/clbcert/config.toml is not %s: %v\n%s", what, err, got)
		}
	}
	wantNoConfig := func() {
		t.Helper()
		if _, err := os.Lstat(config); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("/etc/clbcert/config.toml: %v, want none", err)
		}
	}

	must("postinst", "configure")
	wantMode(t, state, fs.ModeDir|0o700)
	wantMode(t, path("etc/clbcert"), fs.ModeDir|0o755)
	wantConfig(skeleton, "the skeleton")
	// An edited config stays as it is, whatever configure runs.
	edited := append(slices.Clone(skeleton), "regions = [\"ap-guangzhou\"]\n"...)
	if err := os.WriteFile(config, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	must("postinst", "configure")
	wantConfig(edited, "the edited config")
	// An admin's mode and the state survive an upgrade's configure.
	if err := os.Chmod(state, 0o750); err != nil {
		t.Fatal(err)
	}
	write("var/lib/clbcert/record", 0o600)
	must("postinst", "configure", "0.0.1")
	wantMode(t, state, fs.ModeDir|0o750)
	wantMode(t, path("var/lib/clbcert/record"), 0o600)
	wantConfig(edited, "the edited config")
	// An upgrade writes no config: one deleted on purpose stays deleted.
	if err := os.Remove(config); err != nil {
		t.Fatal(err)
	}
	must("postinst", "configure", "0.0.1")
	wantNoConfig()
	// A link is the admin's, even one that leads nowhere.
	if err := os.Symlink(path("nowhere/config.toml"), config); err != nil {
		t.Fatal(err)
	}
	must("postinst", "configure")
	if target, err := os.Readlink(config); err != nil || target != path("nowhere/config.toml") {
		t.Errorf("configure replaced the dangling link to the config: %q, %v", target, err)
	}
	if _, err := os.Lstat(path("nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("configure wrote through the dangling link: %v", err)
	}
	// /etc/clbcert keeps the mode its admin gave it.
	if err := os.Remove(config); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path("etc/clbcert"), 0o750); err != nil {
		t.Fatal(err)
	}
	must("postinst", "configure")
	wantMode(t, path("etc/clbcert"), fs.ModeDir|0o750)
	wantConfig(skeleton, "the skeleton")
	if err := os.WriteFile(config, edited, 0o600); err != nil {
		t.Fatal(err)
	}

	must("prerm", "upgrade", "0.0.2")
	must("prerm", "remove")
	must("postrm", "remove")
	wantMode(t, path("var/lib/clbcert/record"), 0o600)
	wantConfig(edited, "the edited config")

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
	for _, gone := range []string{"var/lib/clbcert", "etc/clbcert/config.toml", "etc/clbcert/env", "etc/systemd/system/multi-user.target.wants/clbcert-watch.service"} {
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
