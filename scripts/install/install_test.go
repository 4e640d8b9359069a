// Package install tests install.sh, which builds the binaries and installs
// them with their man pages, completion, config skeleton and systemd units.
// config.toml beside this file is the skeleton it installs.
package install

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/installtest"
	"github.com/clbcert/clbcert/pkg/config"
)

// run runs install.sh; building the binaries is most of its time.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(installtest.Root(t), "install.sh"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("install.sh %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

func mustInstall(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("install.sh %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// installed is what an install with --prefix /usr/local puts into an empty
// destdir.
func installed(t *testing.T, renewalHook, certbotTimer bool) installtest.Tree {
	want := installtest.Installed(installtest.Commands(t))
	if renewalHook {
		want.File("etc/letsencrypt/renewal-hooks/deploy/clbcert-deploy", 0o755)
	}
	if certbotTimer {
		want.File("etc/systemd/system/certbot.timer.d/clbcert.conf", 0o644)
	}
	return want
}

// sameTree compares two snapshots: kind, mode and content of every path,
// and time stamps where withTimes (a directory's changes when entries come
// and go, so a tree put back after an uninstall is compared without).
func sameTree(t *testing.T, what string, got, want installtest.Tree, withTimes bool) {
	t.Helper()
	if d := installtest.DiffLines(got.Listing(), want.Listing()); d != "" {
		t.Fatalf("%s: the tree differs:\n%s", what, d)
	}
	for p, w := range want {
		g := got[p]
		if g.Sum != w.Sum {
			t.Errorf("%s: %s: content changed", what, p)
		}
		if (withTimes || w.Mode.IsRegular()) && !g.ModTime.Equal(w.ModTime) {
			t.Errorf("%s: %s: modified at %s, was %s", what, p, g.ModTime, w.ModTime)
		}
	}
}

// actions are the report lines of a run, before its next steps.
func actions(out string) []string {
	head, _, _ := strings.Cut(out, "\nNext steps:")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(head), "\n") {
		if !strings.HasPrefix(l, "building ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestInstallBesideExistingFiles(t *testing.T) {
	dest := t.TempDir()
	userConfig := []byte("regions = [\"ap-shanghai\"]\n")
	for p, mode := range map[string]fs.FileMode{"etc/clbcert/config.toml": 0o640, "usr/local/bin/other-tool": 0o755, "etc/hosts": 0o644} {
		p = filepath.Join(dest, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, userConfig, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	// Older time stamps, so that a rewrite of the same bytes shows.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, p := range []string{"etc/clbcert/config.toml", "usr/local/bin/other-tool", "etc/hosts"} {
		if err := os.Chtimes(filepath.Join(dest, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := installtest.Snapshot(t, dest)

	out := mustInstall(t, "--destdir", dest, "--prefix", "/usr/local")
	first := installtest.Snapshot(t, dest)
	want := installed(t, false, false)
	for p, n := range before {
		want[p] = n
	}
	if d := installtest.DiffLines(first.Listing(), want.Listing()); d != "" {
		t.Fatalf("installed tree:\n%s\ninstall.sh said:\n%s", d, out)
	}
	if first["etc/clbcert/config.toml"] != before["etc/clbcert/config.toml"] {
		t.Errorf("the user's config was touched")
	}
	if !slices.Contains(actions(out), "kept "+dest+"/etc/clbcert/config.toml: it exists, and install.sh never overwrites a config") {
		t.Errorf("install.sh did not say it kept the config:\n%s", out)
	}
	for _, l := range actions(out) {
		if !regexp.MustCompile(`^(installed|kept|wrote) /`).MatchString(l) {
			t.Errorf("first run: unexpected report line %q", l)
		}
	}

	t.Run("installed files work", func(t *testing.T) {
		bin := filepath.Join(dest, "usr/local/bin")
		for _, b := range installtest.Commands(t) {
			if out, err := exec.Command(filepath.Join(bin, b), "--help").CombinedOutput(); err != nil {
				t.Errorf("%s --help: %v\n%s", b, err, out)
			}
			page, err := os.ReadFile(filepath.Join(dest, "usr/local/share/man/man1", b+".1"))
			if err != nil || !bytes.HasPrefix(page, []byte(`.TH "`+strings.ToUpper(strings.ReplaceAll(b, "-", `\-`))+`" 1`)) || !bytes.Contains(page, []byte(".SH OPTIONS")) {
				t.Errorf("man page of %s: %v\n%.300s", b, err, page)
			}
			for _, f := range []string{"bash-completion/completions/" + b, "zsh/site-functions/_" + b} {
				if info, err := os.Stat(filepath.Join(dest, "usr/local/share", f)); err != nil || info.Size() == 0 {
					t.Errorf("%s: missing or empty: %v", f, err)
				}
			}
		}
		unit, err := os.ReadFile(filepath.Join(dest, "etc/systemd/system/clbcert-watch.service"))
		if err != nil || !regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/clbcert-watch$`).Match(unit) {
			t.Errorf("unit's ExecStart does not name the installed binary: %v", err)
		}
		// The installed bash completion, run as bash would, asks the
		// installed program.
		for _, tc := range []struct {
			words []string
			want  string
		}{
			{[]string{"clbcert-dns", ""}, "auth cleanup present"},
			{[]string{"clbcert-dns", "auth", "--prop"}, "--propagation-timeout"},
			{[]string{"clbcert-deploy", "--reg"}, "--region"},
			{[]string{"clbcert-deploy", "--config", ""}, ""},
		} {
			script := filepath.Join(dest, "usr/local/share/bash-completion/completions", tc.words[0])
			cmd := exec.Command("bash", "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _${1//-/_}; echo "${COMPREPLY[*]}"`, "bash", script)
			cmd.Args = append(cmd.Args, tc.words...)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			got, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("completing %q: %v: got %q, want %q", tc.words, err, strings.TrimSpace(string(got)), tc.want)
			}
		}
		if zsh, err := exec.LookPath("zsh"); err == nil {
			for _, b := range installtest.Commands(t) {
				if out, err := exec.Command(zsh, "-n", filepath.Join(dest, "usr/local/share/zsh/site-functions/_"+b)).CombinedOutput(); err != nil {
					t.Errorf("zsh -n _%s: %v\n%s", b, err, out)
				}
			}
		} else {
			t.Log("zsh not installed: the zsh completion is not parsed")
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		out := mustInstall(t, "--destdir", dest, "--prefix", "/usr/local")
		sameTree(t, "after the second run", installtest.Snapshot(t, dest), first, true)
		for _, l := range actions(out) {
			if !strings.HasPrefix(l, "unchanged /") && !strings.HasPrefix(l, "kept "+dest+"/etc/clbcert/config.toml:") {
				t.Errorf("second run: %q", l)
			}
		}
	})

	t.Run("uninstall puts the tree back", func(t *testing.T) {
		out := mustInstall(t, "--uninstall", "--destdir", dest)
		sameTree(t, "after uninstall", installtest.Snapshot(t, dest), before, false)
		if !strings.Contains(out, "removed "+dest+"/usr/local/bin/clbcert-watch\n") || !strings.Contains(out, "removed "+dest+"/usr/local/share/clbcert/\n") {
			t.Errorf("uninstall said:\n%s", out)
		}
	})
}

func TestInstallWithCertbotHooks(t *testing.T) {
	dest := t.TempDir()
	args := []string{"--destdir", dest, "--prefix", "/usr/local", "--renewal-hook", "--certbot-timer"}
	mustInstall(t, args...)
	first := installtest.Snapshot(t, dest)
	if d := installtest.DiffLines(first.Listing(), installed(t, true, true).Listing()); d != "" {
		t.Fatalf("installed tree:\n%s", d)
	}

	hook, err := os.ReadFile(filepath.Join(dest, "etc/letsencrypt/renewal-hooks/deploy/clbcert-deploy"))
	if err != nil || !bytes.HasPrefix(hook, []byte("#!/bin/sh\n")) || !regexp.MustCompile(`(?m)^exec /usr/local/bin/clbcert-deploy$`).Match(hook) {
		t.Errorf("renewal hook: %v\n%s", err, hook)
	}
	timer, err := os.ReadFile(filepath.Join(dest, "etc/systemd/system/certbot.timer.d/clbcert.conf"))
	if err != nil || !regexp.MustCompile(`(?m)^\[Timer\]\nOnCalendar=\nOnCalendar=\*-\*-\* 00,12:00:00\nRandomizedDelaySec=\S+\n`).Match(timer) {
		t.Errorf("certbot.timer drop-in: %v\n%s", err, timer)
	}

	t.Run("config skeleton", func(t *testing.T) {
		path := filepath.Join(dest, "etc/clbcert/config.toml")
		skeleton, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if src, err := os.ReadFile("config.toml"); err != nil || !bytes.Equal(src, skeleton) {
			t.Fatalf("installed config differs from scripts/install/config.toml: %v", err)
		}
		f, err := config.Load(path, true)
		if err != nil {
			t.Fatalf("the loader refuses the skeleton: %v", err)
		}
		if f.Path != path || len(f.Regions) != 0 || f.SecretID != "" || len(f.Deploy) != 0 {
			t.Errorf("the skeleton sets something: %+v", f)
		}
		// Every example is a real setting: uncommented, they all load.
		example := regexp.MustCompile(`(?m)^# ([a-z_]+ = .*|\[\[deploy\]\]|\[tune\])$`).ReplaceAll(skeleton, []byte("$1"))
		uncommented := configtest.Write(t, string(example), 0o600)
		f, err = config.Load(uncommented, true)
		if err != nil {
			t.Fatalf("the skeleton's examples, uncommented: %v\n%s", err, example)
		}
		if len(f.Regions) == 0 || f.Endpoint == "" || f.DNSServer == "" || len(f.Resolvers) == 0 || f.PropagationTimeout.Duration == 0 ||
			f.TTL == 0 || f.CertbotDir == "" || f.StateDir == "" || f.LogLevel == "" || f.SecretID == "" || f.SecretKey == "" ||
			len(f.Deploy) != 1 || f.Deploy[0].Lineage == "" || len(f.Deploy[0].Targets) == 0 || f.Deploy[0].Keep == 0 ||
			len(f.Tune.TLSProtocols) == 0 || f.Tune.HealthCheckPath == nil {
			t.Errorf("the skeleton lacks an example of some setting: %+v", f)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		out := mustInstall(t, args...)
		sameTree(t, "after the second run", installtest.Snapshot(t, dest), first, true)
		for _, l := range actions(out) {
			if !strings.HasPrefix(l, "unchanged /") {
				t.Errorf("second run: %q", l)
			}
		}
	})

	t.Run("uninstall keeps an edited config", func(t *testing.T) {
		path := filepath.Join(dest, "etc/clbcert/config.toml")
		if err := os.WriteFile(path, []byte("regions = [\"ap-guangzhou\"]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		edited := installtest.Snapshot(t, dest)["etc/clbcert/config.toml"]
		out := mustInstall(t, "--uninstall", "--destdir", dest)
		after := installtest.Snapshot(t, dest)
		want := []string{"etc d 0755", "etc/clbcert d 0755", "etc/clbcert/config.toml f 0600"}
		if d := installtest.DiffLines(after.Listing(), want); d != "" {
			t.Fatalf("after uninstall:\n%s\nuninstall said:\n%s", d, out)
		}
		if after["etc/clbcert/config.toml"] != edited {
			t.Errorf("the edited config was touched")
		}
		if !strings.Contains(out, "kept "+path+": changed since it was installed\n") {
			t.Errorf("uninstall did not name the kept config:\n%s", out)
		}
	})
}

// A run that stops part way lists what it installed: running it again
// finishes the job, and --uninstall removes all of it.
func TestInstallStoppedPartWay(t *testing.T) {
	dest := t.TempDir()
	share := filepath.Join(dest, "usr/local/share")
	if err := os.MkdirAll(share, 0o755); err != nil {
		t.Fatal(err)
	}
	before := installtest.Snapshot(t, dest)
	// A file where the man pages' directory goes: the binaries are
	// installed, then creating share/man/man1 fails.
	blocker := filepath.Join(share, "man")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--destdir", dest, "--prefix", "/usr/local"}
	code, out, stderr := run(t, args...)
	if code != 1 || !strings.Contains(stderr, "install.sh: stopped part way: "+dest+"/usr/local/share/clbcert/install-manifest lists what was installed") {
		t.Fatalf("exit %d; want 1 and the manifest named\n%s%s", code, out, stderr)
	}
	manifest, err := os.ReadFile(filepath.Join(dest, "usr/local/share/clbcert/install-manifest"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range installtest.Commands(t) {
		if !regexp.MustCompile(`(?m)^file [0-9a-f]{64} 0755 /usr/local/bin/` + b + `$`).Match(manifest) {
			t.Errorf("the manifest does not list the installed %s:\n%s", b, manifest)
		}
	}
	if bytes.Contains(manifest, []byte("/man1/")) {
		t.Errorf("the manifest lists man pages that were not installed:\n%s", manifest)
	}

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	mustInstall(t, args...)
	want := installed(t, false, false)
	for p, n := range before {
		want[p] = n
	}
	if d := installtest.DiffLines(installtest.Snapshot(t, dest).Listing(), want.Listing()); d != "" {
		t.Fatalf("after running again:\n%s", d)
	}
	mustInstall(t, "--uninstall", "--destdir", dest)
	sameTree(t, "after uninstall", installtest.Snapshot(t, dest), before, false)
}

func TestInstallUsage(t *testing.T) {
	code, out, stderr := run(t, "--help")
	if code != 0 || stderr != "" {
		t.Fatalf("--help: exit %d, %s", code, stderr)
	}
	for _, opt := range []string{"--from TARBALL", "--prefix DIR", "--destdir DIR", "--renewal-hook", "--certbot-timer", "--uninstall", "-h, --help"} {
		if !strings.Contains(out, "\n  "+opt) {
			t.Errorf("--help does not explain %s", opt)
		}
	}
	dest := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--bogus"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"--prefix"}, 2},
		{[]string{"--prefix", "relative/dir", "--destdir", dest}, 2},
		{[]string{"--prefix", "/opt/a b", "--destdir", dest}, 2},
		{[]string{"--prefix", "//", "--destdir", dest}, 2},
		{[]string{"--destdir="}, 2},
		{[]string{"--uninstall", "--renewal-hook", "--destdir", dest}, 2},
		{[]string{"--uninstall", "--destdir", dest}, 1}, // nothing installed there
		{[]string{"--from"}, 2},
		{[]string{"--from=", "--destdir", dest}, 2},
		{[]string{"--uninstall", "--from", "x.tar.gz", "--destdir", dest}, 2},
		{[]string{"--from", filepath.Join(dest, "missing.tar.gz"), "--destdir", dest}, 1},
		{[]string{"--from", filepath.Join(installtest.Root(t), "go.mod"), "--destdir", dest}, 1},
		{[]string{"--from", installtest.Root(t), "--destdir", dest}, 1}, // a source tree, not a release
	} {
		code, out, stderr := run(t, tc.args...)
		if code != tc.code || out != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "install.sh: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and one line on stderr", tc.args, code, out, stderr, tc.code)
		}
	}
	if entries, err := os.ReadDir(dest); err != nil || len(entries) != 0 {
		t.Errorf("a refused run wrote into the destdir: %v %v", entries, err)
	}
}

// Without root and without --destdir, install.sh refuses at once, in one line that says what
// the operation asked for needs.
func TestSystemInstallNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs install.sh as another user, which needs root")
	}
	// A copy that user nobody can read: the clone may be in root's home.
	// Not t.TempDir, whose parent only root may enter.
	dir, err := os.MkdirTemp("", "clbcert-install-nonroot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	script, err := os.ReadFile(filepath.Join(installtest.Root(t), "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "install.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "install.sh: installing into the system needs root: run sudo ./install.sh"},
		{[]string{"--uninstall"}, "install.sh: removing the install from the system needs root: run sudo ./install.sh --uninstall"},
	} {
		cmd := exec.Command(filepath.Join(dir, "install.sh"), tc.args...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || out.Len() != 0 ||
			strings.Count(errOut.String(), "\n") != 1 || !strings.HasPrefix(errOut.String(), tc.want) {
			t.Errorf("install.sh %q as nobody: %v, stdout %q, stderr %q; want exit 1 and %q", tc.args, err, out.String(), errOut.String(), tc.want)
		}
	}
}

// An upgrade from a release tarball whose skeleton changed: a config never
// edited since the last install becomes the new skeleton (and --uninstall
// still removes it), an edited one is kept and said to be.
func TestInstallUpgradesConfigSkeleton(t *testing.T) {
	built := t.TempDir()
	mustInstall(t, "--destdir", built, "--prefix", "/usr/local")
	skeleton, err := os.ReadFile("config.toml")
	if err != nil {
		t.Fatal(err)
	}
	// release lays out a release, as install.sh --from reads it unpacked,
	// with the programs just built and this skeleton.
	release := func(skeleton []byte) string {
		t.Helper()
		dir := t.TempDir()
		copyDir := func(from, to string) {
			t.Helper()
			if out, err := exec.Command("cp", "-R", filepath.Join(built, from), filepath.Join(dir, to)).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
		}
		copyDir("usr/local/bin", "bin")
		copyDir("usr/local/share", "share")
		copyDir("etc/systemd/system/clbcert-watch.service", "clbcert-watch.service")
		if err := os.WriteFile(filepath.Join(dir, "config.toml"), skeleton, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	newer := append(slices.Clip(skeleton), []byte("\n# A setting a newer release explains.\n")...)
	older, next := release(skeleton), release(newer)
	configIn := func(dest string) string { return filepath.Join(dest, "etc/clbcert/config.toml") }

	t.Run("never edited", func(t *testing.T) {
		dest := t.TempDir()
		before := installtest.Snapshot(t, dest)
		mustInstall(t, "--from", older, "--destdir", dest)
		out := mustInstall(t, "--from", next, "--destdir", dest)
		if !slices.Contains(actions(out), "updated "+configIn(dest)) {
			t.Errorf("the upgrade did not update the skeleton:\n%s", out)
		}
		got, err := os.ReadFile(configIn(dest))
		if err != nil || !bytes.Equal(got, newer) {
			t.Errorf("after the upgrade the config is not the newer skeleton: %v\n%s", err, got)
		}
		wantMode(t, configIn(dest), 0o600)
		out = mustInstall(t, "--uninstall", "--destdir", dest)
		sameTree(t, "after uninstall", installtest.Snapshot(t, dest), before, false)
		if !strings.Contains(out, "removed "+configIn(dest)+"\n") {
			t.Errorf("uninstall did not remove the skeleton:\n%s", out)
		}
	})

	t.Run("edited", func(t *testing.T) {
		dest := t.TempDir()
		mustInstall(t, "--from", older, "--destdir", dest)
		edited := append(slices.Clip(skeleton), []byte("regions = [\"ap-guangzhou\"]\n")...)
		if err := os.WriteFile(configIn(dest), edited, 0o600); err != nil {
			t.Fatal(err)
		}
		out := mustInstall(t, "--from", next, "--destdir", dest)
		if !slices.Contains(actions(out), "kept "+configIn(dest)+": edited since it was installed") {
			t.Errorf("the upgrade did not say it kept the edited config:\n%s", out)
		}
		if got, err := os.ReadFile(configIn(dest)); err != nil || !bytes.Equal(got, edited) {
			t.Errorf("the upgrade changed the edited config: %v\n%s", err, got)
		}
		out = mustInstall(t, "--uninstall", "--destdir", dest)
		if !strings.Contains(out, "kept "+configIn(dest)+": changed since it was installed\n") {
			t.Errorf("uninstall did not keep the edited config:\n%s", out)
		}
	})
}

func wantMode(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if info.Mode().Perm() != mode {
		t.Errorf("%s: mode %s, want %s", path, info.Mode().Perm(), mode)
	}
}
