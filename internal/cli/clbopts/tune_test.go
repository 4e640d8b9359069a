package clbopts

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/tune"
)

// tuneSettings runs a one-command app with the tune flags and config file
// body, and returns its tune settings.
func tuneSettings(t *testing.T, body string, args ...string) (tune.Settings, error) {
	t.Helper()
	t.Setenv("CLBCERT_CONFIG", configtest.Write(t, body, 0o600))
	var got tune.Settings
	app := &cli.App{Commands: []*cli.Command{{
		Name:  "tune",
		Flags: append(clbcli.CommonFlags(), TuneFlags()...),
		Action: func(c *cli.Context) error {
			s, err := clbcli.Resolve(c, io.Discard)
			if err != nil {
				return err
			}
			got, err = Tune(c, s)
			return err
		},
	}}}
	err := app.Run(append([]string{"x", "tune"}, args...))
	return got, err
}

func TestTuneSettings(t *testing.T) {
	file := `
[tune]
scheduler = "IP_HASH"
session_persistence = 600
health_check = true
health_check_path = "/from-file"
health_check_interval = 20
healthy_threshold = 2
health_check_http_codes = ["2xx", "3xx"]
tls_protocols = ["TLSv1.2"]
`
	tests := []struct {
		name string
		body string
		args []string
		want string // the settings as JSON
	}{
		{"nothing", "", nil, `{"healthCheck":{}}`},
		{"the file's", file, nil,
			`{"scheduler":"IP_HASH","sessionExpireTime":600,"healthCheck":{"on":true,"path":"/from-file","interval":20,"healthyThreshold":2,"httpCodes":6},"tlsProtocols":["TLSv1.2"]}`},
		{"flags win", file, []string{"--scheduler", "wrr", "--session-persistence", "off", "--health-check", "off", "--health-check-path", "/healthz",
			"--health-check-interval", "1m", "--health-check-timeout", "5s", "--unhealthy-threshold", "3", "--health-check-http-codes", "16", "--tls-protocols", "TLSv1.2, TLSv1.3", "--health-check-type", "http"},
			`{"scheduler":"WRR","sessionExpireTime":0,"healthCheck":{"on":false,"type":"HTTP","path":"/healthz","interval":60,"timeout":5,"healthyThreshold":2,"unhealthyThreshold":3,"httpCodes":16},"tlsProtocols":["TLSv1.2","TLSv1.3"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tuneSettings(t, tt.body, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("settings %s\nwant     %s", b, tt.want)
			}
		})
	}
}

func TestTuneSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		args []string
		want string
	}{
		{"unparsable seconds", "", []string{"--health-check-interval", "half a minute"}, `--health-check-interval half a minute: give whole seconds`},
		{"fractional seconds", "", []string{"--health-check-timeout", "1.5s"}, `--health-check-timeout 1.5s: give whole seconds`},
		{"threshold not a number", "", []string{"--healthy-threshold", "two"}, `--healthy-threshold two: give a whole number`},
		{"out of range from a flag", "", []string{"--session-persistence", "5"}, `--session-persistence 5: give 0 (off) or 30-86400`},
		{"out of range from the file", "[tune]\nsession_persistence = 5\n", nil, `[tune] session_persistence = 5: give 0 (off) or 30-86400`},
		{"bad class from the file", "[tune]\nhealth_check_http_codes = [\"200\", \"3xx\"]\n", nil, `[tune] health_check_http_codes = 200,3xx: give status classes`},
		{"wrong type in the file", "[tune]\nhealth_check_interval = \"30s\"\n", nil, `health_check_interval`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tuneSettings(t, tt.body, tt.args...)
			var u clbcli.UsageError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &u) {
				t.Fatalf("error %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

// Every tune flag has its [tune] key in the config file, named as fileKey names it, and no
// key is without a flag.
func TestTuneFlagsAndFileKeysMatch(t *testing.T) {
	var flags, keys []string
	for _, f := range TuneFlags() {
		flags = append(flags, fileKey(f.Names()[0]))
	}
	table := reflect.TypeOf(config.TuneTable{})
	for i := range table.NumField() {
		keys = append(keys, table.Field(i).Tag.Get("toml"))
	}
	slices.Sort(flags)
	slices.Sort(keys)
	if !slices.Equal(flags, keys) {
		t.Errorf("flags as keys %v, [tune] keys %v", flags, keys)
	}
}
