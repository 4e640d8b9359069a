package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/deploy"
)

// opsApp is one command with the flags of clbcert's operator commands; its
// action hands the context to act.
func opsApp(act func(c *cli.Context) error) *cli.App {
	flags := append(CommonFlags(), CertbotDirFlag(), &cli.IntFlag{Name: "keep"})
	flags = append(flags, DeployFlags()...)
	return &cli.App{Name: "x", Commands: []*cli.Command{{Name: "op", Flags: flags, Action: act}}}
}

func TestKeepZeroKeepsNone(t *testing.T) {
	file := writeFile(t, "[[deploy]]\nlineage = \"pinned.test\"\nkeep = 5\n", 0o600)
	tests := []struct {
		lineage string
		args    []string
		want    int
	}{
		{"example.test", nil, 0}, // deploy's default
		{"example.test", []string{"--keep", "0"}, deploy.KeepNone},
		{"example.test", []string{"--keep", "3"}, 3},
		{"pinned.test", nil, 5},
		{"pinned.test", []string{"--keep", "0"}, deploy.KeepNone},
	}
	for _, tt := range tests {
		var got deploy.Options
		err := opsApp(func(c *cli.Context) error {
			s, err := Resolve(c, io.Discard)
			if err != nil {
				return err
			}
			got, err = s.DeployOptions(c, tt.lineage)
			return err
		}).Run(append([]string{"x", "op", "--config", file}, tt.args...))
		if err != nil || got.Keep != tt.want {
			t.Errorf("%s %v: keep %d, %v; want %d", tt.lineage, tt.args, got.Keep, err, tt.want)
		}
	}
	err := opsApp(func(c *cli.Context) error {
		s, err := Resolve(c, io.Discard)
		if err != nil {
			return err
		}
		_, err = s.DeployOptions(c, "example.test")
		return err
	}).Run([]string{"x", "op", "--config", file, "--keep", "-1"})
	if ExitCode(err) != 2 {
		t.Errorf("--keep -1: %v", err)
	}
}

func TestCertbotDirPrecedence(t *testing.T) {
	file := writeFile(t, "certbot_dir = \"/from/file\"\n", 0o600)
	for _, tt := range []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "/from/file"},
		{"/from/env", nil, "/from/env"},
		{"/from/env", []string{"--certbot-dir", "/from/flag"}, "/from/flag"},
	} {
		t.Setenv("CLBCERT_CERTBOT_DIR", tt.env)
		if tt.env == "" {
			os.Unsetenv("CLBCERT_CERTBOT_DIR")
		}
		var got string
		err := opsApp(func(c *cli.Context) error {
			s, err := Resolve(c, io.Discard)
			if s != nil {
				got = s.CertbotDir
			}
			return err
		}).Run(append([]string{"x", "op", "--config", file}, tt.args...))
		if err != nil || got != tt.want {
			t.Errorf("env %q, args %v: %q, %v; want %q", tt.env, tt.args, got, err, tt.want)
		}
	}
}

// An ExitStatus is the exit status, with nothing on stderr: the command
// has said what it found.
func TestExitStatusIsQuiet(t *testing.T) {
	for _, code := range []int{1, 2, 3} {
		var stderr bytes.Buffer
		got := Run(opsApp(func(*cli.Context) error { return fmt.Errorf("checked: %w", ExitStatus(code)) }), []string{"x", "op"}, &stderr)
		if got != code || stderr.Len() != 0 {
			t.Errorf("ExitStatus(%d): exit %d, stderr %q", code, got, stderr.String())
		}
	}
}

// Resolve reads --warn-days and --critical-days where the command has
// them, and refuses days that cannot be; the read-only commands look in
// the regions given, or else in those the [[deploy]] entries deploy to.
func TestExpiryDaysAndRegionsOrDeployed(t *testing.T) {
	file := writeFile(t, "[[deploy]]\nlineage = \"a.test\"\nregions = [\"ap-shanghai\", \"ap-guangzhou\"]\n\n[[deploy]]\nlineage = \"b.test\"\nregions = [\"ap-guangzhou\", \"ap-beijing\"]\n", 0o600)
	tests := []struct {
		args       []string
		warn, crit int
		regions    []string
		code       int
	}{
		{nil, 30, 7, []string{"ap-shanghai", "ap-guangzhou", "ap-beijing"}, 0},
		{[]string{"--warn-days", "10", "--critical-days", "10", "--region", "ap-hongkong"}, 10, 10, []string{"ap-hongkong"}, 0},
		{[]string{"--warn-days", "3"}, 0, 0, nil, 2},
		{[]string{"--critical-days", "0"}, 0, 0, nil, 2},
	}
	for _, tt := range tests {
		var got *Settings
		flags := append(CommonFlags(), RegionFlag(), JSONFlag())
		app := &cli.App{Name: "x", Commands: []*cli.Command{{Name: "status", Flags: append(flags, ExpiryFlags()...), Action: func(c *cli.Context) error {
			var err error
			got, err = Resolve(c, io.Discard)
			return err
		}}}}
		err := app.Run(append([]string{"x", "status", "--config", file}, tt.args...))
		if code := ExitCode(err); code != tt.code {
			t.Errorf("%v: exit %d (%v), want %d", tt.args, code, err, tt.code)
			continue
		}
		if tt.code != 0 {
			if !strings.Contains(err.Error(), "--warn-days at least --critical-days") {
				t.Errorf("%v: %v", tt.args, err)
			}
			continue
		}
		if got.WarnDays != tt.warn || got.CriticalDays != tt.crit || !slices.Equal(got.RegionsOrDeployed(), tt.regions) {
			t.Errorf("%v: warn %d, critical %d, regions %v; want %d, %d, %v", tt.args, got.WarnDays, got.CriticalDays, got.RegionsOrDeployed(), tt.warn, tt.crit, tt.regions)
		}
	}
}
