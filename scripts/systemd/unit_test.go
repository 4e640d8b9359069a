// Package systemd tests clbcert-watch.service, the watcher's unit, which
// install.sh and the Debian package install.
package systemd

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// setting is one Key=Value line of the unit.
type setting struct {
	section, key, value string
	line                int
}

func readUnit(t *testing.T) (header []string, settings []setting) {
	t.Helper()
	f, err := os.Open("clbcert-watch.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section := ""
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case section == "" && strings.HasPrefix(l, "#"):
			header = append(header, l)
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			section = strings.Trim(l, "[]")
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("clbcert-watch.service:%d: %q is not Key=Value", n, l)
			}
			settings = append(settings, setting{section, k, v, n})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return header, settings
}

// The watcher starts on a machine where certbot has not run yet, and waits
// for its config dir: systemd must not refuse to set up the sandbox for a
// path that does not exist (yet), which only a "-" before it allows.
func TestUnitStartsBeforeCertbot(t *testing.T) {
	_, settings := readUnit(t)
	paths := map[string]bool{"ReadOnlyPaths": true, "ReadWritePaths": true, "InaccessiblePaths": true, "ExecPaths": true,
		"NoExecPaths": true, "BindPaths": true, "BindReadOnlyPaths": true, "EnvironmentFile": true}
	seen := 0
	for _, s := range settings {
		if !paths[s.key] {
			continue
		}
		for _, p := range strings.Fields(s.value) {
			seen++
			if !strings.HasPrefix(strings.TrimPrefix(p, "+"), "-") {
				t.Errorf("clbcert-watch.service:%d: %s=%s: without a \"-\" before %s systemd refuses to start the watcher where it does not exist",
					s.line, s.key, s.value, p)
			}
		}
	}
	if seen == 0 {
		t.Fatal("the unit names no sandbox path or environment file: is this the watcher's unit?")
	}
}

// The config file's certbot_dir and state_dir are the watcher's as they are
// certbot's hooks': a CLBCERT_ variable set by the unit would win over the
// config file for the watcher alone, which would then watch another
// certbot dir, or keep another state (and take other locks), than the hooks.
func TestUnitLeavesSettingsToConfigFile(t *testing.T) {
	_, settings := readUnit(t)
	for _, s := range settings {
		if s.key != "Environment" {
			continue
		}
		for _, assignment := range strings.Fields(s.value) {
			if strings.HasPrefix(strings.Trim(assignment, `"`), "CLBCERT_") {
				t.Errorf("clbcert-watch.service:%d: Environment=%s overrides the config file for the watcher only", s.line, assignment)
			}
		}
	}
}

// The install steps in the unit's header work on a machine with systemd
// where nothing of clbcert is installed yet (no /etc/clbcert). systemctl
// is left out: it needs a running systemd.
func TestUnitHeaderInstall(t *testing.T) {
	header, _ := readUnit(t)
	var steps []string
	in := false
	for _, l := range header {
		switch {
		case l == "# Install:":
			in = true
		case in && strings.HasPrefix(l, "#   "):
			step := strings.TrimPrefix(l, "#   ")
			if !strings.HasPrefix(step, "#") && !strings.HasPrefix(step, "systemctl ") {
				steps = append(steps, step)
			}
		case in:
			in = false
		}
	}
	if len(steps) == 0 {
		t.Fatal("the unit's header has no install steps")
	}
	root := t.TempDir()
	for _, d := range []string{"usr/local/bin", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	unit, err := os.ReadFile("clbcert-watch.service")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"clbcert-watch": []byte("#!/bin/sh\n"), "clbcert-watch.service": unit} {
		if err := os.WriteFile(filepath.Join(work, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every absolute path but /dev/null goes under root.
	script := regexp.MustCompile(`(^|\s)/(usr|etc)/`).ReplaceAllString(strings.Join(steps, "\n"), `$1"$$ROOT"/$2/`)
	cmd := exec.Command("sh", "-eu", "-c", script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the unit's install steps:\n%s\nfailed: %v\n%s", script, err, out)
	}
	for p, mode := range map[string]fs.FileMode{"usr/local/bin/clbcert-watch": 0o755, "etc/systemd/system/clbcert-watch.service": 0o644, "etc/clbcert/env": 0o600} {
		info, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Errorf("after the install steps: %v", err)
			continue
		}
		if info.Mode().Perm() != mode {
			t.Errorf("after the install steps: /%s has mode %s, want %s", p, info.Mode().Perm(), mode)
		}
	}
	env, err := os.ReadFile(filepath.Join(root, "etc/clbcert/env"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^TENCENTCLOUD_SECRET_ID=.*\nTENCENTCLOUD_SECRET_KEY=`).Match(env) {
		t.Errorf("/etc/clbcert/env after the install steps:\n%s", env)
	}
}
