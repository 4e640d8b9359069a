// Package release tests scripts/release.sh: two runs give the same bytes,
// the programs are static and stamped, the Debian package holds what an
// operator expects and lintian finds no error in it, the package installs,
// is removed and purged in a throwaway root, an upgrade (from this release
// or from one that shipped the config as a conffile) keeps an edited config
// and never asks, and install.sh --from installs a tarball on a machine
// without Go.
package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/acmetest"
	"github.com/clbcert/clbcert/internal/installtest"
)

const version = "0.0.0-test"

var arches = []string{"amd64", "arm64"}

// requireTools skips the test when a tool it needs is missing, or fails it
// when CLBCERT_REQUIRE_E2E=1 (as in CI).
func requireTools(t *testing.T) {
	t.Helper()
	acmetest.Require(t, acmetest.Missing("apt-get install -y dpkg lintian git tar gzip coreutils",
		"git", "dpkg", "dpkg-deb", "lintian", "tar", "gzip", "sha256sum", "md5sum"))
}

// command runs name with args and env (added to the test's environment)
// and returns its combined output; it fails the test unless it exits 0.
func command(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRelease(t *testing.T) {
	requireTools(t)
	root := installtest.Root(t)
	names := installtest.Commands(t)
	epoch := strings.TrimSpace(command(t, nil, "git", "-C", root, "log", "-1", "--format=%ct", "HEAD"))
	sde, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		t.Fatalf("git log: commit time %q: %v", epoch, err)
	}
	dist := t.TempDir()
	start := time.Now()
	command(t, nil, filepath.Join(root, "scripts/release.sh"), "--out", dist, version)
	t.Logf("scripts/release.sh took %s", time.Since(start).Round(time.Second))

	var want []string
	for _, arch := range arches {
		want = append(want, "clbcert_"+version+"_"+arch+".deb", "clbcert_"+version+"_linux_"+arch+".tar.gz")
	}
	want = append(want, "SHA256SUMS")
	slices.Sort(want)
	if got := dirNames(t, dist); !slices.Equal(got, want) {
		t.Fatalf("dist holds %q, want %q", got, want)
	}

	t.Run("checksums", func(t *testing.T) {
		out := command(t, nil, "sh", "-c", `cd "$1" && sha256sum -c SHA256SUMS`, "sh", dist)
		for _, f := range want {
			if f != "SHA256SUMS" && !strings.Contains(out, f+": OK\n") {
				t.Errorf("sha256sum -c SHA256SUMS did not check %s:\n%s", f, out)
			}
		}
	})

	// The second run builds from a copy of the source tree elsewhere, without
	// git (the commit time given instead), with another temp dir, time zone
	// and umask. It shares Go's build cache, so the compiled packages come
	// from the first run: "programs" below checks what could make them
	// differ (build id, VCS stamp, local paths) in the programs themselves.
	t.Run("reproducible", func(t *testing.T) {
		copied := filepath.Join(t.TempDir(), "another", "checkout")
		copyTree(t, root, copied)
		again := t.TempDir()
		env := []string{"SOURCE_DATE_EPOCH=" + epoch, "TMPDIR=" + t.TempDir(), "TZ=Asia/Shanghai"}
		command(t, env, "sh", "-c", `umask 002 && exec "$@"`, "sh",
			filepath.Join(copied, "scripts/release.sh"), "--out", again, version)
		if got := dirNames(t, again); !slices.Equal(got, want) {
			t.Fatalf("the second run wrote %q, want %q", got, want)
		}
		for _, f := range want {
			a, b := readFile(t, filepath.Join(dist, f)), readFile(t, filepath.Join(again, f))
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs between two runs%s", f, tarDiff(t, f, a, b))
			}
		}
	})

	t.Run("tarballs", func(t *testing.T) {
		for _, arch := range arches {
			top := "clbcert_" + version + "_linux_" + arch
			entries := tarEntries(t, filepath.Join(dist, top+".tar.gz"))
			wantTree := installtest.Tree{}
			for _, f := range []string{"README.md", "COPYRIGHT", "cam-policy.json", "clbcert-watch.service", "config.toml"} {
				wantTree.File(top+"/"+f, 0o644)
			}
			wantTree.File(top+"/install.sh", 0o755)
			for _, b := range names {
				wantTree.File(top+"/bin/"+b, 0o755)
				wantTree.File(top+"/share/man/man1/"+b+".1", 0o644)
				wantTree.File(top+"/share/bash-completion/completions/"+b, 0o644)
				wantTree.File(top+"/share/zsh/site-functions/_"+b, 0o644)
			}
			var got []string
			for _, h := range entries {
				kind := "f"
				if h.Typeflag == tar.TypeDir {
					kind = "d"
				}
				got = append(got, fmt.Sprintf("%s %s %04o", h.Name, kind, h.Mode))
				if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != sde {
					t.Errorf("%s: %s: owner %d/%d %q/%q, time %s; want 0/0 and the commit time %s",
						arch, h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.UTC(), time.Unix(sde, 0).UTC())
				}
			}
			if d := installtest.DiffLines(got, archiveListing(wantTree, "", installtest.Node.String)); d != "" {
				t.Errorf("%s tarball:\n%s", arch, d)
			}
			if !slices.IsSortedFunc(entries, func(a, b *tar.Header) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("%s tarball: entries not sorted by name", arch)
			}
		}
	})

	t.Run("programs", func(t *testing.T) {
		for _, arch := range arches {
			bin := filepath.Join(t.TempDir(), "bin")
			command(t, nil, "sh", "-c", `mkdir "$1" && tar -xzf "$2" -C "$1" --strip-components=2 --wildcards '*/bin/*'`, "sh",
				bin, filepath.Join(dist, "clbcert_"+version+"_linux_"+arch+".tar.gz"))
			if got := dirNames(t, bin); !slices.Equal(got, names) {
				t.Errorf("%s: programs %q, want every command under hooks/: %q", arch, got, names)
			}
			for _, b := range names {
				checkProgram(t, filepath.Join(bin, b), arch, root)
			}
		}
	})

	t.Run("deb fields and contents", func(t *testing.T) {
		for _, arch := range arches {
			deb := filepath.Join(dist, "clbcert_"+version+"_"+arch+".deb")
			info := command(t, nil, "dpkg-deb", "--info", deb)
			for _, re := range []string{
				`(?m)^ Package: clbcert$`, `(?m)^ Version: ` + regexp.QuoteMeta(version) + `$`,
				`(?m)^ Architecture: ` + arch + `$`, `(?m)^ Recommends: certbot$`, `(?m)^ Installed-Size: [1-9][0-9]*$`,
				`(?m)^ Maintainer: .+ <.+@.+>$`, `(?m)^ Description: .+\n  \S`,
				`(?m)^ +[0-9]+ bytes, +[0-9]+ lines +\* +postinst +#!/bin/sh$`,
				`(?m)^ +[0-9]+ bytes, +[0-9]+ lines +\* +prerm +#!/bin/sh$`,
				`(?m)^ +[0-9]+ bytes, +[0-9]+ lines +\* +postrm +#!/bin/sh$`,
			} {
				if !regexp.MustCompile(re).MatchString(info) {
					t.Errorf("%s: dpkg-deb --info has no /%s/:\n%s", arch, re, info)
				}
			}
			if regexp.MustCompile(`(?m)^ (Pre-)?Depends:`).MatchString(info) {
				t.Errorf("%s: the package depends on something; static programs need nothing:\n%s", arch, info)
			}
			// No conffiles: the config is postinst's to write, so that dpkg
			// never asks about it on an upgrade.
			members := command(t, nil, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -tf -`, "sh", deb)
			if want := "./\n./control\n./md5sums\n./postinst\n./postrm\n./prerm\n"; members != want {
				t.Errorf("%s: control members %q, want %q", arch, members, want)
			}

			contents := command(t, []string{"TZ=UTC"}, "dpkg-deb", "--contents", deb)
			stamp := time.Unix(sde, 0).UTC().Format("2006-01-02 15:04")
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(contents), "\n") {
				f := strings.Fields(l)
				if len(f) != 6 {
					t.Fatalf("%s: dpkg-deb --contents line %q", arch, l)
				}
				if f[1] != "root/root" || f[3]+" "+f[4] != stamp {
					t.Errorf("%s: %s: owner %s, time %s %s; want root/root and %s", arch, f[5], f[1], f[3], f[4], stamp)
				}
				got = append(got, f[5]+" "+f[0])
			}
			if d := installtest.DiffLines(got, debContents(names)); d != "" {
				t.Errorf("%s: dpkg-deb --contents:\n%s", arch, d)
			}
		}
	})

	// lintian's verdict is ours: an error or a warning fails, the rest is
	// shown. O: is a tag the package overrides (scripts/debian/lintian-overrides
	// says why).
	t.Run("lintian", func(t *testing.T) {
		for _, arch := range arches {
			deb := filepath.Join(dist, "clbcert_"+version+"_"+arch+".deb")
			out := command(t, nil, "lintian", "--allow-root", "--show-overrides", "--fail-on", "none", deb)
			var tags []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
					t.Errorf("lintian %s: %s", arch, l)
				}
				if l != "" && !strings.HasPrefix(l, "N: ") {
					tags = append(tags, l)
				}
			}
			t.Logf("lintian %s:\n%s", arch, strings.Join(tags, "\n"))
		}
	})

	t.Run("deb install, remove, purge", func(t *testing.T) {
		installDeb(t, filepath.Join(dist, "clbcert_"+version+"_"+hostArch(t)+".deb"), root, names)
	})

	t.Run("deb upgrade", func(t *testing.T) {
		deb := filepath.Join(dist, "clbcert_"+version+"_"+hostArch(t)+".deb")
		next := nextRelease(t, deb)
		t.Run("keeps the config and never asks", func(t *testing.T) {
			upgradeDeb(t, deb, next)
		})
		t.Run("from a release with the config a conffile", func(t *testing.T) {
			upgradeFromConffile(t, deb, next)
		})
	})

	t.Run("install.sh --from without go", func(t *testing.T) {
		installFrom(t, root, filepath.Join(dist, "clbcert_"+version+"_linux_"+hostArch(t)+".tar.gz"), names)
	})
}

// checkProgram checks a program for arch: static, stamped with the
// version, and free of what differs between two builds.
func checkProgram(t *testing.T, path, arch, root string) {
	t.Helper()
	name := filepath.Base(path)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != machine {
		t.Errorf("%s/%s: machine %s, want %s", arch, name, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s/%s: has %s: not a static program", arch, name, p.Type)
		}
	}
	for _, note := range []string{".note.go.buildid", ".note.gnu.build-id"} {
		if f.Section(note) != nil {
			t.Errorf("%s/%s: carries a build id (%s)", arch, name, note)
		}
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("%s/%s: %v", arch, name, err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux", "GOARCH": arch} {
		if settings[k] != v {
			t.Errorf("%s/%s: built with %s=%q, want %q", arch, name, k, settings[k], v)
		}
	}
	for k := range settings {
		if strings.HasPrefix(k, "vcs") {
			t.Errorf("%s/%s: carries the VCS stamp %s=%s", arch, name, k, settings[k])
		}
	}
	// -trimpath keeps -ldflags out of the build info: the stamp is looked
	// for in the program itself (and run below, where it can run).
	data := readFile(t, path)
	if !bytes.Contains(data, []byte(version)) {
		t.Errorf("%s/%s: not stamped with the version %s", arch, name, version)
	}
	for _, local := range []string{root, goEnv(t, "GOROOT"), goEnv(t, "GOMODCACHE")} {
		if bytes.Contains(data, []byte(local+"/")) {
			t.Errorf("%s/%s: contains the local path %s", arch, name, local)
		}
	}
	if arch == hostArch(t) {
		out, err := exec.Command(path, "--version").CombinedOutput()
		if err != nil || string(out) != name+" version "+version+"\n" {
			t.Errorf("%s --version: %v: %q, want %q", name, err, out, name+" version "+version+"\n")
		}
	}
}

// debContents is what dpkg-deb --contents lists, as "path mode" lines.
func debContents(names []string) []string {
	want := installtest.Tree{}
	for _, b := range names {
		want.File("usr/bin/"+b, 0o755)
		want.File("usr/share/man/man1/"+b+".1.gz", 0o644)
		want.File("usr/share/bash-completion/completions/"+b, 0o644)
		want.File("usr/share/zsh/vendor-completions/_"+b, 0o644)
	}
	want.File("lib/systemd/system/clbcert-watch.service", 0o644)
	want.File("usr/share/clbcert/config.toml", 0o644)
	for _, f := range []string{"copyright", "changelog.Debian.gz", "README.md.gz", "cam-policy.json"} {
		want.File("usr/share/doc/clbcert/"+f, 0o644)
	}
	want.File("usr/share/lintian/overrides/clbcert", 0o644)
	mode := func(n installtest.Node) string { return n.Mode.String() }
	return append([]string{"./ " + mode(installtest.Node{Mode: fs.ModeDir | 0o755})}, archiveListing(want, "./", mode)...)
}

// archiveListing lists a tree as tar and dpkg-deb do: "path mode" lines,
// each path after prefix, a directory's with a slash at its end.
func archiveListing(tree installtest.Tree, prefix string, mode func(installtest.Node) string) []string {
	var lines []string
	for _, p := range slices.Sorted(maps.Keys(tree)) {
		n := tree[p]
		if n.Mode.IsDir() {
			p += "/"
		}
		lines = append(lines, prefix+p+" "+mode(n))
	}
	return lines
}

// dpkgRoot is a throwaway root that dpkg --root installs into: the
// machine's own package database is never touched.
type dpkgRoot string

func newDpkgRoot(t *testing.T) dpkgRoot {
	t.Helper()
	r := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(r, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dpkgRoot(r)
}

// dpkg runs dpkg in the root with stdin /dev/null: no terminal, as for an
// upgrade from a script or config management, so a prompt fails it.
func (r dpkgRoot) dpkg(t *testing.T, args ...string) string {
	t.Helper()
	return command(t, nil, "dpkg", append([]string{"--root=" + string(r), "--force-script-chrootless", "--force-not-root", "--log=/dev/null"}, args...)...)
}

// query shows the fields in format of the installed clbcert.
func (r dpkgRoot) query(t *testing.T, format string) string {
	t.Helper()
	return strings.TrimSpace(command(t, nil, "dpkg-query", "--root="+string(r), "--showformat="+format, "--show", "clbcert"))
}

func (r dpkgRoot) path(p string) string { return filepath.Join(string(r), p) }

// installDeb installs the package into a throwaway root, then removes and
// purges it.
func installDeb(t *testing.T, deb, root string, names []string) {
	r := newDpkgRoot(t)
	before := installtest.Snapshot(t, string(r))
	dpkg := func(args ...string) string {
		t.Helper()
		return r.dpkg(t, args...)
	}
	status := func() string {
		t.Helper()
		return r.query(t, "${Status}")
	}
	path := r.path
	config, state := path("etc/clbcert/config.toml"), path("var/lib/clbcert")

	dpkg("--install", deb)
	if s := status(); s != "install ok installed" {
		t.Fatalf("after install: status %q", s)
	}
	for _, b := range names {
		out, err := exec.Command(path("usr/bin/"+b), "--version").CombinedOutput()
		if err != nil || string(out) != b+" version "+version+"\n" {
			t.Errorf("installed %s --version: %v: %q", b, err, out)
		}
	}
	if out, err := exec.Command(path("usr/bin/clbcert-deploy"), "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "clbcert-deploy") {
		t.Errorf("installed clbcert-deploy --help: %v\n%s", err, out)
	}
	wantMode(t, config, 0o600)
	wantMode(t, path("etc/clbcert"), fs.ModeDir|0o755)
	if got, want := readFile(t, config), readFile(t, filepath.Join(root, "scripts/install/config.toml")); !bytes.Equal(got, want) {
		t.Errorf("the first install wrote a config that is not scripts/install/config.toml:\n%s", got)
	}
	wantMode(t, state, fs.ModeDir|0o700)
	unit := string(readFile(t, path("lib/systemd/system/clbcert-watch.service")))
	if !regexp.MustCompile(`(?m)^ExecStart=/usr/bin/clbcert-watch$`).MatchString(unit) {
		t.Errorf("the unit does not start /usr/bin/clbcert-watch")
	}
	if _, err := os.Lstat(path("etc/systemd")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("installing enabled something in /etc/systemd: %v", err)
	}

	// The same package again: the maintainer scripts run as for an upgrade,
	// and leave the state and the config as they were.
	if err := os.WriteFile(filepath.Join(state, "record"), []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dpkg("--install", deb)
	wantMode(t, config, 0o600)
	wantMode(t, state, fs.ModeDir|0o700)
	if got := string(readFile(t, filepath.Join(state, "record"))); got != "kept\n" {
		t.Errorf("reinstalling changed the state: %q", got)
	}

	edited := append(readFile(t, config), []byte("regions = [\"ap-guangzhou\"]\n")...)
	if err := os.WriteFile(config, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("etc/clbcert/env"), []byte("TENCENTCLOUD_SECRET_ID=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dpkg("--remove", "clbcert")
	if s := status(); s != "deinstall ok config-files" {
		t.Errorf("after remove: status %q", s)
	}
	for _, b := range names {
		if _, err := os.Lstat(path("usr/bin/" + b)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after remove: /usr/bin/%s: %v", b, err)
		}
	}
	if got := readFile(t, config); !bytes.Equal(got, edited) {
		t.Errorf("remove did not keep the edited config:\n%s", got)
	}
	wantMode(t, config, 0o600)
	if got := string(readFile(t, filepath.Join(state, "record"))); got != "kept\n" {
		t.Errorf("remove changed the state: %q", got)
	}

	dpkg("--purge", "clbcert")
	if out, err := exec.Command("dpkg-query", "--root="+string(r), "--show", "clbcert").CombinedOutput(); err == nil {
		t.Errorf("after purge dpkg still knows the package: %s", out)
	}
	if _, err := os.Lstat(config); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after purge /etc/clbcert/config.toml: %v", err)
	}
	for p := range installtest.Snapshot(t, string(r)) {
		if _, ok := before[p]; !ok && !strings.HasPrefix(p, "var/lib/dpkg/") {
			t.Errorf("after purge %s remains", p)
		}
	}
}

// nextRelease rebuilds deb as a later release whose config skeleton offers
// one more setting.
func nextRelease(t *testing.T, deb string) string {
	t.Helper()
	return repack(t, deb, "0.0.1-test", func(dir string) {
		skeleton := filepath.Join(dir, "usr/share/clbcert/config.toml")
		writeFile(t, skeleton, append(readFile(t, skeleton), "# a setting of a later release\n"...), 0o644)
	})
}

// repack rebuilds deb as version, with change applied to the unpacked
// package (DEBIAN/ holds its control files) and the md5sums computed again
// as scripts/release.sh does. Uncompressed: xz took most of the test's time.
func repack(t *testing.T, deb, version string, change func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pkg")
	command(t, nil, "dpkg-deb", "--raw-extract", deb, dir)
	control := filepath.Join(dir, "DEBIAN/control")
	field := regexp.MustCompile(`(?m)^Version: .*$`)
	if !field.Match(readFile(t, control)) {
		t.Fatalf("%s: no Version field in its control file", deb)
	}
	writeFile(t, control, field.ReplaceAll(readFile(t, control), []byte("Version: "+version)), 0o644)
	change(dir)
	command(t, nil, "sh", "-c", `cd "$1" && find usr lib -type f | sort | xargs md5sum >DEBIAN/md5sums`, "sh", dir)
	out := filepath.Join(t.TempDir(), "clbcert_"+version+".deb")
	command(t, nil, "dpkg-deb", "--root-owner-group", "-Znone", "--build", dir, out)
	return out
}

// editConfig adds a setting to the installed config, as its admin does,
// and returns what the config then holds.
func editConfig(t *testing.T, r dpkgRoot) []byte {
	t.Helper()
	config := r.path("etc/clbcert/config.toml")
	edited := append(readFile(t, config), "regions = [\"ap-guangzhou\"]\n"...)
	writeFile(t, config, edited, 0o600)
	return edited
}

// wantInstalled checks that the package is configured at version with the
// config as the admin left it.
func wantInstalled(t *testing.T, r dpkgRoot, version string, config []byte) {
	t.Helper()
	if s := r.query(t, "${Status} ${Version}"); s != "install ok installed "+version {
		t.Errorf("status %q, want install ok installed %s", s, version)
	}
	path := r.path("etc/clbcert/config.toml")
	wantMode(t, path, 0o600)
	if got := readFile(t, path); !bytes.Equal(got, config) {
		t.Errorf("the admin's config changed:\n%s", got)
	}
}

// upgradeDeb upgrades from deb to next, whose skeleton differs, with an
// edited config: dpkg asked what to do when the config was a conffile,
// and failed without a terminal, the package left unconfigured.
func upgradeDeb(t *testing.T, deb, next string) {
	r := newDpkgRoot(t)
	r.dpkg(t, "--install", deb)
	edited := editConfig(t, r)
	r.dpkg(t, "--install", next)
	wantInstalled(t, r, "0.0.1-test", edited)
	if got := readFile(t, r.path("usr/share/clbcert/config.toml")); !bytes.HasSuffix(got, []byte("# a setting of a later release\n")) {
		t.Errorf("the upgrade did not install the later skeleton:\n%s", got)
	}

	// A config its admin deleted stays deleted, as a conffile did.
	if err := os.Remove(r.path("etc/clbcert/config.toml")); err != nil {
		t.Fatal(err)
	}
	r.dpkg(t, "--install", next)
	if _, err := os.Lstat(r.path("etc/clbcert/config.toml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an upgrade wrote the config its admin had deleted: %v", err)
	}
}

// upgradeFromConffile upgrades to deb and then next from a release that
// shipped the config at /etc as a conffile (made from deb, maintainer
// scripts and all: its postinst leaves alone the config it finds). dpkg
// keeps an edited one and remembers it as obsolete; purge removes it.
func upgradeFromConffile(t *testing.T, deb, next string) {
	old := repack(t, deb, "0.0.0~conffile", func(dir string) {
		if err := os.MkdirAll(filepath.Join(dir, "etc/clbcert"), 0o755); err != nil {
			t.Fatal(err)
		}
		skeleton := readFile(t, filepath.Join(dir, "usr/share/clbcert/config.toml"))
		writeFile(t, filepath.Join(dir, "etc/clbcert/config.toml"), skeleton, 0o600)
		if err := os.RemoveAll(filepath.Join(dir, "usr/share/clbcert")); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "DEBIAN/conffiles"), []byte("/etc/clbcert/config.toml\n"), 0o644)
	})
	r := newDpkgRoot(t)
	before := installtest.Snapshot(t, string(r))
	r.dpkg(t, "--install", old)
	if c := r.query(t, "${Conffiles}"); !strings.HasPrefix(c, "/etc/clbcert/config.toml ") {
		t.Fatalf("the old release's conffiles: %q, want /etc/clbcert/config.toml", c)
	}
	edited := editConfig(t, r)

	r.dpkg(t, "--install", deb)
	wantInstalled(t, r, version, edited)
	if c := r.query(t, "${Conffiles}"); !regexp.MustCompile(`^/etc/clbcert/config.toml [0-9a-f]{32} obsolete$`).MatchString(c) {
		t.Errorf("after the upgrade dpkg's conffiles: %q, want /etc/clbcert/config.toml obsolete", c)
	}
	r.dpkg(t, "--install", next)
	wantInstalled(t, r, "0.0.1-test", edited)

	r.dpkg(t, "--remove", "clbcert")
	if got := readFile(t, r.path("etc/clbcert/config.toml")); !bytes.Equal(got, edited) {
		t.Errorf("remove did not keep the edited config:\n%s", got)
	}
	r.dpkg(t, "--purge", "clbcert")
	for p := range installtest.Snapshot(t, string(r)) {
		if _, ok := before[p]; !ok && !strings.HasPrefix(p, "var/lib/dpkg/") {
			t.Errorf("after purge %s remains", p)
		}
	}
}

// installFrom runs install.sh --from the tarball into a destdir with a PATH
// without go and GO naming nothing, so that any build would fail.
func installFrom(t *testing.T, root, tarball string, names []string) {
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			continue
		}
		path = append(path, dir)
	}
	env := []string{"PATH=" + strings.Join(path, string(os.PathListSeparator)), "GO=" + filepath.Join(t.TempDir(), "no-go")}
	dest := t.TempDir()
	out := command(t, env, filepath.Join(root, "install.sh"), "--from", tarball, "--destdir", dest)
	if strings.Contains(out, "building") {
		t.Errorf("install.sh --from built something:\n%s", out)
	}
	want := installtest.Installed(names).Listing()
	if d := installtest.DiffLines(installtest.Snapshot(t, dest).Listing(), want); d != "" {
		t.Fatalf("install.sh --from installed:\n%s\nit said:\n%s", d, out)
	}
	for _, b := range names {
		got, err := exec.Command(filepath.Join(dest, "usr/local/bin", b), "--version").CombinedOutput()
		if err != nil || string(got) != b+" version "+version+"\n" {
			t.Errorf("%s --version: %v: %q: not the release's program", b, err, got)
		}
	}
	manifest := string(readFile(t, filepath.Join(dest, "usr/local/share/clbcert/install-manifest")))
	if !regexp.MustCompile(`(?m)^file [0-9a-f]{64} 0755 /usr/local/bin/clbcert-deploy$`).MatchString(manifest) {
		t.Errorf("the manifest does not list clbcert-deploy:\n%s", manifest)
	}

	again := command(t, env, filepath.Join(root, "install.sh"), "--from", tarball, "--destdir", dest)
	for _, l := range strings.Split(strings.TrimSpace(strings.Split(again, "\nNext steps:")[0]), "\n") {
		if !strings.HasPrefix(l, "installing ") && !strings.HasPrefix(l, "unchanged /") && !strings.HasPrefix(l, "kept "+dest+"/etc/clbcert/config.toml") {
			t.Errorf("second install.sh --from: %q", l)
		}
	}

	// The install.sh inside the unpacked tarball installs the same by itself.
	unpacked := t.TempDir()
	command(t, nil, "tar", "-xzf", tarball, "-C", unpacked)
	top := strings.TrimSuffix(filepath.Base(tarball), ".tar.gz")
	dest2 := t.TempDir()
	command(t, env, filepath.Join(unpacked, top, "install.sh"), "--destdir", dest2)
	if d := installtest.DiffLines(installtest.Snapshot(t, dest2).Listing(), want); d != "" {
		t.Errorf("the tarball's own install.sh installed:\n%s", d)
	}

	command(t, env, filepath.Join(root, "install.sh"), "--uninstall", "--destdir", dest)
	if left := installtest.Snapshot(t, dest); len(left) != 0 {
		t.Errorf("after --uninstall: %q remain", left.Listing())
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	v := strings.TrimSpace(command(t, nil, "go", "env", name))
	if v == "" {
		t.Fatalf("go env %s is empty", name)
	}
	return v
}

func hostArch(t *testing.T) string {
	t.Helper()
	arch := goEnv(t, "GOHOSTARCH")
	if !slices.Contains(arches, arch) {
		t.Skipf("this machine is %s: no release runs here", arch)
	}
	return arch
}

func wantMode(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if got := info.Mode() & (fs.ModeDir | fs.ModePerm); got != mode {
		t.Errorf("%s: mode %s, want %s", path, got, mode)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyTree copies the source tree without .git and dist.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if rel == ".git" || rel == "dist" {
			// In a worktree .git is a file: SkipDir on it would skip the
			// rest of the directory.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tarEntries reads the headers of a .tar.gz, in order.
func tarEntries(t *testing.T, path string) []*tar.Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, h)
	}
}

// tarDiff names the members of two tarballs that differ, to say where two
// runs went apart.
func tarDiff(t *testing.T, name string, a, b []byte) string {
	t.Helper()
	if !strings.HasSuffix(name, ".tar.gz") {
		return ""
	}
	members := func(data []byte) map[string]string {
		out := map[string]string{}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return out
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err != nil {
				return out
			}
			body, _ := io.ReadAll(tr)
			out[h.Name] = fmt.Sprintf("%o %d %d %s %x", h.Mode, h.Uid, h.Gid, h.ModTime.UTC(), body)
		}
	}
	ma, mb := members(a), members(b)
	var differ []string
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		if ma[k] != mb[k] {
			differ = append(differ, k)
		}
	}
	return fmt.Sprintf(": members that differ: %q", differ)
}
