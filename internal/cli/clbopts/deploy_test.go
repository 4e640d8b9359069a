package clbopts

import (
	"io"
	"os"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/pkg/deploy"
)

// deployOptions runs one command with the flags of clbcert-deploy, given
// args, and returns what Deploy makes of them for lineage.
func deployOptions(lineage string, args ...string) (deploy.Options, error) {
	flags := append(clbcli.CommonFlags(), clbcli.CertbotDirFlag(), &cli.IntFlag{Name: "keep"})
	flags = append(flags, clbcli.DeployFlags()...)
	var got deploy.Options
	act := func(c *cli.Context) error {
		s, err := clbcli.Resolve(c, io.Discard)
		if err != nil {
			return err
		}
		got, err = Deploy(c, s, lineage)
		return err
	}
	app := &cli.App{Name: "x", Commands: []*cli.Command{{Name: "op", Flags: flags, Action: act}}}
	err := app.Run(append([]string{"x", "op"}, args...))
	return got, err
}

func TestKeepZeroKeepsNone(t *testing.T) {
	file := configtest.Write(t, "[[deploy]]\nlineage = \"pinned.test\"\nkeep = 5\n", 0o600)
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
		got, err := deployOptions(tt.lineage, append([]string{"--config", file}, tt.args...)...)
		if err != nil || got.Keep != tt.want {
			t.Errorf("%s %v: keep %d, %v; want %d", tt.lineage, tt.args, got.Keep, err, tt.want)
		}
	}
	if _, err := deployOptions("example.test", "--config", file, "--keep", "-1"); clbcli.ExitCode(err) != 2 {
		t.Errorf("--keep -1: %v", err)
	}
}

// A [[deploy]] entry's regions win over the file's regions but not over
// --region or CLBCERT_REGIONS.
func TestDeployRegions(t *testing.T) {
	file := configtest.Write(t, "regions = [\"ap-file\"]\n\n[[deploy]]\nlineage = \"pinned.test\"\nregions = [\"ap-entry\"]\n", 0o600)
	tests := []struct {
		lineage, env string
		args         []string
		want         []string
	}{
		{"pinned.test", "", nil, []string{"ap-entry"}},
		{"other.test", "", nil, []string{"ap-file"}},
		{"pinned.test", "", []string{"--region", "ap-flag"}, []string{"ap-flag"}},
		{"pinned.test", "ap-env", nil, []string{"ap-env"}},
	}
	for _, tt := range tests {
		t.Setenv("CLBCERT_REGIONS", tt.env)
		if tt.env == "" {
			os.Unsetenv("CLBCERT_REGIONS")
		}
		got, err := deployOptions(tt.lineage, append([]string{"--config", file}, tt.args...)...)
		if err != nil || !slices.Equal(got.Regions, tt.want) {
			t.Errorf("%s env %q %v: regions %v, %v; want %v", tt.lineage, tt.env, tt.args, got.Regions, err, tt.want)
		}
	}
}
