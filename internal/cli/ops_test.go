package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/pkg/level"
)

// opsApp is one command with the flags of clbcert's operator commands; its
// action hands the context to act.
func opsApp(act func(c *cli.Context) error) *cli.App {
	flags := append(CommonFlags(), CertbotDirFlag(), &cli.IntFlag{Name: "keep"})
	flags = append(flags, DeployFlags()...)
	return &cli.App{Name: "x", Commands: []*cli.Command{{Name: "op", Flags: flags, Action: act}}}
}

func TestCertbotDirPrecedence(t *testing.T) {
	file := configtest.Write(t, "certbot_dir = \"/from/file\"\n", 0o600)
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

// Resolve reads --warn-days, --critical-days and --deploy-grace where the
// command has them, else the config file, and refuses days that cannot be;
// without days the lifetime rule judges. The read-only commands look in
// the regions given, or else in those the [[deploy]] entries deploy to.
func TestExpiryRuleAndRegionsOrDeployed(t *testing.T) {
	const deploys = "[[deploy]]\nlineage = \"a.test\"\nregions = [\"ap-shanghai\", \"ap-guangzhou\"]\n\n[[deploy]]\nlineage = \"b.test\"\nregions = [\"ap-guangzhou\", \"ap-beijing\"]\n"
	plain := configtest.Write(t, deploys, 0o600)
	withDays := configtest.Write(t, "warn_days = 20\ncritical_days = 5\ndeploy_grace = \"30m\"\n"+deploys, 0o600)
	all := []string{"ap-shanghai", "ap-guangzhou", "ap-beijing"}
	tests := []struct {
		file    string
		args    []string
		want    level.Rule
		regions []string
		code    int
		says    string
	}{
		{plain, nil, level.Rule{DeployGrace: time.Hour}, all, 0, ""},
		{plain, []string{"--warn-days", "10", "--critical-days", "10", "--region", "ap-hongkong"}, level.Rule{WarnDays: 10, CriticalDays: 10, DeployGrace: time.Hour}, []string{"ap-hongkong"}, 0, ""},
		{plain, []string{"--critical-days", "2"}, level.Rule{WarnDays: 30, CriticalDays: 2, DeployGrace: time.Hour}, all, 0, ""},
		{withDays, nil, level.Rule{WarnDays: 20, CriticalDays: 5, DeployGrace: 30 * time.Minute}, all, 0, ""},
		{withDays, []string{"--warn-days", "9", "--deploy-grace", "2h"}, level.Rule{WarnDays: 9, CriticalDays: 5, DeployGrace: 2 * time.Hour}, all, 0, ""},
		{plain, []string{"--warn-days", "3"}, level.Rule{}, nil, 2, "--warn-days at least --critical-days"},
		{plain, []string{"--critical-days", "0", "--warn-days", "4"}, level.Rule{}, nil, 2, "--warn-days at least --critical-days"},
		{plain, []string{"--deploy-grace", "0s"}, level.Rule{}, nil, 2, "--deploy-grace 0s"},
	}
	for _, tt := range tests {
		var got *Settings
		flags := append(CommonFlags(), RegionFlag(), JSONFlag(), DeployGraceFlag())
		app := &cli.App{Name: "x", Commands: []*cli.Command{{Name: "status", Flags: append(flags, ExpiryFlags()...), Action: func(c *cli.Context) error {
			var err error
			got, err = Resolve(c, io.Discard)
			return err
		}}}}
		err := app.Run(append([]string{"x", "status", "--config", tt.file}, tt.args...))
		if code := ExitCode(err); code != tt.code {
			t.Errorf("%v: exit %d (%v), want %d", tt.args, code, err, tt.code)
			continue
		}
		if tt.code != 0 {
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%v: %v, want it to say %q", tt.args, err, tt.says)
			}
			continue
		}
		if got.Rule != tt.want || !slices.Equal(got.RegionsOrDeployed(), tt.regions) {
			t.Errorf("%v: rule %+v, regions %v; want %+v, %v", tt.args, got.Rule, got.RegionsOrDeployed(), tt.want, tt.regions)
		}
	}
}
